#include "linux/capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace berth::linuxf {

namespace {

// Indexed by capability number; capabilities(7) as of Linux 5.9 (the last
// addition). A kernel knowing more reports it in cap_last_cap; we cannot name
// those, so configs cannot ask for them.
constexpr std::array<const char *, 41> kNames = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
static_assert(kNames.size() == CAP_LAST_CAP + 1, "name table out of date with <linux/capability.h>");

// Reads /proc/sys/kernel/cap_last_cap with a stack buffer: the first call may
// happen in the child between clone and exec.
int read_cap_last_cap() {
  int fd = ::open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    int v = 0;
    bool ok = n > 0;
    for (ssize_t i = 0; ok && i < n && buf[i] != '\n'; ++i) {
      if (buf[i] < '0' || buf[i] > '9') ok = false;
      else v = v * 10 + (buf[i] - '0');
    }
    if (ok && v < 64) return v;
  }
  // No /proc (or garbage): probe the bounding set, which answers EINVAL past
  // the last capability.
  int c = 0;
  while (c < 63 && ::prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0) ++c;
  return c;
}

std::string quoted(std::string_view s) {
  std::string r = "\"";
  r += s;
  r += '"';
  return r;
}


std::string name_or_number(int cap) {
  const char *n = cap_name(cap);
  return n ? std::string(n) : "capability " + std::to_string(cap);
}

} // namespace

Result<int> cap_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (name == kNames[i]) return static_cast<int>(i);
  return fail_msg("unknown capability " + quoted(name));
}

const char *cap_name(int cap) {
  if (cap < 0 || static_cast<size_t>(cap) >= kNames.size()) return nullptr;
  return kNames[static_cast<size_t>(cap)];
}

int cap_last_cap() {
  static std::atomic<int> cached{-1};
  int v = cached.load(std::memory_order_relaxed);
  if (v < 0) {
    v = read_cap_last_cap();
    cached.store(v, std::memory_order_relaxed);
  }
  return v;
}

Result<CapSets> resolve_caps(const oci::Capabilities &caps, std::vector<std::string> &warnings) {
  return resolve_caps(caps, cap_last_cap(), warnings);
}

Result<CapSets> resolve_caps(const oci::Capabilities &caps, int last,
                             std::vector<std::string> &warnings) {
  CapSets out;
  uint64_t warned = 0; // one warning per capability, not per set
  struct Set {
    const char *field;
    const std::vector<std::string> *names;
    uint64_t *bits;
  };
  const Set sets[] = {
      {"bounding", &caps.bounding, &out.bounding},
      {"effective", &caps.effective, &out.effective},
      {"permitted", &caps.permitted, &out.permitted},
      {"inheritable", &caps.inheritable, &out.inheritable},
      {"ambient", &caps.ambient, &out.ambient},
  };
  for (const Set &s : sets) {
    for (const std::string &name : *s.names) {
      auto cap = cap_from_name(name);
      if (!cap) return ctx(std::move(cap).error(), std::string("process.capabilities.") + s.field);
      const uint64_t bit = uint64_t{1} << *cap;
      if (*cap > last) {
        if (!(warned & bit))
          warnings.push_back("capability " + name + " is not supported by this kernel, skipped");
        warned |= bit;
        continue;
      }
      *s.bits |= bit;
    }
  }
  // The kernel raises an ambient capability only if it is also permitted and
  // inheritable. runc and crun drop the others with a warning (runc 1.1's
  // `spec` even writes such an ambient set): so do we, here, where it can be said.
  if (uint64_t lost = out.ambient & ~(out.permitted & out.inheritable)) {
    for (int c = 0; c <= last; ++c)
      if (lost & (uint64_t{1} << c))
        warnings.push_back("process.capabilities.ambient: " + name_or_number(c) +
                           " is not both permitted and inheritable, so it cannot be raised; skipped");
    out.ambient &= ~lost;
  }
  return out;
}

Result<> apply_bounding(const CapSets &sets) {
  const int last = cap_last_cap();
  for (int c = 0; c <= last; ++c) {
    if (sets.bounding & (uint64_t{1} << c)) continue;
    // Already gone: dropping again would only fail without CAP_SETPCAP.
    if (::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0) continue;
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
      int err = errno;
      return fail_hint(err, "drop " + name_or_number(c) + " from the bounding set",
                       err == EPERM ? "needs CAP_SETPCAP" : nullptr);
    }
  }
  return {};
}

Result<> apply_caps(const CapSets &sets) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    const int shift = 32 * i;
    data[i].effective = static_cast<uint32_t>(sets.effective >> shift);
    data[i].permitted = static_cast<uint32_t>(sets.permitted >> shift);
    data[i].inheritable = static_cast<uint32_t>(sets.inheritable >> shift);
  }
  // Raw syscall: libcap's cap_set_proc allocates.
  if (::syscall(SYS_capset, &hdr, data) != 0) {
    int err = errno;
    return fail_hint(err, "capset",
                     err == EPERM ? "effective must be within permitted, and permitted and "
                                    "inheritable cannot grow beyond what the process holds"
                                  : nullptr);
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    // Kernels before 4.3 have no ambient set: fine unless one was asked for.
    if (errno != EINVAL || sets.ambient != 0) return fail_errno("clear the ambient capability set");
  }
  const int last = cap_last_cap();
  for (int c = 0; c <= last; ++c) {
    if (!(sets.ambient & (uint64_t{1} << c))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0) {
      int err = errno;
      return fail_hint(err, "raise ambient capability " + name_or_number(c),
                       err == EPERM ? "it must also be permitted and inheritable" : nullptr);
    }
  }
  return {};
}

} // namespace berth::linuxf
