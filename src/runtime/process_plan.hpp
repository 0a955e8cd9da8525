// Everything about the container's process (init or exec'd) resolved in the
// parent, so that the child between clone and exec only applies it.
#pragma once

#include "common/error.hpp"
#include "linux/capabilities.hpp"
#include "linux/lsm.hpp"
#include "linux/rlimits.hpp"
#include "linux/sched.hpp"
#include "linux/seccomp.hpp"
#include "runtime/seccomp_cache.hpp"
#include "oci/spec.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace berth::runtime {

struct ProcessPlan {
  std::vector<std::string> args, env;
  std::string cwd;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::optional<mode_t> umask;
  std::optional<linuxf::CapSets> caps;
  std::vector<linuxf::ResolvedRlimit> rlimits;
  bool no_new_privs = false;
  std::optional<int> oom_score_adj;
  linuxf::ResolvedSched sched;
  int ioprio = 0;
  long personality = -1;
  std::optional<cpu_set_t> cpus_initial, cpus_final;
  std::optional<linuxf::CompiledSeccomp> seccomp;
  // A program compiled now, for the cache once the process exists.
  SeccompCacheEntry seccomp_cache;
  linuxf::LsmPlan lsm;
  // The child's /proc/thread-self/attr, opened while the host's /proc is at
  // hand, when lsm asks for something (-1 otherwise).
  int lsm_attr_dir = -1;
  bool terminal = false;
  std::optional<oci::ConsoleSize> console_size;
  int preserve_fds = 0;
};

// Resolves names, compiles seccomp (through the cache in state_root),
// checks the LSM fields against this host; warnings (skipped capabilities,
// syscalls) go to the log.
Result<ProcessPlan> plan_process(const oci::Process &p, const std::optional<oci::Seccomp> &seccomp,
                                 const std::optional<oci::Personality> &pers, const std::string &state_root);

// Child side, after the rootfs is in place and the terminal attached:
// cwd, limits, scheduling, user, capabilities, LSM exec attributes,
// no_new_privs, seccomp. Returns the seccomp listener fd (NOTIFY) or -1.
Result<int> apply_process(const ProcessPlan &p);

// Child side, early: opens lsm_attr_dir when the plan needs it.
Result<> open_lsm_attr_dir(ProcessPlan &p);

// Adds HOME from the container's /etc/passwd (or "/") when env has none, as
// runc does. Call inside the container's root.
void add_default_home(ProcessPlan &p);

// Finds args[0] along the process's PATH inside the (current) root, as the
// exec will: an error here is reported before the container is created.
Result<std::string> find_executable(const ProcessPlan &p);

// Marks every fd above the preserved ones close-on-exec and execs.
// Returns only on failure.
Error exec_process(const ProcessPlan &p, const std::string &path);

} // namespace berth::runtime
