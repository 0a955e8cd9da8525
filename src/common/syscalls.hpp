// Thin wrappers of system calls glibc 2.36 lacks or that we use in one way.
#pragma once

#include <linux/openat2.h>
#include <sys/types.h>

#include <cstdint>

namespace berth::sys {

// clone3 without a new stack: fork semantics (the child returns 0).
// cgroup_fd >= 0 adds CLONE_INTO_CGROUP. pidfd receives a pidfd when
// CLONE_PIDFD is in flags. Returns the pid, or -1 with errno.
pid_t clone3(uint64_t flags, int exit_signal, int cgroup_fd = -1, int *pidfd = nullptr);

int openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int pidfd_open(pid_t pid, unsigned flags = 0);
int pidfd_send_signal(int pidfd, int sig);
int pivot_root(const char *new_root, const char *put_old);

} // namespace berth::sys
