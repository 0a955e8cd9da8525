// Garbage collection of the store: blobs no name reaches, snapshots no image
// or bundle uses, and what killed writers left (ingest/, snapshots/tmp-*).
#pragma once

#include "image/store.hpp"

#include <string>
#include <vector>

namespace berth::image {

// Takes the store's exclusive lock: waits for running loads and pulls.
Result<GcStats> collect_garbage(const Store &s);

struct PruneResult {
  std::vector<std::string> removed; // image ids ("sha256:…") untagged and deleted
  GcStats gc;
};

// `image prune`: removes untagged images (all: every image no bundle uses),
// then collects garbage.
Result<PruneResult> prune_images(const Store &s, bool all);

} // namespace berth::image
