// The copy-based snapshot, for where overlayfs is not available (and for a
// bundle that must not hold a mount): the layer snapshots (overlay form,
// see unpack.hpp) copied bottom first into one directory, applying their
// whiteouts (0/0 char devices delete, trusted.overlay.opaque=y empties the
// directory below) as overlayfs would show them.
#pragma once

#include "common/error.hpp"

#include <span>

namespace berth::image {

// layers: O_DIRECTORY fds of the snapshot dirs, lowest first. target: an
// empty directory. Files are copied with copy_file_range (reflinks where
// the filesystem has them); owners, modes, times and xattrs are kept.
Result<> flatten_layers(std::span<const int> layers, int target);

} // namespace berth::image
