#include "runtime/container_plan.hpp"

#include "linux/idmap.hpp"
#include "linux/lsm.hpp"
#include "linux/namespaces.hpp"

#include <algorithm>

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>

namespace berth::runtime {

namespace {

// runc's checks of linux.sysctl against the namespaces the container has.
Result<> check_sysctl(const oci::Spec &spec) {
  if (!spec.linux_) return {};
  for (auto &[raw, value] : spec.linux_->sysctl) {
    std::string key = raw; // "net/ipv4/ip_forward" is the same key as "net.ipv4.ip_forward"
    for (char &c : key)
      if (c == '/') c = '.';
    auto need = [&](const char *ns, const char *why) -> Result<> {
      const oci::Namespace *n = spec.find_namespace(ns);
      if (!n || !n->path.empty())
        return fail_msg("linux.sysctl: " + key + " needs a new " + ns + " namespace (" + why + ")");
      return {};
    };
    if (key.rfind("net.", 0) == 0) TRY(need("network", "it would change the host's network"));
    else if (key.rfind("fs.mqueue.", 0) == 0 || (key.rfind("kernel.", 0) == 0 &&
             (key.rfind("kernel.msg", 0) == 0 || key.rfind("kernel.sem", 0) == 0 ||
              key.rfind("kernel.shm", 0) == 0)))
      TRY(need("ipc", "it would change the host's IPC limits"));
    else if (key == "kernel.hostname" || key == "kernel.domainname")
      TRY(need("uts", "it would change the host's name"));
    else
      return fail_msg("linux.sysctl: " + key + " is not namespaced: refusing to change it on the host");
  }
  return {};
}

} // namespace

Result<ContainerPlan> plan_container(oci::Spec spec, const std::string &bundle, const std::string &id,
                                     bool no_pivot, bool cgroupns_at_clone, const std::string &state_root) {
  ContainerPlan p;
  p.id = id;
  p.bundle = bundle;
  if (!spec.process) return fail_msg("process: required to create a container");
  if (!spec.linux_) spec.linux_.emplace();
  auto &l = *spec.linux_;

  // Parsed fields this runtime cannot apply yet: refused by name rather than
  // silently ignored.
  if (!l.net_devices.empty()) return fail_msg("linux.netDevices: moving network devices is not supported yet");
  if (l.intel_rdt) return fail_msg("linux.intelRdt: Intel RDT is not supported (no resctrl support)");
  if (l.memory_policy) return fail_msg("linux.memoryPolicy: NUMA memory policies are not supported yet");

  const oci::Namespace *mnt = spec.find_namespace("mount");
  if (!mnt || !mnt->path.empty())
    return fail_msg("linux.namespaces: a new mount namespace is required");

  for (size_t i = 0; i < l.namespaces.size(); i++) {
    const auto &n = l.namespaces[i];
    std::string field = "linux.namespaces[" + std::to_string(i) + "]";
    auto f = linuxf::namespace_flag(n.type);
    if (!f) return fail(f.error().with(field + ".type"));
    if (n.path.empty()) {
      if (*f == CLONE_NEWTIME) p.new_timens = true;
      else if (*f == CLONE_NEWCGROUP && !cgroupns_at_clone) p.unshare_cgroupns = true;
      else p.clone_flags |= uint64_t(*f);
      if (*f == CLONE_NEWUSER) p.userns = true;
      continue;
    }
    int fd = ::open(n.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(field + ".path: open " + n.path);
    UniqueFd nsfd(fd);
    int type = ::ioctl(fd, NS_GET_NSTYPE);
    if (type < 0) return fail_errno(field + ".path: " + n.path + " is not a namespace");
    if (type != *f)
      return fail_msg(field + ".path: " + n.path + " is a " +
                      linuxf::namespace_proc_name(type) + " namespace, not " + n.type);
    if (*f == CLONE_NEWPID) p.join_pid = std::move(nsfd);
    else p.joins.push_back({*f, n.path, std::move(nsfd)});
  }
  if (p.userns && !p.joins.empty()) p.joins_in_parent = true; // p.userns: a new one
  for (auto &j : p.joins)
    if (j.flag == CLONE_NEWUSER) p.join_userns = true;
  if (p.join_userns) {
    // setns(user) must come before every other join and before the unshare.
    std::stable_partition(p.joins.begin(), p.joins.end(), [](const NsJoin &j) { return j.flag == CLONE_NEWUSER; });
    p.unshare_flags = p.clone_flags;
    p.clone_flags = 0;
    p.userns = true; // become root of it
  }
  if (p.userns && !p.join_userns) {
    p.uid_map = linuxf::format_id_map(l.uid_mappings);
    p.gid_map = linuxf::format_id_map(l.gid_mappings);
  }
  if (!l.time_offsets.empty()) {
    if (!p.new_timens) return fail_msg("linux.timeOffsets: needs a new time namespace");
    p.time_offsets = linuxf::format_time_offsets(l.time_offsets);
  }
  bool new_uts = spec.find_namespace("uts") != nullptr;
  if (!spec.hostname.empty()) {
    if (!new_uts) return fail_msg("hostname: setting the hostname needs a uts namespace");
    p.hostname = spec.hostname;
  }
  if (!spec.domainname.empty()) {
    if (!new_uts) return fail_msg("domainname: setting the domain name needs a uts namespace");
    p.domainname = spec.domainname;
  }
  TRY(check_sysctl(spec));
  TRY(linuxf::check_mount_label(l.mount_label, linuxf::host_lsm()));
  ASSIGN_OR_RETURN(p.rootfs, linuxf::plan_rootfs(spec, bundle));
  p.rootfs.no_pivot = no_pivot;
  p.rootfs.cgroupns = spec.find_namespace("cgroup") != nullptr;
  ASSIGN_OR_RETURN(p.process, plan_process(*spec.process, l.seccomp, l.personality, state_root));
  p.spec = std::move(spec);
  return p;
}

} // namespace berth::runtime
