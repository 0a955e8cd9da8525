// pull: a reference's manifest (through an index, for a platform), its
// config and its layers into the image store. Layers are fetched several at
// a time, each one straight into the unpacker while it is written to the
// store: download, digest checks, decompression and unpacking overlap. What
// the store has is not fetched again. Nothing of a blob or manifest whose
// digest does not match enters the store.
#pragma once

#include "common/error.hpp"
#include "image/store.hpp"
#include "oci/image.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace berth::registry {

enum class LayerStatus { exists, waiting, downloading, unpacking, complete };

// A layer's progress, reported from the threads fetching it.
struct LayerEvent {
  size_t index = 0; // in the manifest
  oci::Digest digest;
  LayerStatus status = LayerStatus::waiting;
  uint64_t done = 0, total = 0; // bytes
};

struct PullOptions {
  oci::Platform platform;
  unsigned jobs = 3; // layers fetched at once
  // Called for each manifest fetched (the tag's first, then the platform's),
  // then for each layer's progress; from several threads.
  std::function<void(const Document &)> on_manifest;
  std::function<void(const LayerEvent &)> on_layer;
};

struct PullResult {
  std::string name;       // the full reference now naming the image
  oci::Digest digest;     // of what the reference resolved to (the repo digest)
  oci::Digest manifest;   // of the platform's manifest (the image in the store)
  bool fetched = false;   // anything was downloaded
};

Result<PullResult> pull(const image::Store &s, Client &c, const oci::Reference &ref, const PullOptions &opts);

} // namespace berth::registry
