// Unpacking a layer tar into a directory, safely: every entry is created
// fd-relative under the target (openat2 RESOLVE_IN_ROOT for parents, O_EXCL
// / O_NOFOLLOW for the entry itself), so no name, symlink or hardlink in the
// tar can make berth write outside it. Names with ".." components or a
// leading "/" are refused; symlink targets are stored as given (they are
// resolved inside the container later).
//
// Whiteouts are kept in overlayfs form, so the directory is a snapshot that
// overlayfs stacks: ".wh.NAME" becomes a 0/0 character device NAME, and
// ".wh..wh..opq" sets trusted.overlay.opaque=y on its directory.
//
// Everything a layer carries is applied: regular files (sparse ones stay
// sparse), dirs, symlinks, hardlinks (within the layer), char and block
// devices, fifos; uid/gid, modes incl. setuid/setgid/sticky, mtimes (dirs
// last), xattrs incl. security.capability (set after chown, which clears it).
#pragma once

#include "common/error.hpp"
#include "image/stream.hpp"

#include <cstdint>
#include <string>

namespace berth::image {

// A tar bomb fails with an error naming the limit, in bounded memory.
struct UnpackLimits {
  uint64_t max_entries = 4'000'000;
  uint64_t max_entry_size = 1ull << 40; // 1 TiB declared in one header
  uint64_t max_total_size = 4ull << 40; // sum of declared sizes
  size_t max_path = 4095;               // bytes in an entry's name
  size_t max_depth = 512;               // components in an entry's name
  size_t max_xattrs_size = 1u << 20;    // all xattrs of one entry
};

struct UnpackStats {
  uint64_t entries = 0, bytes = 0;
};

// Reads a tar (uncompressed: see LayerStream) from tar and writes it into
// the empty directory dirfd. On error what was written stays for the caller
// to remove (it unpacks into a temp dir and renames it on success).
// what names the layer in errors: "layer sha256:ab12…: entry 'a/../b': ...".
Result<UnpackStats> unpack_layer(Source &tar, int dirfd, const std::string &what,
                                 const UnpackLimits &limits = {});

} // namespace berth::image
