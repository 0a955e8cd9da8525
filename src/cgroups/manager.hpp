// One interface over the cgroup drivers (v1 — which also serves hybrid hosts —
// and v2), chosen by what the host mounts. A Manager stands for one
// container's cgroup; it can be rebuilt in a later command from to_json().
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace berth::cgroups {

enum class Layout { V1, Hybrid, V2 };
Result<Layout> detect_layout();

struct Stats {
  uint64_t cpu_usage_ns = 0, cpu_user_ns = 0, cpu_system_ns = 0;
  uint64_t cpu_throttled_periods = 0, cpu_throttled_ns = 0;
  uint64_t memory_usage = 0, memory_limit = 0, memory_max_usage = 0, memory_failcnt = 0;
  uint64_t memory_cache = 0;
  uint64_t pids_current = 0, pids_limit = 0;
  uint64_t oom_kills = 0;
};

class Manager {
public:
  virtual ~Manager() = default;

  // Creates the container's cgroup (remembering which directories it made, so
  // that destroy removes only those) and writes res, if any. On error nothing
  // it made is left.
  virtual Result<> create(const oci::Resources *res) = 0;
  // A directory fd of the v2 cgroup for clone3's CLONE_INTO_CGROUP; -1 on v1.
  virtual int clone_into_fd() = 0;
  // Moves pid into the cgroup, in every hierarchy.
  virtual Result<> add(pid_t pid) = 0;
  virtual Result<> update(const oci::Resources &res) = 0;
  // Returns once the cgroup is really frozen / thawed.
  virtual Result<> freeze() = 0;
  virtual Result<> thaw() = 0;
  virtual Result<bool> frozen() = 0;
  virtual Result<std::vector<pid_t>> pids() = 0;
  // Sends sig to every process in the cgroup; with SIGKILL uses cgroup.kill
  // where it exists, else freezes first so nothing escapes by forking.
  virtual Result<> kill_all(int sig) = 0;
  virtual Result<Stats> stats() = 0;
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
