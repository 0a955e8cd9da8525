// The default seccomp profile. The allow-list is Docker's default profile
// (moby profiles/seccomp/default.json) in substance — the same syscalls are
// allowed and the same conditions apply — written here as our own table,
// grouped by what the calls are for so that a change is easy to review.
//
// What it keeps out without the matching capability: new namespaces (clone
// flags, unshare, setns), mounts, keyrings (keyctl, add_key, request_key: not
// namespaced), kernel modules, BPF, perf, ptrace of other processes on old
// kernels, clock setting, reboot, swap, quotas, kexec, userfaultfd, AF_VSOCK
// sockets, and odd personalities (only Linux, Linux32 and UNAME26 pass).
#include "oci/default_seccomp.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <initializer_list>
#include <optional>

namespace berth::oci {

namespace {

using Names = std::initializer_list<const char *>;

// Everything the container may call whatever its capabilities (the kernel's
// own permission checks still apply: chown needs CAP_CHOWN, and so on).
const Names kFiles = {
    "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod",
    "fchmodat", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32",
    "creat", "open", "openat", "openat2", "close", "close_range", "dup", "dup2", "dup3",
    "fcntl", "fcntl64", "flock", "link", "linkat", "symlink", "symlinkat", "unlink",
    "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "mknod",
    "mknodat", "readlink", "readlinkat", "truncate", "truncate64", "ftruncate",
    "ftruncate64", "umask", "utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
    "name_to_handle_at", "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64",
    "fstatat64", "newfstatat", "statx", "statfs", "statfs64", "fstatfs", "fstatfs64",
    "getdents", "getdents64",
    // extended attributes
    "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr",
    "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
};

const Names kIo = {
    "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev",
    "pwritev2", "lseek", "_llseek", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
    "copy_file_range", "fallocate", "fadvise64", "fadvise64_64", "readahead", "sync",
    "syncfs", "fsync", "fdatasync", "sync_file_range", "ioctl",
    // waiting for events
    "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait",
    "epoll_wait_old", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "inotify_init",
    "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark", "signalfd",
    "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "pipe", "pipe2",
    // asynchronous I/O
    "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "io_uring_setup", "io_uring_enter", "io_uring_register",
};

const Names kMemory = {
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
    "mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "membarrier",
    "memfd_create", "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect",
};

const Names kProcesses = {
    "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
    "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid", "kill",
    "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "process_mrelease", "prctl",
    "seccomp", "restart_syscall", "set_tid_address", "get_robust_list", "set_robust_list",
    "futex", "futex_time64", "futex_waitv", "rseq", "get_thread_area", "set_thread_area",
    "getrandom", "uname", "sysinfo",
    // credentials
    "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid",
    "getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups",
    "getgroups32", "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32",
    "setregid", "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32",
    "setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32", "capget",
    "capset",
    // limits and scheduling
    "getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage", "getpriority",
    "setpriority", "ioprio_get", "ioprio_set", "sched_yield", "sched_getaffinity",
    "sched_setaffinity", "sched_getattr", "sched_setattr", "sched_getparam", "sched_setparam",
    "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "getcpu",
    // signals
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
    "sigaltstack", "sigprocmask", "sigreturn", "pause",
    // sandboxing themselves further
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
};

const Names kTime = {
    "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres",
    "clock_getres_time64", "clock_nanosleep", "clock_nanosleep_time64", "nanosleep",
    // reading (setting needs CAP_SYS_TIME in the kernel as well)
    "adjtimex", "clock_adjtime", "clock_adjtime64", "alarm", "getitimer", "setitimer", "times",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
    "timer_settime", "timer_settime64",
};

const Names kNetwork = {
    "socketpair", "socketcall", "bind", "connect", "listen", "accept", "accept4",
    "getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown", "send", "sendto",
    "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64",
};

// SysV and POSIX IPC: namespaced by the ipc namespace.
const Names kIpc = {
    "ipc", "msgget", "msgctl", "msgsnd", "msgrcv", "semget", "semctl", "semop", "semtimedop",
    "semtimedop_time64", "shmget", "shmctl", "shmat", "shmdt", "mq_open", "mq_unlink",
    "mq_getsetattr", "mq_notify", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
    "mq_timedreceive_time64",
};

// Allowed when the container holds the capability (the kernel checks it too;
// the filter shuts what would otherwise be reachable attack surface).
struct CapRule {
  const char *cap;
  Names names;
};
const CapRule kWithCap[] = {
    {"CAP_SYS_ADMIN",
     {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
      "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
      "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
      "umount2", "unshare"}},
    {"CAP_SYS_BOOT", {"reboot"}},
    {"CAP_SYS_CHROOT", {"chroot"}},
    {"CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}},
    {"CAP_SYS_PACCT", {"acct"}},
    {"CAP_SYS_PTRACE",
     {"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
      "process_madvise"}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
    {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
    {"CAP_SYS_NICE", {"get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "mbind"}},
    {"CAP_SYSLOG", {"syslog"}},
    {"CAP_BPF", {"bpf"}},
    {"CAP_PERFMON", {"perf_event_open"}},
    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
};

// Syscalls that exist (or are safe) on some architectures only.
struct ArchRule {
  Names arches;
  Names names;
};
const ArchRule kArchOnly[] = {
    {{"SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}, {"arch_prctl"}},
    {{"SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_X86"}, {"modify_ldt"}},
    {{"SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"},
     {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
      "cacheflush", "set_tls"}},
    {{"SCMP_ARCH_PPC64LE"}, {"sync_file_range2", "swapcontext"}},
    {{"SCMP_ARCH_S390", "SCMP_ARCH_S390X"},
     {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}},
    {{"SCMP_ARCH_RISCV64"}, {"riscv_flush_icache"}},
};

// The native architecture and the compat ones a 64-bit kernel also runs.
struct ArchFamily {
  const char *native;
  Names all;
};
const ArchFamily kArchFamilies[] = {
    {"SCMP_ARCH_X86_64", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
    {"SCMP_ARCH_AARCH64", {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}},
    {"SCMP_ARCH_MIPS64", {"SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}},
    {"SCMP_ARCH_MIPS64N32", {"SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}},
    {"SCMP_ARCH_MIPSEL64", {"SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}},
    {"SCMP_ARCH_MIPSEL64N32",
     {"SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}},
    {"SCMP_ARCH_S390X", {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"}},
};

// The clone flags that create namespaces (CLONE_NEWNS | NEWCGROUP | NEWUTS |
// NEWIPC | NEWUSER | NEWPID | NEWNET): clone must have none of them set
// without CAP_SYS_ADMIN.
constexpr uint64_t kNamespaceCloneFlags = 0x7E020000;

bool has(const std::vector<std::string> &v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool contains(Names list, std::string_view s) {
  return std::find_if(list.begin(), list.end(), [&](const char *x) { return s == x; }) != list.end();
}

SeccompSyscall allow(Names names) {
  SeccompSyscall s;
  s.names.assign(names.begin(), names.end());
  s.action = "SCMP_ACT_ALLOW";
  return s;
}

SeccompSyscall allow_if(const char *name, unsigned index, std::string op, uint64_t value,
                        uint64_t value_two = 0) {
  SeccompSyscall s = allow({name});
  s.args.push_back({index, value, value_two, std::move(op)});
  return s;
}

} // namespace

std::string native_seccomp_arch() {
#if defined(__x86_64__) && defined(__ILP32__)
  return "SCMP_ARCH_X32";
#elif defined(__x86_64__)
  return "SCMP_ARCH_X86_64";
#elif defined(__i386__)
  return "SCMP_ARCH_X86";
#elif defined(__aarch64__)
  return "SCMP_ARCH_AARCH64";
#elif defined(__arm__)
  return "SCMP_ARCH_ARM";
#elif defined(__s390x__)
  return "SCMP_ARCH_S390X";
#elif defined(__s390__)
  return "SCMP_ARCH_S390";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "SCMP_ARCH_PPC64LE";
#elif defined(__riscv) && __riscv_xlen == 64
  return "SCMP_ARCH_RISCV64";
#else
  return "";
#endif
}

Seccomp default_seccomp(const SeccompTarget &t) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = EPERM;

  if (!t.arch.empty()) {
    s.architectures = {t.arch};
    for (const ArchFamily &f : kArchFamilies)
      if (t.arch == f.native) s.architectures.assign(f.all.begin(), f.all.end());
  }

  SeccompSyscall base = allow({});
  for (Names group : {kFiles, kIo, kMemory, kProcesses, kTime, kNetwork, kIpc})
    base.names.insert(base.names.end(), group.begin(), group.end());
  s.syscalls.push_back(std::move(base));

  // ptrace could bypass seccomp before Linux 4.8.
  const bool known_kernel = t.kernel_major != 0 || t.kernel_minor != 0;
  if (!known_kernel || t.kernel_major > 4 || (t.kernel_major == 4 && t.kernel_minor >= 8))
    s.syscalls.push_back(allow({"ptrace", "process_vm_readv", "process_vm_writev"}));

  // Sockets of every family but AF_VSOCK (40): it reaches the hypervisor's host.
  s.syscalls.push_back(allow_if("socket", 0, "SCMP_CMP_NE", 40));
  // PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff.
  for (uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL})
    s.syscalls.push_back(allow_if("personality", 0, "SCMP_CMP_EQ", persona));

  for (const ArchRule &r : kArchOnly)
    if (contains(r.arches, t.arch)) s.syscalls.push_back(allow(r.names));

  for (const CapRule &r : kWithCap)
    if (has(t.capabilities, r.cap)) s.syscalls.push_back(allow(r.names));

  if (!has(t.capabilities, "CAP_SYS_ADMIN")) {
    // clone without namespace flags (threads, fork); s390 passes the flags
    // second. Masked compare: (flags & mask) == 0.
    const bool s390 = t.arch == "SCMP_ARCH_S390" || t.arch == "SCMP_ARCH_S390X";
    s.syscalls.push_back(allow_if("clone", s390 ? 1 : 0, "SCMP_CMP_MASKED_EQ", kNamespaceCloneFlags, 0));
    // clone3 passes its flags in memory, out of the filter's sight: ENOSYS
    // makes the C library fall back to clone, which the rule above checks.
    SeccompSyscall c3;
    c3.names = {"clone3"};
    c3.action = "SCMP_ACT_ERRNO";
    c3.errno_ret = ENOSYS;
    s.syscalls.push_back(std::move(c3));
  }
  return s;
}

nlohmann::ordered_json seccomp_to_json(const Seccomp &s) {
  using ojson = nlohmann::ordered_json;
  ojson j = {{"defaultAction", s.default_action}};
  if (s.default_errno_ret) j["defaultErrnoRet"] = *s.default_errno_ret;
  if (!s.architectures.empty()) j["architectures"] = s.architectures;
  if (!s.flags.empty()) j["flags"] = s.flags;
  if (!s.listener_path.empty()) j["listenerPath"] = s.listener_path;
  if (!s.listener_metadata.empty()) j["listenerMetadata"] = s.listener_metadata;
  ojson calls = ojson::array();
  for (const SeccompSyscall &c : s.syscalls) {
    ojson e = {{"names", c.names}, {"action", c.action}};
    if (c.errno_ret) e["errnoRet"] = *c.errno_ret;
    if (!c.args.empty()) {
      ojson args = ojson::array();
      for (const SeccompArg &a : c.args) {
        ojson aj = {{"index", a.index}, {"value", a.value}};
        if (a.value_two) aj["valueTwo"] = a.value_two;
        aj["op"] = a.op;
        args.push_back(std::move(aj));
      }
      e["args"] = std::move(args);
    }
    calls.push_back(std::move(e));
  }
  j["syscalls"] = std::move(calls);
  return j;
}

} // namespace berth::oci
