// Mounting one config.json mount inside the rootfs (before pivot_root).
#pragma once

#include "common/error.hpp"
#include "linux/rootfs.hpp"

namespace berth::linuxf {

Result<> mount_entry(int rootfd, const MountEntry &e, const RootfsPlan &plan);

// A mount of type "cgroup": the container's own cgroups, as runc lays them out.
Result<> mount_cgroup(int rootfd, const MountEntry &e, const RootfsPlan &plan);

// Remount an existing bind mount with flags, keeping flags the kernel locks
// (nosuid/nodev/noexec/atime of a mount from a more privileged namespace).
Result<> remount_bind(const std::string &target, unsigned long flags, const std::string &what);

// mount_setattr(AT_RECURSIVE) of the mount at fd.
Result<> set_mount_attr(int fd, uint64_t set, uint64_t clr, const std::string &what);

} // namespace berth::linuxf
