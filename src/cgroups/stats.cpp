// Stats from the v1 and v2 accounting files. Best effort: a controller that is
// not mounted (or not enabled) leaves its fields at 0.
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"

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
  return st;
}

} // namespace berth::cgroups
