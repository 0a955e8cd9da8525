// Layer snapshots: each layer unpacked once, into snapshots/<diff_id hex>/fs,
// in overlayfs form (see unpack.hpp). A layer is unpacked into
// snapshots/tmp-<random>/ and renamed into place only when its digest and
// diff_id have checked out, so a snapshot that exists is complete.
#pragma once

#include "image/images.hpp"
#include "image/store.hpp"
#include "image/stream.hpp"
#include "image/unpack.hpp"

#include <optional>
#include <string>
#include <vector>

namespace berth::image {

struct SnapshotInfo {
  oci::Digest diff_id;
  uint64_t size = 0, entries = 0; // unpacked bytes and tar entries
};

// Unpacks the layer blob unless its snapshot exists; with no diff_id given
// (import), it is learnt from the unpack. The blob is read from blob_fd
// (from its start) when given (a blob not yet in the store: load, import),
// else from the store. The caller holds the store's shared lock.
Result<SnapshotInfo> unpack_blob(const Store &s, const oci::Descriptor &layer,
                                 const std::optional<oci::Digest> &diff_id, int blob_fd = -1,
                                 const UnpackLimits &limits = {});

// The same, reading the layer's bytes from raw as they come (pull: from
// the download); raw's bytes are checked against layer.digest.
Result<SnapshotInfo> unpack_stream(const Store &s, const oci::Descriptor &layer,
                                   const std::optional<oci::Digest> &diff_id, Source &raw,
                                   const UnpackLimits &limits = {});

// Every layer of img unpacked, up to jobs at a time (0: one per CPU);
// returns the snapshot dirs, lowest layer first.
Result<std::vector<std::string>> ensure_snapshots(const Store &s, const Image &img, unsigned jobs = 0);

// What snapshots/<hex>/info.json says (size 0 when it is missing).
SnapshotInfo snapshot_info(const Store &s, const oci::Digest &diff_id);

} // namespace berth::image
