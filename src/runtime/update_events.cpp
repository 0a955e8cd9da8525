// update and events: a running container's cgroup, changed and read.
#include "cgroups/manager.hpp"
#include "common/proc.hpp"
#include "runtime/runtime.hpp"
#include "runtime/state_store.hpp"
#include "common/syscalls.hpp"

#include <poll.h>
#include <unistd.h>

#include <chrono>

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

namespace {

using nlohmann::json;

json blkio_list(const std::vector<cgroups::BlkioEntry> &l) {
  json a = json::array();
  for (auto &e : l)
    a.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  return a;
}

// runc's "stats" event for the counters s.
std::string stats_record(const std::string &id, const cgroups::Stats &s) {
  json hugetlb = json::object();
  for (auto &[size, h] : s.hugetlb)
    hugetlb[size] = {{"usage", h.usage}, {"max", h.max_usage}, {"failcnt", h.failcnt}};
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
      {"blkio",
       {{"ioServiceBytesRecursive", blkio_list(s.io_service_bytes)},
        {"ioServicedRecursive", blkio_list(s.io_serviced)}}},
      {"hugetlb", hugetlb},
  };
  return json{{"type", "stats"}, {"id", id}, {"data", data}}.dump();
}

// Drains a non-blocking notification fd (eventfd or inotify).
void drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

} // namespace

Result<std::string> stats_json(const GlobalOptions &g, const std::string &id) {
  ASSIGN_OR_RETURN(auto rm, running(g, id, "read stats of"));
  auto st = rm.second->stats();
  if (!st) return fail(st.error().with("read stats of container " + id));
  return stats_record(id, *st);
}

Result<> events(const GlobalOptions &g, const std::string &id, long interval_ms,
                const std::function<void(const std::string &)> &emit) {
  ASSIGN_OR_RETURN(auto rm, running(g, id, "watch events of"));
  auto &[rec, mgr] = rm;
  UniqueFd pidfd(sys::pidfd_open(rec.oci.pid));
  if (!pidfd || !process_matches(rec.oci.pid, rec.start_time)) return {}; // already gone
  // Without a notifier (no memory controller) OOM kills show at the next record.
  auto oom = mgr->oom_notifier();
  auto stats = [&]() -> Result<cgroups::Stats> {
    auto st = mgr->stats();
    if (!st) return fail(st.error().with("read stats of container " + id));
    return st;
  };
  ASSIGN_OR_RETURN(cgroups::Stats st, stats());
  uint64_t ooms = st.oom_kills;
  auto oom_check = [&](const cgroups::Stats &now) {
    if (now.oom_kills > ooms) emit(json{{"type", "oom"}, {"id", id}}.dump());
    ooms = now.oom_kills;
  };
  for (;;) {
    emit(stats_record(id, st));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) break;
      pollfd p[2] = {{pidfd.get(), POLLIN, 0}, {oom ? oom->get() : -1, POLLIN, 0}};
      int n = ::poll(p, 2, int(std::min<long>(left, INT32_MAX)));
      if (n < 0 && errno != EINTR) return fail_errno("watch events of container " + id + ": poll");
      if (n > 0 && (p[1].revents & POLLIN)) {
        drain(p[1].fd);
        auto now = mgr->stats();
        if (now) oom_check(*now);
      }
      if (n > 0 && p[0].revents) {
        // The container ended: an OOM kill of its init is the last event.
        if (auto now = mgr->stats()) oom_check(*now);
        return {};
      }
    }
    auto now = stats();
    if (!now) return is_running(g, id) ? fail(std::move(now).error()) : Result<>{};
    oom_check(*now);
    st = std::move(*now);
  }
}

bool is_running(const GlobalOptions &g, const std::string &id) {
  StateStore store(g.root);
  auto dir = store.open(id);
  if (!dir) return false;
  auto rec = dir->read();
  return rec && process_matches(rec->oci.pid, rec->start_time);
}

} // namespace berth::runtime
