// push: an image of the store to a registry. Blobs the repository has are
// skipped (HEAD); a blob another repository of the same registry has (one
// the image was pulled from or pushed to) is mounted from there; the rest
// are uploaded, several at once, monolithic or in chunks. Then the
// manifest (and, for an index, each platform's manifest first) under the tag.
#pragma once

#include "common/error.hpp"
#include "image/images.hpp"
#include "image/store.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace berth::registry {

enum class BlobStatus { preparing, exists, mounted, uploading, pushed };

struct BlobEvent {
  oci::Digest digest;
  BlobStatus status = BlobStatus::preparing;
  uint64_t done = 0, total = 0;
  std::string from; // mounted: the repository it came from
};

struct PushOptions {
  uint64_t chunk = 0; // bytes per PATCH; 0: one PUT per blob
  unsigned jobs = 3;  // blobs uploaded at once
  std::function<void(const BlobEvent &)> on_blob; // from several threads
};

struct PushResult {
  oci::Digest digest; // of the manifest (or index) pushed
  uint64_t size = 0;  // its bytes
};

// Pushes img (found in s) as dest (a tag; berth push refuses a digest, as
// docker does, but a digest reference pushes by digest here); records
// dest's repo digest on the image's entries (Store::add_repo_digest).
// Errors say which step failed on what; the caller adds "push NAME".
Result<PushResult> push(const image::Store &s, Client &c, const image::Image &img, const oci::Reference &dest,
                        const PushOptions &opts);

} // namespace berth::registry
