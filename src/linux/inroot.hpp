// Resolving paths inside a container's rootfs without ever leaving it:
// openat2(RESOLVE_IN_ROOT) treats the rootfs as "/" for every symlink and "..",
// so a rootfs that points a mount destination at /etc on the host cannot
// redirect the mount there (CVE-2021-30465 and relatives).
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <sys/types.h>

#include <string>

namespace berth::linuxf {

// O_PATH fd of path (absolute or relative, taken inside rootfd).
Result<UniqueFd> open_in_root(int rootfd, const std::string &path, int flags = O_PATH);
// The same without following any symlink on the way (ELOOP if one is met):
// for files the runtime relies on that the container could have swapped
// (/dev/null for masks, /dev/console; CVE-2025-31133, CVE-2025-52565).
Result<UniqueFd> open_in_root_nofollow(int rootfd, const std::string &path, int flags = O_PATH);

// Like open_in_root, creating what is missing: parent directories, and the
// last component as a directory (dir) or an empty file.
Result<UniqueFd> make_in_root(int rootfd, const std::string &path, bool dir, mode_t mode = 0755);

// "/proc/self/fd/N": a name for an fd that mount(2) and friends follow to
// exactly that file.
std::string fd_path(int fd);

} // namespace berth::linuxf
