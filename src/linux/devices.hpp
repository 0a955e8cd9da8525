// /dev inside the container: the default devices runtime-spec lists, the
// standard symlinks, linux.devices, and /dev/console for a terminal.
#pragma once

#include "common/error.hpp"
#include "linux/rootfs.hpp"

namespace berth::linuxf {

// Before pivot_root. With userns, devices are bind-mounted from the host
// (mknod is not allowed there), as runc does.
Result<> setup_dev(int rootfd, const RootfsPlan &plan);

// After pivot_root: bind the pty slave (an fd) onto /dev/console.
Result<> mount_console(int slave_fd);

} // namespace berth::linuxf
