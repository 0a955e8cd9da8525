// What a push sends, worked out from the store alone (no registry): the
// documents, children of an index before the index, and the blobs they name,
// each once; and the repositories of the same registry a blob may be mounted
// from. Kept apart from push.cpp so that it is testable without a Client.
#pragma once

#include "common/error.hpp"
#include "image/images.hpp"
#include "image/store.hpp"
#include "oci/image.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"

#include <string>
#include <vector>

namespace berth::registry {

struct PushPlan {
  // Manifests and indexes as stored (their bytes are what their digests
  // are of): an index's children first, the target last.
  std::vector<Document> documents;
  // Configs and layers, each once, in the order the documents name them.
  std::vector<oci::Descriptor> blobs;
  // Children of an index the store does not have: pushable only when the
  // registry has them already.
  std::vector<oci::Descriptor> absent;
};

// Reads target (a manifest or an index) and what it names from s. Errors
// for a blob the store lacks, naming it, its manifest and image (a label
// for messages: the image's name or digest).
Result<PushPlan> plan_push(const image::Store &s, const oci::Descriptor &target, const std::string &image);

// The repositories of dest's registry that img is known in, other than
// dest's own: from its repo digests (where it was pulled from or pushed to:
// most likely to have its blobs) first, then its names. Each once.
std::vector<std::string> mount_candidates(const image::Image &img, const oci::Reference &dest);

// A layer that registries are not given (Docker's foreign layers, OCI's
// non-distributable ones): fetched from its urls instead.
bool non_distributable(const oci::Descriptor &d);

} // namespace berth::registry
