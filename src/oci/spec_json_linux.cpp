// linux.*, except linux.resources (spec_json_resources.cpp) and linux.seccomp
// (spec_json_seccomp.cpp). Cross-field rules follow runc's validator.
#include "oci/spec_json_reader.hpp"

#include <cctype>
#include <set>

namespace berth::oci::detail {

namespace {

Result<std::vector<Namespace>> read_namespaces(const Obj &lx) {
  std::vector<Namespace> out;
  std::set<std::string> seen;
  TRY(lx.each("namespaces", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    Namespace ns;
    TRY(o.get("type", ns.type, Need::required));
    TRY(check_enum(o.at("type"), "namespace type", ns.type,
                   {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"}));
    if (!seen.insert(ns.type).second)
      return fail_at(o.at("type"), "duplicate namespace type \"" + ns.type + "\"");
    TRY(o.get("path", ns.path));
    if (!ns.path.empty() && !is_abs(ns.path))
      return fail_at(o.at("path"), "must be an absolute path");
    out.push_back(std::move(ns));
    return {};
  }));
  return out;
}

Result<std::map<std::string, TimeOffset>> read_time_offsets(const Obj &lx) {
  std::map<std::string, TimeOffset> out;
  TRY(lx.members("timeOffsets", [&](const std::string &clock, const json &v,
                                    const std::string &p) -> Result<> {
    TRY(check_enum(p, "clock", clock, {"monotonic", "boottime"}));
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    TimeOffset t;
    TRY(o.get("secs", t.secs));
    TRY(o.get("nanosecs", t.nanosecs));
    if (t.nanosecs >= 1000000000u) return fail_at(o.at("nanosecs"), "must be less than 1e9");
    out[clock] = t;
    return {};
  }));
  return out;
}

Result<std::vector<Device>> read_devices(const Obj &lx) {
  std::vector<Device> out;
  TRY(lx.each("devices", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    Device d;
    TRY(o.get("type", d.type, Need::required));
    TRY(o.get("path", d.path, Need::required));
    // Name the device too: a config may list many.
    if (auto r = check_enum(o.at("type"), "device type", d.type, {"c", "b", "u", "p"}); !r)
      return fail_msg(r.error().message() + " (device " + d.path + ")");
    if (!is_abs(d.path)) return fail_at(o.at("path"), "must be an absolute path");
    Need numbers = d.type == "p" ? Need::optional : Need::required; // a FIFO has none
    TRY(o.get("major", d.major, numbers));
    TRY(o.get("minor", d.minor, numbers));
    TRY(o.get("fileMode", d.file_mode));
    TRY(o.get("uid", d.uid));
    TRY(o.get("gid", d.gid));
    out.push_back(std::move(d));
    return {};
  }));
  return out;
}

// The kernel's dev_valid_name(): 1..15 bytes, not . or .., no '/', ':' or space.
Result<> check_ifname(const std::string &name, const std::string &path) {
  bool ok = !name.empty() && name.size() < 16 && name != "." && name != "..";
  for (char c : name)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) ok = false;
  if (!ok) return fail_at(path, "invalid network interface name \"" + name + "\"");
  return {};
}

Result<std::map<std::string, NetDevice>> read_net_devices(const Obj &lx) {
  std::map<std::string, NetDevice> out;
  TRY(lx.members("netDevices", [&](const std::string &host_name, const json &v,
                                   const std::string &p) -> Result<> {
    TRY(check_ifname(host_name, p));
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    NetDevice d;
    TRY(o.get("name", d.name));
    if (!d.name.empty()) TRY(check_ifname(d.name, o.at("name")));
    out[host_name] = d;
    return {};
  }));
  return out;
}

Result<IntelRdt> read_intel_rdt(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  IntelRdt r;
  TRY(o.get("closID", r.clos_id));
  // A directory name under the resctrl mount; "/" is the spec's default CLOS.
  if (r.clos_id != "/" && (r.clos_id == "." || r.clos_id == ".." ||
                           r.clos_id.find_first_of("/\n") != std::string::npos))
    return fail_at(o.at("closID"), "invalid CLOS name \"" + r.clos_id + "\"");
  TRY(o.get("l3CacheSchema", r.l3_cache_schema));
  TRY(o.get("memBwSchema", r.mem_bw_schema));
  if (!r.mem_bw_schema.empty() &&
      (!r.mem_bw_schema.starts_with("MB:") || r.mem_bw_schema.find('\n') != std::string::npos))
    return fail_at(o.at("memBwSchema"), "must start with \"MB:\" and be one line");
  TRY(o.get("schemata", r.schemata));
  for (size_t i = 0; i < r.schemata.size(); ++i)
    if (r.schemata[i].find('\n') != std::string::npos)
      return fail_at(index_path(o.at("schemata"), i), "must not contain a newline");
  TRY(o.get("enableMonitoring", r.enable_monitoring));
  return r;
}

Result<MemoryPolicy> read_memory_policy(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  MemoryPolicy m;
  TRY(o.get("mode", m.mode, Need::required));
  TRY(check_enum(o.at("mode"), "memory policy mode", m.mode,
                 {"MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
                  "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL"}));
  TRY(o.get("nodes", m.nodes));
  TRY(o.get("flags", m.flags));
  for (size_t i = 0; i < m.flags.size(); ++i)
    TRY(check_enum(index_path(o.at("flags"), i), "memory policy flag", m.flags[i],
                   {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"}));
  return m;
}

Result<Personality> read_personality(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  Personality p;
  TRY(o.get("domain", p.domain, Need::required));
  TRY(check_enum(o.at("domain"), "personality domain", p.domain, {"LINUX", "LINUX32"}));
  TRY(o.get("flags", p.flags));
  return p;
}

Result<> check_abs_paths(const std::vector<std::string> &paths, const std::string &path) {
  for (size_t i = 0; i < paths.size(); ++i)
    if (!is_abs(paths[i])) return fail_at(index_path(path, i), "must be an absolute path");
  return {};
}

const Namespace *find_ns(const Linux &l, std::string_view type) {
  for (auto &n : l.namespaces)
    if (n.type == type) return &n;
  return nullptr;
}

// Rules that tie fields together, as runc's config validator has them.
Result<> check_linux(const Linux &l, const Obj &o) {
  const Namespace *user = find_ns(l, "user");
  bool mapped = !l.uid_mappings.empty() || !l.gid_mappings.empty();
  if (!user && mapped)
    return fail_at(o.at(l.uid_mappings.empty() ? "gidMappings" : "uidMappings"),
                   "user namespace mappings specified, but no user namespace in linux.namespaces");
  // A new user namespace needs both maps; a joined one (path) already has them.
  if (user && user->path.empty()) {
    if (l.uid_mappings.empty())
      return fail_at(o.at("uidMappings"), "user namespaces enabled, but no uid mappings");
    if (l.gid_mappings.empty())
      return fail_at(o.at("gidMappings"), "user namespaces enabled, but no gid mappings");
  }
  if (!l.time_offsets.empty()) {
    const Namespace *time = find_ns(l, "time");
    if (!time)
      return fail_at(o.at("timeOffsets"),
                     "time offsets specified, but no time namespace in linux.namespaces");
    if (!time->path.empty())
      return fail_at(o.at("timeOffsets"), "cannot set the offsets of a joined time namespace");
  }
  if (!l.net_devices.empty() && !find_ns(l, "network"))
    return fail_at(o.at("netDevices"),
                   "network devices specified, but no network namespace in linux.namespaces");
  return {};
}

} // namespace

Result<Linux> read_linux(const json &j, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, path));
  Linux l;
  ASSIGN_OR_RETURN(l.namespaces, read_namespaces(o));
  ASSIGN_OR_RETURN(l.uid_mappings, read_id_mappings(o, "uidMappings"));
  ASSIGN_OR_RETURN(l.gid_mappings, read_id_mappings(o, "gidMappings"));
  ASSIGN_OR_RETURN(l.time_offsets, read_time_offsets(o));
  ASSIGN_OR_RETURN(l.devices, read_devices(o));
  ASSIGN_OR_RETURN(l.net_devices, read_net_devices(o));
  TRY(o.get("cgroupsPath", l.cgroups_path));
  if (const json *v = o.find("resources")) {
    ASSIGN_OR_RETURN(l.resources, read_resources(*v, o.at("resources")));
  }
  if (const json *v = o.find("intelRdt")) {
    ASSIGN_OR_RETURN(l.intel_rdt, read_intel_rdt(*v, o.at("intelRdt")));
  }
  if (const json *v = o.find("memoryPolicy")) {
    ASSIGN_OR_RETURN(l.memory_policy, read_memory_policy(*v, o.at("memoryPolicy")));
  }
  TRY(o.get("sysctl", l.sysctl));
  if (const json *v = o.find("seccomp")) {
    ASSIGN_OR_RETURN(l.seccomp, read_seccomp(*v, o.at("seccomp")));
  }
  TRY(o.get("rootfsPropagation", l.rootfs_propagation));
  // runc also takes the recursive spellings.
  if (!l.rootfs_propagation.empty())
    TRY(check_enum(o.at("rootfsPropagation"), "rootfs propagation", l.rootfs_propagation,
                   {"shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate",
                    "runbindable"}));
  TRY(o.get("maskedPaths", l.masked_paths));
  TRY(check_abs_paths(l.masked_paths, o.at("maskedPaths")));
  TRY(o.get("readonlyPaths", l.readonly_paths));
  TRY(check_abs_paths(l.readonly_paths, o.at("readonlyPaths")));
  TRY(o.get("mountLabel", l.mount_label));
  if (const json *v = o.find("personality")) {
    ASSIGN_OR_RETURN(l.personality, read_personality(*v, o.at("personality")));
  }
  TRY(check_linux(l, o));
  return l;
}

} // namespace berth::oci::detail
