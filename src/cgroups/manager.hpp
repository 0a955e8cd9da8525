// One interface over the cgroup drivers (v1 — which also serves hybrid hosts —
// and v2), chosen by what the host mounts. A Manager stands for one
// container's cgroup; it can be rebuilt in a later command from to_json().
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "oci/spec.hpp"

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace berth::cgroups {

enum class Layout { V1, Hybrid, V2 };
Result<Layout> detect_layout();

// One block I/O counter: device, "Read"/"Write"/... and its value.
struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;
  uint64_t value = 0;
};

struct HugetlbStats {
  uint64_t usage = 0, max_usage = 0, failcnt = 0;
};

// Counters of the container's cgroup; 0 where the host does not account it.
// memory_limit: UINT64_MAX when unlimited on v2 (v1 shows its own huge
// number); pids_limit: 0 when unlimited.
struct Stats {
  uint64_t cpu_usage_ns = 0, cpu_user_ns = 0, cpu_system_ns = 0;
  uint64_t cpu_throttled_periods = 0, cpu_throttled_ns = 0;
  uint64_t memory_usage = 0, memory_limit = 0, memory_max_usage = 0, memory_failcnt = 0;
  uint64_t memory_cache = 0;
  uint64_t pids_current = 0, pids_limit = 0;
  uint64_t oom_kills = 0;
  std::vector<BlkioEntry> io_service_bytes, io_serviced; // as runc's *Recursive lists
  std::map<std::string, HugetlbStats> hugetlb;            // by page size, "2MB"
};

// What a new process needs to join the container's cgroups from the inside;
// see Manager::prepare_self_join and join_self.
struct SelfJoin {
  int clone_fd = -1;              // for clone3 CLONE_INTO_CGROUP, owned by the Manager; -1: none
  std::vector<UniqueFd> tasks;    // v1 "tasks" files the child writes "0" to
  std::vector<std::string> paths; // their paths, for error messages
};

// In the child, single-threaded, between clone and exec: moves the calling
// thread (= the process) into each of j.tasks. No allocation. Returns 0, or
// an errno with *failed set to the index of the file that refused it.
int join_self(const SelfJoin &j, size_t *failed = nullptr) noexcept;

class Manager {
public:
  virtual ~Manager() = default;

  // Creates the container's cgroup (remembering which directories it made, so
  // that destroy removes only those) and writes res, if any. On error nothing
  // it made is left.
  virtual Result<> create(const oci::Resources *res) = 0;
  // Counts, before create(), the directories it will make (those missing
  // now) as made, in to_json() too: a runtime killed during create() then
  // leaves a state from which destroy() removes them. Missing ones are fine
  // for destroy(), and a parent still in use by another cgroup stays.
  virtual void plan_create() = 0;
  // Moves pid into the cgroup, in every hierarchy.
  virtual Result<> add(pid_t pid) = 0;
  // How the runtime puts its children in the cgroup; add() is for others. On v1 a
  // write of another process's pid to cgroup.procs waits for an RCU grace
  // period (7-15 ms on the benchmark host); a single-threaded process moving
  // itself with "0" does not, nor does CLONE_INTO_CGROUP. Call in the parent
  // before clone (after create()); clone3 with CLONE_INTO_CGROUP into clone_fd
  // if it is >= 0, and have the child call join_self(). Then add() is not
  // needed. v2: clone_fd only; v1: tasks only; hybrid: both (clone_fd is the
  // unified hierarchy's cgroup). The fds are O_CLOEXEC; close them in the
  // parent once the child has joined.
  virtual Result<SelfJoin> prepare_self_join() = 0;
  virtual Result<> update(const oci::Resources &res) = 0;
  // Returns once the cgroup is really frozen / thawed.
  virtual Result<> freeze() = 0;
  virtual Result<> thaw() = 0;
  // Whether the cgroup is paused (freezing requested; freeze() waits for the
  // kernel to complete it).
  virtual Result<bool> frozen() = 0;
  virtual Result<std::vector<pid_t>> pids() = 0;
  // Sends sig to every process in the cgroup; with SIGKILL uses cgroup.kill
  // where it exists, else freezes first so nothing escapes by forking.
  virtual Result<> kill_all(int sig) = 0;
  virtual Result<Stats> stats() = 0;
  // A non-blocking fd that becomes readable when the cgroup's memory events
  // change (a v1 OOM eventfd, a v2 inotify watch of memory.events). The
  // caller drains it and compares Stats::oom_kills to tell an OOM kill.
  virtual Result<UniqueFd> oom_notifier() = 0;
  // Removes the directories create() made (waits briefly for the last
  // processes to leave). Directories that existed before create() stay.
  virtual Result<> destroy() = 0;
  // Serialised form for the state file.
  virtual std::string to_json() const = 0;
};

// A manager for linux.cgroupsPath (absolute, or relative to the runtime's own
// cgroup as runc does; empty means "/<id>").
Result<std::unique_ptr<Manager>> make_manager(const std::string &cgroups_path,
                                              const std::string &id);
// Rebuilds a manager from Manager::to_json() output.
Result<std::unique_ptr<Manager>> load_manager(const std::string &json);

} // namespace berth::cgroups
