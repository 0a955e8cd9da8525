#include "common/syscalls.hpp"

#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

namespace berth::sys {

pid_t clone3(uint64_t flags, int exit_signal, int cgroup_fd, int *pidfd) {
  struct clone_args args = {};
  args.flags = flags;
  args.exit_signal = uint64_t(exit_signal);
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = uint64_t(cgroup_fd);
  }
  if (pidfd) args.pidfd = uint64_t(uintptr_t(pidfd));
  return pid_t(::syscall(SYS_clone3, &args, sizeof args));
}

int openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return int(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

int pidfd_open(pid_t pid, unsigned flags) { return int(::syscall(SYS_pidfd_open, pid, flags)); }

int pidfd_send_signal(int pidfd, int sig) {
  return int(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

int pivot_root(const char *new_root, const char *put_old) {
  return int(::syscall(SYS_pivot_root, new_root, put_old));
}

} // namespace berth::sys
