// update and events: a running container's cgroup, changed and read.
#include "cgroups/manager.hpp"
#include "common/proc.hpp"
#include "runtime/runtime.hpp"
#include "runtime/state_store.hpp"

#include <nlohmann/json.hpp>

namespace berth::runtime {

namespace {

Result<std::pair<Record, std::unique_ptr<cgroups::Manager>>> running(const GlobalOptions &g,
                                                                     const std::string &id,
                                                                     const char *what) {
  StateStore store(g.root);
  ASSIGN_OR_RETURN(ContainerDir dir, store.open(id));
  ASSIGN_OR_RETURN(Record rec, dir.read());
  if (!process_matches(rec.oci.pid, rec.start_time))
    return fail_msg(std::string(what) + " container " + id + ": it is not running");
  if (rec.cgroup.empty()) return fail_msg(std::string(what) + " container " + id + ": no cgroup recorded");
  auto mgr = cgroups::load_manager(rec.cgroup);
  if (!mgr) return fail(mgr.error().with(std::string(what) + " container " + id));
  return std::pair{std::move(rec), std::move(*mgr)};
}

} // namespace

Result<> update(const GlobalOptions &g, const std::string &id, const oci::Resources &res) {
  ASSIGN_OR_RETURN(auto rm, running(g, id, "update"));
  TRY_CTX(rm.second->update(res), "update container " + id);
  return {};
}

Result<std::string> stats_json(const GlobalOptions &g, const std::string &id) {
  ASSIGN_OR_RETURN(auto rm, running(g, id, "read stats of"));
  auto st = rm.second->stats();
  if (!st) return fail(st.error().with("read stats of container " + id));
  using nlohmann::json;
  const cgroups::Stats &s = *st;
  json data = {
      {"cpu",
       {{"usage", {{"total", s.cpu_usage_ns}, {"kernel", s.cpu_system_ns}, {"user", s.cpu_user_ns}}},
        {"throttling", {{"throttledPeriods", s.cpu_throttled_periods}, {"throttledTime", s.cpu_throttled_ns}}}}},
      {"memory",
       {{"usage", {{"usage", s.memory_usage}, {"limit", s.memory_limit}, {"max", s.memory_max_usage},
                   {"failcnt", s.memory_failcnt}}},
        {"cache", s.memory_cache},
        {"raw", {{"oom_kill", s.oom_kills}}}}},
      {"pids", {{"current", s.pids_current}, {"limit", s.pids_limit}}},
      {"blkio", json::object()},
      {"hugetlb", json::object()},
  };
  return json{{"type", "stats"}, {"id", id}, {"data", data}}.dump();
}

bool is_running(const GlobalOptions &g, const std::string &id) {
  StateStore store(g.root);
  auto dir = store.open(id);
  if (!dir) return false;
  auto rec = dir->read();
  return rec && process_matches(rec->oci.pid, rec->start_time);
}

} // namespace berth::runtime
