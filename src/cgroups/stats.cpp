// Stats from the v1 and v2 accounting files. Best effort: a controller that is
// not mounted (or not enabled) leaves its fields at 0.
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"
#include "common/strings.hpp"

#include <dirent.h>
#include <unistd.h>

namespace berth::cgroups {

namespace {

// The file's content, "" when it does not exist; other errors propagate.
Result<std::string> opt_read(const Hier *h, std::string_view file) {
  if (!h) return std::string();
  auto r = cg_read(h->dir, file);
  if (!r && r.error().code() == ENOENT) return std::string();
  return r;
}

Result<std::string> opt_read(const std::string &dir, std::string_view file) {
  auto r = cg_read(dir, file);
  if (!r && r.error().code() == ENOENT) return std::string();
  return r;
}

uint64_t num(const std::string &s, uint64_t max_value = UINT64_MAX) {
  return parse_u64(s, max_value).value_or(0);
}

uint64_t key(const std::string &s, std::string_view k) { return keyed_value(s, k).value_or(0); }

bool parse_dev(std::string_view d, BlkioEntry &e) {
  auto colon = d.find(':');
  if (colon == std::string_view::npos) return false;
  auto maj = parse_u64(d.substr(0, colon)), min = parse_u64(d.substr(colon + 1));
  if (!maj || !min) return false;
  e.major = *maj;
  e.minor = *min;
  return true;
}

// v1 blkio lists: "MAJ:MIN Op value" lines and a "Total value" line.
std::vector<BlkioEntry> blkio_v1_list(const std::string &text) {
  std::vector<BlkioEntry> out;
  each_line(text, [&](std::string_view l) {
    auto w = words(l);
    BlkioEntry e;
    if (w.size() != 3 || !parse_dev(w[0], e)) return;
    e.op = std::string(w[1]);
    e.value = parse_u64(w[2]).value_or(0);
    out.push_back(std::move(e));
  });
  return out;
}

// v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ..." as runc reports
// it: bytes and ios, each as Read and Write entries.
void io_stat_v2(const std::string &text, Stats &st) {
  each_line(text, [&](std::string_view l) {
    auto w = words(l);
    BlkioEntry dev;
    if (w.empty() || !parse_dev(w[0], dev)) return;
    for (size_t i = 1; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      if (eq == std::string_view::npos) continue;
      auto k = w[i].substr(0, eq);
      BlkioEntry e = dev;
      e.value = parse_u64(w[i].substr(eq + 1)).value_or(0);
      e.op = k[0] == 'r' ? "Read" : "Write";
      if (k == "rbytes" || k == "wbytes") st.io_service_bytes.push_back(e);
      else if (k == "rios" || k == "wios") st.io_serviced.push_back(e);
    }
  });
}

// The huge page sizes of this kernel, named as cgroup files name them ("2MB").
std::vector<std::string> page_sizes() {
  std::vector<std::string> out;
  DIR *d = ::opendir("/sys/kernel/mm/hugepages");
  if (!d) return out;
  while (auto *e = ::readdir(d)) {
    std::string_view n = e->d_name; // hugepages-2048kB
    if (!n.starts_with("hugepages-") || !n.ends_with("kB")) continue;
    auto kb = parse_u64(n.substr(10, n.size() - 12));
    if (!kb) continue;
    uint64_t v = *kb;
    const char *unit = "KB";
    if (v % (1024 * 1024) == 0) v /= 1024 * 1024, unit = "GB";
    else if (v % 1024 == 0) v /= 1024, unit = "MB";
    out.push_back(std::to_string(v) + unit);
  }
  ::closedir(d);
  return out;
}

// hugetlb counters in dir: v1 or v2 file names.
Result<> hugetlb_stats(const std::string &dir, bool v2, Stats &st) {
  for (auto &size : page_sizes()) {
    std::string p = "hugetlb." + size + ".";
    HugetlbStats h;
    ASSIGN_OR_RETURN(std::string s, opt_read(dir, p + (v2 ? "current" : "usage_in_bytes")));
    if (s.empty()) continue; // not accounted here
    h.usage = num(s);
    if (v2) {
      ASSIGN_OR_RETURN(s, opt_read(dir, p + "events"));
      h.failcnt = key(s, "max");
    } else {
      ASSIGN_OR_RETURN(s, opt_read(dir, p + "max_usage_in_bytes"));
      h.max_usage = num(s);
      ASSIGN_OR_RETURN(s, opt_read(dir, p + "failcnt"));
      h.failcnt = num(s);
    }
    st.hugetlb[size] = h;
  }
  return {};
}

} // namespace

Result<Stats> stats_v1(const std::vector<Hier> &h) {
  Stats st;
  const Hier *acct = find_hier(h, "cpuacct"), *cpu = find_hier(h, "cpu"),
             *mem = find_hier(h, "memory"), *pids = find_hier(h, "pids");
  ASSIGN_OR_RETURN(std::string s, opt_read(acct, "cpuacct.usage"));
  st.cpu_usage_ns = num(s);
  ASSIGN_OR_RETURN(s, opt_read(acct, "cpuacct.stat"));
  // cpuacct.stat counts USER_HZ ticks.
  static const uint64_t ns_per_tick = 1'000'000'000ull / uint64_t(::sysconf(_SC_CLK_TCK));
  st.cpu_user_ns = key(s, "user") * ns_per_tick;
  st.cpu_system_ns = key(s, "system") * ns_per_tick;
  ASSIGN_OR_RETURN(s, opt_read(cpu, "cpu.stat"));
  st.cpu_throttled_periods = key(s, "nr_throttled");
  st.cpu_throttled_ns = key(s, "throttled_time");
  ASSIGN_OR_RETURN(s, opt_read(mem, "memory.usage_in_bytes"));
  st.memory_usage = num(s);
  ASSIGN_OR_RETURN(s, opt_read(mem, "memory.max_usage_in_bytes"));
  st.memory_max_usage = num(s);
  ASSIGN_OR_RETURN(s, opt_read(mem, "memory.failcnt"));
  st.memory_failcnt = num(s);
  ASSIGN_OR_RETURN(s, opt_read(mem, "memory.limit_in_bytes"));
  st.memory_limit = num(s);
  ASSIGN_OR_RETURN(s, opt_read(mem, "memory.stat"));
  st.memory_cache = key(s, "cache");
  ASSIGN_OR_RETURN(s, opt_read(mem, "memory.oom_control"));
  st.oom_kills = key(s, "oom_kill");
  ASSIGN_OR_RETURN(s, opt_read(pids, "pids.current"));
  st.pids_current = num(s);
  ASSIGN_OR_RETURN(s, opt_read(pids, "pids.max"));
  st.pids_limit = num(s, 0);
  // CFQ's lists, else the throttling layer's (which sees every device), as runc.
  const Hier *blkio = find_hier(h, "blkio");
  ASSIGN_OR_RETURN(s, opt_read(blkio, "blkio.io_service_bytes_recursive"));
  st.io_service_bytes = blkio_v1_list(s);
  ASSIGN_OR_RETURN(s, opt_read(blkio, "blkio.io_serviced_recursive"));
  st.io_serviced = blkio_v1_list(s);
  if (st.io_service_bytes.empty() && st.io_serviced.empty()) {
    ASSIGN_OR_RETURN(s, opt_read(blkio, "blkio.throttle.io_service_bytes_recursive"));
    st.io_service_bytes = blkio_v1_list(s);
    ASSIGN_OR_RETURN(s, opt_read(blkio, "blkio.throttle.io_serviced_recursive"));
    st.io_serviced = blkio_v1_list(s);
  }
  // Hybrid hosts may account hugetlb in the unified hierarchy only.
  if (const Hier *x = find_hier(h, "hugetlb")) TRY(hugetlb_stats(x->dir, false, st));
  else if (const Hier *u = find_hier(h, "")) TRY(hugetlb_stats(u->dir, true, st));
  return st;
}

Result<Stats> stats_v2(const std::string &dir) {
  Stats st;
  ASSIGN_OR_RETURN(std::string s, opt_read(dir, "cpu.stat"));
  st.cpu_usage_ns = key(s, "usage_usec") * 1000;
  st.cpu_user_ns = key(s, "user_usec") * 1000;
  st.cpu_system_ns = key(s, "system_usec") * 1000;
  st.cpu_throttled_periods = key(s, "nr_throttled");
  st.cpu_throttled_ns = key(s, "throttled_usec") * 1000;
  ASSIGN_OR_RETURN(s, opt_read(dir, "memory.current"));
  st.memory_usage = num(s);
  ASSIGN_OR_RETURN(s, opt_read(dir, "memory.max"));
  st.memory_limit = num(s);
  ASSIGN_OR_RETURN(s, opt_read(dir, "memory.peak")); // 5.19+
  st.memory_max_usage = num(s);
  ASSIGN_OR_RETURN(s, opt_read(dir, "memory.events"));
  st.memory_failcnt = key(s, "max");
  st.oom_kills = key(s, "oom_kill");
  ASSIGN_OR_RETURN(s, opt_read(dir, "memory.stat"));
  st.memory_cache = key(s, "file");
  ASSIGN_OR_RETURN(s, opt_read(dir, "pids.current"));
  st.pids_current = num(s);
  ASSIGN_OR_RETURN(s, opt_read(dir, "pids.max"));
  st.pids_limit = num(s, 0);
  ASSIGN_OR_RETURN(s, opt_read(dir, "io.stat"));
  io_stat_v2(s, st);
  TRY(hugetlb_stats(dir, true, st));
  return st;
}

} // namespace berth::cgroups
