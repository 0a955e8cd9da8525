// CVE-2019-5736: a container process must never get a writable handle on the
// runtime's binary. Every process the runtime puts into a container (the
// init, an exec'd child) is a fork of the runtime until its execve, so its
// /proc/<pid>/exe is the runtime's binary; and an image whose entrypoint is
// "#!/proc/self/exe" makes the kernel execute the runtime binary itself as
// the container's process. Either way the container can open that magic
// link (O_PATH), wait for the runtime to exit, and reopen it for writing —
// overwriting the host's berth-runtime.
//
// The defence: the runtime runs from a view of its binary that cannot be
// written, so /proc/<pid>/exe leads nowhere writable:
//   1. a detached read-only bind mount of the binary (open_tree +
//      mount_setattr; no mount event, nothing in any mount table), then
//      execveat() of it. Reopening /proc/<pid>/exe for writing gives EROFS,
//      and the mount belongs to the host's user namespace, so a container
//      cannot remount or clone it writable. Costs one execve (~1 ms); no copy.
//   2. without the privilege for (1) (rootless): a sealed memfd copy
//      (F_SEAL_WRITE), as crun and youki do; costs a copy of the binary.
// runc ≥ 1.2 uses an overlayfs variant of (1); overlayfs refuses a single
// lower layer without an upper one, and a plain read-only bind is as safe
// here, since only the host can change a mount it owns.
#pragma once

#include "common/error.hpp"

namespace berth::linuxf {

// True when this process runs from a sealed memfd or a read-only mount.
bool exe_is_sealed();

// Unless exe_is_sealed() (or this process is the re-executed copy already),
// re-executes argv with the same environment from a read-only view of the
// binary; does not return then. Returns an error only when neither way
// worked.
Result<> reexec_sealed(char **argv);

} // namespace berth::linuxf
