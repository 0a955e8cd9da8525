// A container resolved from config.json in the parent before clone: clone
// flags, namespaces to join, id maps, rootfs plan, process plan, hooks.
#pragma once

#include "cgroups/manager.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "linux/rootfs.hpp"
#include "oci/spec.hpp"
#include "runtime/process_plan.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace berth::runtime {

struct NsJoin {
  int flag;
  std::string path;
  UniqueFd fd;
};

struct ContainerPlan {
  std::string id, bundle;
  oci::Spec spec;
  uint64_t clone_flags = 0;       // namespaces clone3 creates
  bool unshare_cgroupns = false;  // created by the child once it is in its cgroup (v1)
  bool new_timens = false;
  std::string time_offsets;
  std::vector<NsJoin> joins;      // joined by the child with setns, in order
  UniqueFd join_pid;              // pid namespace: joined by the parent before clone
  // A new user namespace with other namespaces joined by path: those must be
  // joined before the user namespace exists (as runc does: from inside it the
  // runtime would lack the privilege over them), so the parent joins them
  // around clone3 and returns to its own afterwards.
  bool joins_in_parent = false;
  bool userns = false;
  // A user namespace joined by path: the new namespaces must belong to it, so
  // the child joins it first, unshares these, and forks the init.
  bool join_userns = false;
  uint64_t unshare_flags = 0;
  bool new_keyring = true;        // a session keyring of its own (unless --no-new-keyring)
  std::string uid_map, gid_map;
  std::optional<std::string> hostname, domainname;
  linuxf::RootfsPlan rootfs;
  ProcessPlan process;
  // Fds the child uses (owned by the caller).
  int sync_fd = -1, fifo_fd = -1, console_fd = -1;
  // The container's cgroups, which the init enters itself first thing (owned
  // by the caller; null: none).
  const cgroups::SelfJoin *cgroup_join = nullptr;
};

// cgroupns_at_clone: whether clone3 may create the cgroup namespace (v2 with
// CLONE_INTO_CGROUP puts the child in its cgroup first).
// state_root: where the seccomp cache is (plan_process).
Result<ContainerPlan> plan_container(oci::Spec spec, const std::string &bundle, const std::string &id,
                                     bool no_pivot, bool cgroupns_at_clone, const std::string &state_root);

// The container's init, in the child of clone3. Never returns.
[[noreturn]] void container_init(ContainerPlan &plan);

} // namespace berth::runtime
