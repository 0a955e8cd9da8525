// File operations shared by unpack and flatten: everything fd-relative, no
// symlink followed, errors saying which operation failed and why (the
// caller adds which layer and entry).
#pragma once

#include "common/error.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>

namespace berth::image::fsops {


// The file metadata is set on: fd when it is open (regular files, dirs),
// else name in dirfd (symlinks cannot be opened, fifos and devices must
// not be).
struct Target {
  int fd = -1;
  int dirfd = -1;
  const char *name = nullptr;
  mode_t type = 0; // S_IFREG, S_IFDIR, S_IFLNK, ...
};

// chown (which clears setuid/setgid and security.capability: set mode and
// xattrs after it).
Result<> set_owner(const Target &t, uid_t uid, gid_t gid);
// chmod with setuid/setgid/sticky; nothing for symlinks.
Result<> set_mode(const Target &t, mode_t perm);
// One xattr. What the filesystem does not support (ENOTSUP), and user.* on
// what the kernel allows it on only for files and dirs (EPERM), are skipped
// with a warning, as containerd does.
Result<> set_xattr(const Target &t, const std::string &key, const void *value, size_t size);
// atime and mtime.
Result<> set_times(const Target &t, const struct timespec ts[2]);

// trusted.overlay.*: overlayfs' own attributes. An image must not set them
// (redirects, metacopy); the opaque marker comes from ".wh..wh..opq" only.
inline bool is_overlay_xattr(std::string_view key) { return key.starts_with("trusted.overlay."); }

// "/proc/self/fd/<dirfd>/<name>": for the *xattr calls that have no *at form.
std::string proc_path(int dirfd, const char *name);

} // namespace berth::image::fsops
