// linux.resources on cgroup v2, converted from the v1 terms of the spec the
// way runc converts them. 0 means "unset" for the memory and cpu numbers, as
// in runc.
#include "cgroups/convert.hpp"
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>

namespace berth::cgroups {

namespace {

using std::to_string;

// A write whose error names the resource, and on ENOENT the likely reason: the
// controller is not enabled for this cgroup.
Result<> w2(const std::string &dir, const std::string &file, const std::string &value,
            std::string_view what) {
  auto r = cg_write(dir, file, value);
  if (r) return r;
  Error e = std::move(r).error();
  if (e.code() == ENOENT) {
    auto ctrl = file.substr(0, file.find('.'));
    e = Error(ENOENT, e.message() + " (is the " + ctrl + " controller enabled in " +
                          parent_dir(dir) + "/cgroup.subtree_control?)");
  }
  return fail(std::move(e).with("linux.resources." + std::string(what)));
}

std::string max_or(int64_t v) { return v == -1 ? "max" : to_string(v); }

Result<> memory_v2(const std::string &dir, const oci::Memory &m) {
  int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0), low = m.reservation.value_or(0);
  if (!limit && !swap && !low) return {};
  if (m.check_before_update.value_or(false) && limit > 0) {
    ASSIGN_OR_RETURN(std::string cur, cg_read_line(dir, "memory.current"));
    uint64_t usage = parse_u64(cur).value_or(0);
    if (uint64_t(limit) <= usage)
      return fail_msg("linux.resources.memory.limit: rejecting memory limit " + to_string(limit) +
                      " below usage " + to_string(usage) + " (checkBeforeUpdate)");
  }
  ASSIGN_OR_RETURN(int64_t sw, memory_swap_to_v2(swap, limit));
  std::string s = sw == -1 ? "max" : sw != 0 ? to_string(sw) : swap > 0 ? "0" : "";
  if (!s.empty()) {
    auto r = w2(dir, "memory.swap.max", s, "memory.swap");
    // Without swap accounting, "unlimited" and "none" are already true.
    if (!r && !(r.error().code() == ENOENT && (s == "max" || s == "0"))) return r;
  }
  if (limit) TRY(w2(dir, "memory.max", max_or(limit), "memory.limit"));
  if (low) TRY(w2(dir, "memory.low", max_or(low), "memory.reservation"));
  // swappiness, disableOOMKiller, useHierarchy, kernel*: no v2 equivalent;
  // ignored as runc and crun do.
  return {};
}

Result<> cpu_v2(const std::string &dir, const oci::Cpu &c) {
  if (c.shares && *c.shares) {
    // The v1 kernel's range, refused in the same words as on v1.
    if (*c.shares > 262144)
      return fail_msg("linux.resources.cpu.shares: the maximum allowed cpu-shares is 262144");
    if (*c.shares < 2)
      return fail_msg("linux.resources.cpu.shares: the minimum allowed cpu-shares is 2");
    TRY(w2(dir, "cpu.weight", to_string(cpu_shares_to_weight(*c.shares)), "cpu.shares"));
  }
  if (c.idle) TRY(w2(dir, "cpu.idle", to_string(*c.idle), "cpu.idle"));
  int64_t quota = c.quota.value_or(0);
  uint64_t period = c.period.value_or(0);
  bool burst_later = false;
  if (c.burst) {
    auto r = w2(dir, "cpu.max.burst", to_string(*c.burst), "cpu.burst");
    // A burst above the old quota is refused until the new quota is in.
    if (!r && (r.error().code() != EINVAL || quota == 0)) return r;
    burst_later = !r;
  }
  if (quota != 0 || period != 0) {
    std::string q = quota > 0 ? to_string(quota) : "max";
    if (quota == 0) {
      // A new period alone keeps the quota in force.
      ASSIGN_OR_RETURN(std::string cur, cg_read_line(dir, "cpu.max"));
      q = cur.substr(0, cur.find(' '));
    }
    if (period) q += " " + to_string(period);
    TRY(w2(dir, "cpu.max", q, quota ? "cpu.quota" : "cpu.period"));
    if (burst_later) TRY(w2(dir, "cpu.max.burst", to_string(*c.burst), "cpu.burst"));
  }
  if (c.realtime_period.value_or(0) || c.realtime_runtime.value_or(0))
    return fail_msg("linux.resources.cpu.realtimePeriod/realtimeRuntime: realtime group "
                    "scheduling does not exist on cgroup v2");
  if (!c.cpus.empty()) TRY(w2(dir, "cpuset.cpus", c.cpus, "cpu.cpus"));
  if (!c.mems.empty()) TRY(w2(dir, "cpuset.mems", c.mems, "cpu.mems"));
  return {};
}

std::string dev(int64_t major, int64_t minor) { return to_string(major) + ":" + to_string(minor); }

Result<> io_v2(const std::string &dir, const oci::BlockIO &b) {
  // BFQ takes blkio weights as they are; io.weight needs them converted.
  bool bfq = true;
  auto weight = [&](const std::string &key, uint16_t w, std::string_view what) -> Result<> {
    if (bfq) {
      auto r = cg_write(dir, "io.bfq.weight", key + to_string(w));
      if (r) return r;
      if (r.error().code() != ENOENT)
        return ctx(std::move(r).error(), "linux.resources." + std::string(what));
      bfq = false;
    }
    return w2(dir, "io.weight", key + to_string(blkio_weight_to_io_weight(w)), what);
  };
  if (b.weight && *b.weight) TRY(weight("", *b.weight, "blockIO.weight"));
  for (auto &d : b.weight_device)
    if (d.weight && *d.weight)
      TRY(weight(dev(d.major, d.minor) + " ", *d.weight, "blockIO.weightDevice"));
  // leafWeight: no v2 equivalent (ignored, as runc does).
  // One io.max line per device with all its limits.
  std::map<std::pair<int64_t, int64_t>, std::string> lines;
  auto add = [&](const std::vector<oci::ThrottleDevice> &l, const char *key) {
    for (auto &t : l) lines[{t.major, t.minor}] += std::string(" ") + key + "=" + to_string(t.rate);
  };
  add(b.throttle_read_bps, "rbps");
  add(b.throttle_write_bps, "wbps");
  add(b.throttle_read_iops, "riops");
  add(b.throttle_write_iops, "wiops");
  for (auto &[d, v] : lines) TRY(w2(dir, "io.max", dev(d.first, d.second) + v, "blockIO.throttle"));
  return {};
}

Result<> rdma_v2(const std::string &dir, const std::map<std::string, oci::Rdma> &rd) {
  for (auto &[name, l] : rd) {
    std::string v = name;
    if (l.hca_handles) v += " hca_handle=" + to_string(*l.hca_handles);
    if (l.hca_objects) v += " hca_object=" + to_string(*l.hca_objects);
    TRY(w2(dir, "rdma.max", v, "rdma." + name));
  }
  return {};
}

} // namespace

Result<> check_page_size(const std::string &size) {
  // "2MB" -> /sys/kernel/mm/hugepages/hugepages-2048kB (units are powers of 1024).
  auto bad = [&] {
    return fail_msg("linux.resources.hugepageLimits: page size \"" + size +
                    "\" is not supported by this kernel");
  };
  size_t digits = size.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string::npos) return bad();
  auto n = parse_u64(size.substr(0, digits));
  std::string unit = size.substr(digits);
  uint64_t mult = unit == "KB" ? 1 : unit == "MB" ? 1024 : unit == "GB" ? 1024 * 1024 : 0;
  if (!n || !mult) return bad();
  if (::access(("/sys/kernel/mm/hugepages/hugepages-" + to_string(*n * mult) + "kB").c_str(),
               F_OK) < 0)
    return bad();
  return {};
}

Result<> apply_v2_hugetlb(const std::string &dir, const std::vector<oci::HugepageLimit> &l) {
  for (auto &e : l) {
    TRY(check_page_size(e.page_size));
    auto v = to_string(e.limit);
    TRY(w2(dir, "hugetlb." + e.page_size + ".max", v, "hugepageLimits " + e.page_size));
    // Reservation accounting, where the kernel has it (as runc).
    auto r = cg_write(dir, "hugetlb." + e.page_size + ".rsvd.max", v);
    if (!r && r.error().code() != ENOENT)
      return ctx(std::move(r).error(), "linux.resources.hugepageLimits " + e.page_size);
  }
  return {};
}

Result<> apply_v2_unified(const std::string &dir, const std::map<std::string, std::string> &u) {
  for (auto &[k, v] : u) {
    const std::string what = "linux.resources.unified \"" + k + "\"";
    if (k.empty() || k.find('/') != std::string::npos || k == "." || k == "..")
      return fail_msg(what + ": must be a file name");
    // Multi-line values (io.max, rdma.max for several devices) take one
    // entry per write.
    std::string_view rest = v;
    do {
      auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      if (line.empty() && !v.empty()) continue;
      auto r = cg_write(dir, k, line);
      if (r) continue;
      int err = r.error().code();
      if (err == ENOENT || err == EPERM || err == EACCES) {
        auto dot = k.find('.');
        if (dot == std::string::npos)
          return fail_msg(what + ": must be in the form CONTROLLER.PARAMETER");
        auto ctrl = k.substr(0, dot);
        auto have = cg_read(dir, "cgroup.controllers");
        std::string list = " " + have.value_or("") + " ";
        std::replace(list.begin(), list.end(), '\n', ' ');
        if (ctrl != "cgroup" && list.find(" " + ctrl + " ") == std::string::npos)
          return fail_msg(what + ": the " + ctrl + " controller is not available in " + dir);
      }
      return ctx(std::move(r).error(), what);
    } while (!rest.empty());
  }
  return {};
}

Result<> apply_v2(const std::string &dir, int dirfd, const oci::Resources &r, bool update) {
  (void)update; // v2 files take any order: nothing differs on update
  if (r.pids)
    TRY(w2(dir, "pids.max", r.pids->limit > 0 ? to_string(r.pids->limit) : "max", "pids.limit"));
  if (r.memory) TRY(memory_v2(dir, *r.memory));
  if (r.block_io) TRY(io_v2(dir, *r.block_io));
  if (r.cpu) TRY(cpu_v2(dir, *r.cpu));
  if (!r.hugepage_limits.empty()) TRY(apply_v2_hugetlb(dir, r.hugepage_limits));
  if (!r.rdma.empty()) TRY(rdma_v2(dir, r.rdma));
  if (r.network && (r.network->class_id || !r.network->priorities.empty()))
    return fail_msg("linux.resources.network: the net_cls and net_prio controllers do not "
                    "exist on cgroup v2");
  if (!r.devices.empty()) TRY(apply_devices_bpf(dirfd, dir, r.devices));
  // Last, so that explicit v2 values win over converted ones.
  if (!r.unified.empty()) TRY(apply_v2_unified(dir, r.unified));
  return {};
}

Result<const std::vector<std::string> *> available_controllers(const std::string &mnt) {
  static std::map<std::string, std::vector<std::string>> cache;
  auto it = cache.find(mnt);
  if (it == cache.end()) {
    ASSIGN_OR_RETURN(std::string s, cg_read(mnt, "cgroup.controllers"));
    std::vector<std::string> v;
    std::string_view sv = s;
    while (!sv.empty()) {
      auto sp = sv.find_first_of(" \n");
      if (sp) v.emplace_back(sv.substr(0, sp));
      sv.remove_prefix(sp == std::string_view::npos ? sv.size() : sp + 1);
    }
    it = cache.emplace(mnt, std::move(v)).first;
  }
  return &it->second;
}

Result<> enable_controllers(const Hier &h, const std::vector<std::string> &ctrls, bool strict) {
  ASSIGN_OR_RETURN(const std::vector<std::string> *avail, available_controllers(h.mnt));
  std::vector<std::string> use;
  for (auto &c : ctrls) {
    if (std::find(avail->begin(), avail->end(), c) != avail->end()) {
      if (std::find(use.begin(), use.end(), c) == use.end()) use.push_back(c);
    } else if (strict) {
      return fail_msg("the " + c + " cgroup controller is not available (not in " + h.mnt +
                      "/cgroup.controllers)");
    }
  }
  if (use.empty()) return {};
  std::string all;
  for (auto &c : use) all += (all.empty() ? "+" : " +") + c;
  // Every ancestor from the mount point down to the cgroup's parent.
  std::string level = h.mnt;
  std::string_view rest = std::string_view(h.dir).substr(h.mnt.size());
  for (;;) {
    if (!cg_write(level, "cgroup.subtree_control", all)) {
      // One controller may be refused (a parent lacks it, threaded mode):
      // the others still go in.
      for (auto &c : use) {
        auto r = cg_write(level, "cgroup.subtree_control", "+" + c);
        if (!r && strict) return ctx(std::move(r).error(), "enable the " + c + " controller");
      }
    }
    while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) break; // what is left is the leaf
    level += "/";
    level += rest.substr(0, slash);
    rest.remove_prefix(slash);
  }
  return {};
}

} // namespace berth::cgroups
