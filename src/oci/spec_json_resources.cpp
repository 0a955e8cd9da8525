// linux.resources: in config.json, and alone for `update --resources FILE`
// (containerd writes a LinuxResources object there).
#include "oci/spec_json_reader.hpp"

namespace berth::oci::detail {

namespace {

Result<std::vector<DeviceCgroup>> read_device_rules(const Obj &res) {
  std::vector<DeviceCgroup> out;
  TRY(res.each("devices", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    DeviceCgroup d;
    TRY(o.get("allow", d.allow, Need::required));
    TRY(o.get("type", d.type));
    if (!d.type.empty()) TRY(check_enum(o.at("type"), "device type", d.type, {"a", "c", "b"}));
    TRY(o.get("major", d.major));
    TRY(o.get("minor", d.minor));
    TRY(o.get("access", d.access));
    if (d.access.find_first_not_of("rwm") != std::string::npos)
      return fail_at(o.at("access"),
                     "invalid access \"" + d.access + "\" (expected letters among r, w, m)");
    out.push_back(std::move(d));
    return {};
  }));
  return out;
}

Result<Memory> read_memory(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  Memory m;
  TRY(o.get("limit", m.limit));
  TRY(o.get("reservation", m.reservation));
  TRY(o.get("swap", m.swap));
  TRY(o.get("kernel", m.kernel));
  TRY(o.get("kernelTCP", m.kernel_tcp));
  TRY(o.get("swappiness", m.swappiness));
  TRY(o.get("disableOOMKiller", m.disable_oom_killer));
  TRY(o.get("useHierarchy", m.use_hierarchy));
  TRY(o.get("checkBeforeUpdate", m.check_before_update));
  return m;
}

Result<Cpu> read_cpu(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  Cpu c;
  TRY(o.get("shares", c.shares));
  TRY(o.get("quota", c.quota));
  TRY(o.get("burst", c.burst));
  TRY(o.get("period", c.period));
  TRY(o.get("realtimeRuntime", c.realtime_runtime));
  TRY(o.get("realtimePeriod", c.realtime_period));
  TRY(o.get("cpus", c.cpus));
  TRY(o.get("mems", c.mems));
  TRY(o.get("idle", c.idle));
  return c;
}

Result<std::vector<ThrottleDevice>> read_throttles(const Obj &bio, std::string_view key) {
  std::vector<ThrottleDevice> out;
  TRY(bio.each(key, [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    ThrottleDevice t;
    TRY(o.get("major", t.major, Need::required));
    TRY(o.get("minor", t.minor, Need::required));
    TRY(o.get("rate", t.rate));
    out.push_back(t);
    return {};
  }));
  return out;
}

Result<BlockIO> read_block_io(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  BlockIO b;
  TRY(o.get("weight", b.weight));
  TRY(o.get("leafWeight", b.leaf_weight));
  TRY(o.each("weightDevice", [&](const json &d, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj w, Obj::of(d, p));
    WeightDevice wd;
    TRY(w.get("major", wd.major, Need::required));
    TRY(w.get("minor", wd.minor, Need::required));
    TRY(w.get("weight", wd.weight));
    TRY(w.get("leafWeight", wd.leaf_weight));
    b.weight_device.push_back(wd);
    return {};
  }));
  ASSIGN_OR_RETURN(b.throttle_read_bps, read_throttles(o, "throttleReadBpsDevice"));
  ASSIGN_OR_RETURN(b.throttle_write_bps, read_throttles(o, "throttleWriteBpsDevice"));
  ASSIGN_OR_RETURN(b.throttle_read_iops, read_throttles(o, "throttleReadIOPSDevice"));
  ASSIGN_OR_RETURN(b.throttle_write_iops, read_throttles(o, "throttleWriteIOPSDevice"));
  return b;
}

// "2MB", "64KB", "1GB": the schema's ^[1-9][0-9]*[KMG]B$.
bool valid_page_size(const std::string &s) {
  if (s.size() < 3 || s[0] < '1' || s[0] > '9' || s.back() != 'B') return false;
  char unit = s[s.size() - 2];
  if (unit != 'K' && unit != 'M' && unit != 'G') return false;
  for (size_t i = 1; i + 2 < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

Result<std::vector<HugepageLimit>> read_hugepages(const Obj &res) {
  std::vector<HugepageLimit> out;
  TRY(res.each("hugepageLimits", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    HugepageLimit h;
    TRY(o.get("pageSize", h.page_size, Need::required));
    if (!valid_page_size(h.page_size))
      return fail_at(o.at("pageSize"), "invalid page size \"" + h.page_size + "\" (e.g. 2MB)");
    TRY(o.get("limit", h.limit, Need::required));
    out.push_back(std::move(h));
    return {};
  }));
  return out;
}

Result<Network> read_network(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  Network n;
  TRY(o.get("classID", n.class_id));
  TRY(o.each("priorities", [&](const json &e, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj po, Obj::of(e, p));
    NetPriority np;
    TRY(po.get("name", np.name, Need::required));
    TRY(po.get("priority", np.priority, Need::required));
    n.priorities.push_back(std::move(np));
    return {};
  }));
  return n;
}

} // namespace

Result<Resources> read_resources(const json &j, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, path));
  Resources r;
  ASSIGN_OR_RETURN(r.devices, read_device_rules(o));
  if (const json *v = o.find("memory")) {
    ASSIGN_OR_RETURN(r.memory, read_memory(*v, o.at("memory")));
  }
  if (const json *v = o.find("cpu")) {
    ASSIGN_OR_RETURN(r.cpu, read_cpu(*v, o.at("cpu")));
  }
  if (const json *v = o.find("pids")) {
    ASSIGN_OR_RETURN(Obj po, Obj::of(*v, o.at("pids")));
    Pids pids;
    TRY(po.get("limit", pids.limit, Need::required));
    r.pids = pids;
  }
  if (const json *v = o.find("blockIO")) {
    ASSIGN_OR_RETURN(r.block_io, read_block_io(*v, o.at("blockIO")));
  }
  ASSIGN_OR_RETURN(r.hugepage_limits, read_hugepages(o));
  if (const json *v = o.find("network")) {
    ASSIGN_OR_RETURN(r.network, read_network(*v, o.at("network")));
  }
  TRY(o.members("rdma", [&](const std::string &dev, const json &v,
                            const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj ro, Obj::of(v, p));
    Rdma rd;
    TRY(ro.get("hcaHandles", rd.hca_handles));
    TRY(ro.get("hcaObjects", rd.hca_objects));
    r.rdma[dev] = rd;
    return {};
  }));
  TRY(o.get("unified", r.unified));
  return r;
}

} // namespace berth::oci::detail
