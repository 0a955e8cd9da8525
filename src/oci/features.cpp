#include "oci/features.hpp"
#include "oci/state.hpp"

#include <nlohmann/json.hpp>

namespace berth::oci {

namespace {

using ojson = nlohmann::ordered_json;

// Options linux/mount_options understands, recursive (mount_setattr) ones included.
const char *const kMountOptions[] = {
    "async", "atime", "bind", "dev", "diratime", "dirsync", "exec", "idmap", "loud", "mand",
    "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime",
    "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime",
    "remount", "rexec", "ridmap", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime",
    "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw",
    "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared",
    "silent", "slave", "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable"};

// In kernel order (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40).
const char *const kCapabilities[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON",
    "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};

template <size_t N> ojson list(const char *const (&items)[N]) {
  ojson a = ojson::array();
  for (const char *s : items) a.push_back(s);
  return a;
}

ojson seccomp() {
  static const char *const actions[] = {
      "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
      "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"};
  static const char *const operators[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
                                          "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                          "SCMP_CMP_MASKED_EQ"};
  // The architectures libseccomp 2.5 (Debian 12) knows.
  static const char *const archs[] = {
      "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
      "SCMP_ARCH_AARCH64",  "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
      "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
      "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
      "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64"};
  static const char *const known_flags[] = {
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  // The filter is loaded with seccomp(2) itself, not libseccomp: every flag
  // the kernel has (WAIT_KILLABLE_RECV: Linux 5.19) is passed on.
  static const char *const supported_flags[] = {
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  return {{"enabled", true},           {"actions", list(actions)},
          {"operators", list(operators)}, {"archs", list(archs)},
          {"knownFlags", list(known_flags)}, {"supportedFlags", list(supported_flags)}};
}

} // namespace

std::string features_json() {
  static const char *const hooks[] = {"prestart",       "createRuntime", "createContainer",
                                      "startContainer", "poststart",     "poststop"};
  static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network",
                                           "pid",    "time", "user",  "uts"};
  ojson linux = {
      {"namespaces", list(namespaces)},
      {"capabilities", list(kCapabilities)},
      {"cgroup",
       {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", true}}},
      {"seccomp", seccomp()},
      // Compiled in (linux/lsm.cpp); whether the host has them is another matter.
      {"apparmor", {{"enabled", true}}},
      {"selinux", {{"enabled", true}}},
      {"intelRdt", {{"enabled", false}}},
      {"mountExtensions", {{"idmap", {{"enabled", true}}}}},
  };
  ojson doc = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", kSpecVersion},
      {"hooks", list(hooks)},
      {"mountOptions", list(kMountOptions)},
      {"linux", std::move(linux)},
      // Kept in step with the project version in CMakeLists.txt.
      {"annotations", {{"io.github.berth.runtime.version", "0.1.0"}}},
  };
  return doc.dump(2);
}

} // namespace berth::oci
