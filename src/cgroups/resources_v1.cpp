// linux.resources on cgroup v1 (and on hybrid hosts, whose unified hierarchy
// takes hugetlb and `unified` when v1 lacks them). Values and write order follow
// runc, so that a config means the same under both. 0 means "unset" for the
// memory and cpu numbers, as in runc.
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"

namespace berth::cgroups {

namespace {

using std::to_string;

Result<const std::string *> need(const std::vector<Hier> &h, const std::string &controller,
                                 std::string_view what) {
  if (auto *x = find_hier(h, controller)) return &x->dir;
  return fail_msg("linux.resources." + std::string(what) + ": the " + controller +
                  " cgroup controller is not mounted on this host");
}

// Writes swap (memory+swap) and limit in the order the kernel accepts:
// memsw may never be below the memory limit, before or after each write.
Result<> memory_and_swap(const std::string &dir, int64_t limit, int64_t swap, bool swap_implied) {
  auto set_limit = [&] {
    return in_ctx(cg_write(dir, "memory.limit_in_bytes", to_string(limit)),
                  "linux.resources.memory.limit");
  };
  auto set_swap = [&]() -> Result<> {
    auto r = cg_write(dir, "memory.memsw.limit_in_bytes", to_string(swap));
    if (r || r.error().code() != ENOENT) return in_ctx(std::move(r), "linux.resources.memory.swap");
    if (swap_implied) return {}; // no swap accounting: nothing to unlimit
    return ctx(std::move(r).error(),
               "linux.resources.memory.swap: swap accounting is off in this kernel");
  };
  if (limit == 0) return swap ? set_swap() : Result<>{};
  if (swap == 0) return set_limit();
  // Limit first suits a new cgroup and a lowered limit; a raised limit may
  // exceed the old memsw (EINVAL): then memsw goes first.
  if (swap != -1) {
    auto r = set_limit();
    if (r) return set_swap();
    if (r.error().code() != EINVAL) return r;
  }
  TRY(set_swap());
  return set_limit();
}

Result<> memory_v1(const std::string &dir, const oci::Memory &m, bool update) {
  const std::string R = "linux.resources.memory.";
  int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
  bool swap_implied = limit == -1 && swap == 0; // unlimited memory: unlimited swap too
  if (swap_implied) swap = -1;
  TRY(memory_and_swap(dir, limit, swap, swap_implied));
  // Kernel memory limits are gone from newer kernels: skip them there, as runc.
  auto kmem = [&](const char *file, int64_t v, const char *what) -> Result<> {
    auto r = cg_write(dir, file, to_string(v));
    if (r || r.error().code() == ENOENT || r.error().code() == EOPNOTSUPP) return {};
    return ctx(std::move(r).error(), R + what);
  };
  if (m.kernel) TRY(kmem("memory.kmem.limit_in_bytes", *m.kernel, "kernel"));
  if (m.kernel_tcp) TRY(kmem("memory.kmem.tcp.limit_in_bytes", *m.kernel_tcp, "kernelTCP"));
  if (m.reservation && *m.reservation != 0)
    TRY_CTX(cg_write(dir, "memory.soft_limit_in_bytes", to_string(*m.reservation)),
            R + "reservation");
  // -1 (as uint64) means "unset" to docker and runc.
  if (m.swappiness && *m.swappiness != UINT64_MAX) {
    if (*m.swappiness > 100)
      return fail_msg(R + "swappiness: invalid value " + to_string(*m.swappiness) +
                      " (valid range is 0-100)");
    TRY_CTX(cg_write(dir, "memory.swappiness", to_string(*m.swappiness)), R + "swappiness");
  }
  if (m.disable_oom_killer && (*m.disable_oom_killer || update))
    TRY_CTX(cg_write(dir, "memory.oom_control", *m.disable_oom_killer ? "1" : "0"),
            R + "disableOOMKiller");
  if (m.use_hierarchy)
    TRY_CTX(cg_write(dir, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0"),
            R + "useHierarchy");
  return {};
}

Result<> cpu_v1(const std::string &dir, const oci::Cpu &c) {
  const std::string R = "linux.resources.cpu.";
  if (c.shares && *c.shares != 0) {
    TRY_CTX(cg_write(dir, "cpu.shares", to_string(*c.shares)), R + "shares");
    // The kernel clamps silently; say so instead.
    ASSIGN_OR_RETURN(std::string got, cg_read_line(dir, "cpu.shares"));
    auto v = parse_u64(got).value_or(*c.shares);
    if (*c.shares > v) return fail_msg(R + "shares: the maximum allowed cpu-shares is " + got);
    if (*c.shares < v) return fail_msg(R + "shares: the minimum allowed cpu-shares is " + got);
  }
  int64_t quota = c.quota.value_or(0);
  // A period below the current one can be refused (EINVAL) until the quota is
  // lowered: then write it again after the quota. Same for burst.
  bool period_later = false, burst_later = false;
  if (c.period && *c.period != 0) {
    auto r = cg_write(dir, "cpu.cfs_period_us", to_string(*c.period));
    if (!r && (r.error().code() != EINVAL || quota == 0))
      return ctx(std::move(r).error(), R + "period");
    period_later = !r;
  }
  if (c.burst) {
    auto r = cg_write(dir, "cpu.cfs_burst_us", to_string(*c.burst));
    if (!r && !(r.error().code() == ENOENT && *c.burst == 0)) {
      if (r.error().code() != EINVAL || quota == 0) return ctx(std::move(r).error(), R + "burst");
      burst_later = true;
    }
  }
  if (quota != 0) {
    TRY_CTX(cg_write(dir, "cpu.cfs_quota_us", to_string(quota)), R + "quota");
    if (period_later)
      TRY_CTX(cg_write(dir, "cpu.cfs_period_us", to_string(*c.period)), R + "period");
    if (burst_later) TRY_CTX(cg_write(dir, "cpu.cfs_burst_us", to_string(*c.burst)), R + "burst");
  }
  if (c.idle) TRY_CTX(cg_write(dir, "cpu.idle", to_string(*c.idle)), R + "idle");
  if (c.realtime_period && *c.realtime_period != 0)
    TRY_CTX(cg_write(dir, "cpu.rt_period_us", to_string(*c.realtime_period)), R + "realtimePeriod");
  if (c.realtime_runtime && *c.realtime_runtime != 0)
    TRY_CTX(cg_write(dir, "cpu.rt_runtime_us", to_string(*c.realtime_runtime)),
            R + "realtimeRuntime");
  return {};
}

bool cpu_v1_set(const oci::Cpu &c) {
  return (c.shares && *c.shares) || c.quota.value_or(0) || c.period.value_or(0) || c.burst ||
         c.idle || c.realtime_period.value_or(0) || c.realtime_runtime.value_or(0);
}

std::string dev(int64_t major, int64_t minor) { return to_string(major) + ":" + to_string(minor); }

Result<> blkio_v1(const std::string &dir, const oci::BlockIO &b) {
  const std::string R = "linux.resources.blockIO.";
  // BFQ has its own weight files; the plain ones belong to the old CFQ.
  bool bfq = true;
  auto weight = [&](const char *bfq_file, const char *cfq_file, const std::string &v,
                    const std::string &what) -> Result<> {
    if (bfq) {
      auto r = cg_write(dir, bfq_file, v);
      if (r || r.error().code() != ENOENT) return in_ctx(std::move(r), R + what);
      bfq = false;
    }
    return in_ctx(cg_write(dir, cfq_file, v), R + what);
  };
  if (b.weight && *b.weight)
    TRY(weight("blkio.bfq.weight", "blkio.weight", to_string(*b.weight), "weight"));
  if (b.leaf_weight && *b.leaf_weight)
    TRY_CTX(cg_write(dir, "blkio.leaf_weight", to_string(*b.leaf_weight)), R + "leafWeight");
  for (auto &w : b.weight_device) {
    if (w.weight && *w.weight)
      TRY(weight("blkio.bfq.weight_device", "blkio.weight_device",
                 dev(w.major, w.minor) + " " + to_string(*w.weight), "weightDevice"));
    if (w.leaf_weight && *w.leaf_weight)
      TRY_CTX(cg_write(dir, "blkio.leaf_weight_device",
                       dev(w.major, w.minor) + " " + to_string(*w.leaf_weight)),
              R + "weightDevice.leafWeight");
  }
  auto throttle = [&](const std::vector<oci::ThrottleDevice> &l, const char *file,
                      const char *what) -> Result<> {
    for (auto &t : l)
      TRY_CTX(cg_write(dir, file, dev(t.major, t.minor) + " " + to_string(t.rate)), R + what);
    return {};
  };
  TRY(throttle(b.throttle_read_bps, "blkio.throttle.read_bps_device", "throttleReadBpsDevice"));
  TRY(throttle(b.throttle_write_bps, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice"));
  TRY(throttle(b.throttle_read_iops, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice"));
  TRY(throttle(b.throttle_write_iops, "blkio.throttle.write_iops_device",
               "throttleWriteIOPSDevice"));
  return {};
}

bool blkio_set(const oci::BlockIO &b) {
  return b.weight.value_or(0) || b.leaf_weight.value_or(0) || !b.weight_device.empty() ||
         !b.throttle_read_bps.empty() || !b.throttle_write_bps.empty() ||
         !b.throttle_read_iops.empty() || !b.throttle_write_iops.empty();
}

// The unified hierarchy of a hybrid host, with controllers enabled down to
// the container's cgroup, or an error naming what is missing.
Result<const Hier *> unified_with(const std::vector<Hier> &h, const std::vector<std::string> &ctrls,
                                  std::string_view what) {
  const Hier *u = find_hier(h, "");
  if (!u)
    return fail_msg("linux.resources." + std::string(what) +
                    ": invalid configuration: cannot use unified on cgroup v1");
  TRY_CTX(enable_controllers(*u, ctrls, true), "linux.resources." + std::string(what));
  return u;
}

Result<> hugetlb(const std::vector<Hier> &h, const std::vector<oci::HugepageLimit> &l) {
  if (auto *x = find_hier(h, "hugetlb")) {
    for (auto &e : l) {
      TRY(check_page_size(e.page_size));
      auto v = to_string(e.limit);
      TRY_CTX(cg_write(x->dir, "hugetlb." + e.page_size + ".limit_in_bytes", v),
              "linux.resources.hugepageLimits " + e.page_size);
      // Reservation accounting, where the kernel has it (as runc).
      auto r = cg_write(x->dir, "hugetlb." + e.page_size + ".rsvd.limit_in_bytes", v);
      if (!r && r.error().code() != ENOENT)
        return ctx(std::move(r).error(), "linux.resources.hugepageLimits " + e.page_size);
    }
    return {};
  }
  // Hybrid hosts may have hugetlb only in the unified hierarchy.
  if (!find_hier(h, ""))
    return fail_msg("linux.resources.hugepageLimits: the hugetlb cgroup controller is not mounted "
                    "on this host");
  ASSIGN_OR_RETURN(const Hier *u, unified_with(h, {"hugetlb"}, "hugepageLimits"));
  return apply_v2_hugetlb(u->dir, l);
}

} // namespace

Result<> apply_v1(const std::vector<Hier> &h, const oci::Resources &r, bool update) {
  if (r.cpu && (!r.cpu->cpus.empty() || !r.cpu->mems.empty())) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "cpuset", "cpu.cpus/mems"));
    if (!r.cpu->cpus.empty())
      TRY_CTX(cg_write(*d, "cpuset.cpus", r.cpu->cpus), "linux.resources.cpu.cpus");
    if (!r.cpu->mems.empty())
      TRY_CTX(cg_write(*d, "cpuset.mems", r.cpu->mems), "linux.resources.cpu.mems");
  }
  if (!r.devices.empty()) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "devices", "devices"));
    TRY(apply_devices_v1(*d, r.devices));
  }
  if (r.memory) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "memory", "memory"));
    TRY(memory_v1(*d, *r.memory, update));
  }
  if (r.cpu && cpu_v1_set(*r.cpu)) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "cpu", "cpu"));
    TRY(cpu_v1(*d, *r.cpu));
  }
  if (r.pids) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "pids", "pids"));
    TRY_CTX(cg_write(*d, "pids.max", r.pids->limit > 0 ? to_string(r.pids->limit) : "max"),
            "linux.resources.pids.limit");
  }
  if (r.block_io && blkio_set(*r.block_io)) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "blkio", "blockIO"));
    TRY(blkio_v1(*d, *r.block_io));
  }
  if (!r.hugepage_limits.empty()) TRY(hugetlb(h, r.hugepage_limits));
  if (r.network && r.network->class_id) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "net_cls", "network.classID"));
    TRY_CTX(cg_write(*d, "net_cls.classid", to_string(*r.network->class_id)),
            "linux.resources.network.classID");
  }
  if (r.network && !r.network->priorities.empty()) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "net_prio", "network.priorities"));
    for (auto &p : r.network->priorities)
      TRY_CTX(cg_write(*d, "net_prio.ifpriomap", p.name + " " + to_string(p.priority)),
              "linux.resources.network.priorities");
  }
  if (!r.rdma.empty()) {
    ASSIGN_OR_RETURN(const std::string *d, need(h, "rdma", "rdma"));
    for (auto &[name, l] : r.rdma) {
      std::string v = name;
      if (l.hca_handles) v += " hca_handle=" + to_string(*l.hca_handles);
      if (l.hca_objects) v += " hca_object=" + to_string(*l.hca_objects);
      TRY_CTX(cg_write(*d, "rdma.max", v), "linux.resources.rdma." + name);
    }
  }
  if (!r.unified.empty()) {
    std::vector<std::string> ctrls;
    for (auto &[k, v] : r.unified) {
      auto dot = k.find('.');
      if (dot != std::string::npos && k.compare(0, dot, "cgroup") != 0)
        ctrls.push_back(k.substr(0, dot));
    }
    ASSIGN_OR_RETURN(const Hier *u, unified_with(h, ctrls, "unified"));
    TRY(apply_v2_unified(u->dir, r.unified));
  }
  return {};
}

} // namespace berth::cgroups
