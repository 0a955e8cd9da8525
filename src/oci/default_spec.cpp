// default_spec_json: what `berth-runtime spec` writes. The structure follows
// `runc spec` (and `runc spec --rootless`), so that tools and tutorials that
// edit runc's template work on ours; the security settings are Docker's
// defaults: its capability set and its seccomp profile (default_seccomp.cpp).
#include "oci/default_seccomp.hpp"
#include "oci/spec_json.hpp"
#include "oci/state.hpp"

#include <nlohmann/json.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

namespace berth::oci {

namespace {

using ojson = nlohmann::ordered_json; // keeps runc's field order: readable diffs

ojson mount(const char *dest, const char *type, const char *source,
            std::vector<std::string> options) {
  ojson m = {{"destination", dest}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = std::move(options);
  return m;
}

ojson id_map(unsigned host_id) {
  return ojson::array({{{"containerID", 0}, {"hostID", host_id}, {"size", 1}}});
}

// Docker's default capability set (runc's template has only the last three).
const std::vector<std::string> kDefaultCaps = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",   "CAP_AUDIT_WRITE"};

// The seccomp profile resolved for those capabilities, this architecture and
// the running kernel.
ojson default_seccomp_json() {
  SeccompTarget t;
  t.capabilities = kDefaultCaps;
  t.arch = native_seccomp_arch();
  struct utsname u {};
  if (::uname(&u) == 0 && std::sscanf(u.release, "%u.%u", &t.kernel_major, &t.kernel_minor) != 2)
    t.kernel_major = t.kernel_minor = 0;
  return seccomp_to_json(default_seccomp(t));
}

} // namespace

std::string default_spec_json(bool rootless) {
  const std::vector<std::string> &caps = kDefaultCaps;
  ojson process = {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits", ojson::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
      {"noNewPrivileges", true},
  };

  // gid=5 (tty) is not mapped in a rootless user namespace.
  std::vector<std::string> pts = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
  if (!rootless) pts.push_back("gid=5");
  ojson mounts = ojson::array({
      mount("/proc", "proc", "proc", {}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", pts),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
  });
  if (rootless) {
    // sysfs cannot be mounted without owning the network namespace: bind the host's.
    mounts.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  } else {
    mounts.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
    mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup",
                           {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  }

  ojson linux = ojson::object();
  if (rootless) {
    // Map root in the container to the caller; cgroup limits need privileges
    // a rootless caller usually lacks, so no resources.
    linux["uidMappings"] = id_map(geteuid());
    linux["gidMappings"] = id_map(getegid());
  } else {
    linux["resources"] = {{"devices", ojson::array({{{"allow", false}, {"access", "rwm"}}})}};
  }
  ojson namespaces = ojson::array();
  for (const char *t : {"pid", "network", "ipc", "uts", "mount", "cgroup", "user"}) {
    std::string_view type = t;
    if ((type == "network" && rootless) || (type == "user" && !rootless)) continue;
    namespaces.push_back({{"type", t}});
  }
  linux["namespaces"] = std::move(namespaces);
  linux["maskedPaths"] = {"/proc/acpi",        "/proc/asound",
                          "/proc/kcore",       "/proc/keys",
                          "/proc/latency_stats", "/proc/timer_list",
                          "/proc/timer_stats", "/proc/sched_debug",
                          "/proc/scsi",        "/sys/firmware",
                          "/sys/devices/virtual/powercap"};
  linux["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                            "/proc/sysrq-trigger"};
  linux["seccomp"] = default_seccomp_json();

  ojson spec = {
      {"ociVersion", kSpecVersion},
      {"process", std::move(process)},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "berth"},
      {"mounts", std::move(mounts)},
      {"linux", std::move(linux)},
  };
  return spec.dump(2);
}

} // namespace berth::oci
