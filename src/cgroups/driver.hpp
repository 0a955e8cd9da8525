// What the v1 and v2 drivers share: one container cgroup as a directory in
// each hierarchy, and the operations that do not depend on the cgroup version.
// Internal to cgroups/.
#pragma once

#include "cgroups/manager.hpp"
#include "common/unique_fd.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cgroups {

struct Hier {
  std::string name; // v1: "memory", "cpu,cpuacct", "name=systemd"; "" = the cgroup2 hierarchy
  std::string mnt;  // its mount point
  std::string dir;  // the container's cgroup in it
  int made = 0;     // trailing levels of dir that create() made (destroy removes those)

  bool has(std::string_view controller) const;
};

// The hierarchy holding controller ("" = cgroup2), or nullptr.
const Hier *find_hier(const std::vector<Hier> &h, std::string_view controller);

class FsManager : public Manager {
public:
  FsManager(Layout layout, std::vector<Hier> h) : layout_(layout), h_(std::move(h)) {}

  Result<> create(const oci::Resources *res) override;
  void plan_create() override;
  Result<> update(const oci::Resources &res) override { return apply(res, true); }
  Result<> add(pid_t pid) override;
  Result<SelfJoin> prepare_self_join() override;
  Result<std::vector<pid_t>> pids() override;
  Result<> kill_all(int sig) override;
  Result<> destroy() override;
  std::string to_json() const override;

protected:
  // mkdir in every hierarchy, recording Hier::made.
  virtual Result<> make_dirs();
  virtual Result<> apply(const oci::Resources &res, bool update) = 0;
  // Removes what the create() in progress made (its error path).
  void undo();
  // The hierarchy whose cgroup.procs lists every process of the container.
  const Hier &main_hier() const;
  // A directory fd of the cgroup in the cgroup2 hierarchy (v2, hybrid),
  // opened on first use; -1 if there is none or it cannot be opened.
  int unified_fd();

  Layout layout_;
  std::vector<Hier> h_;
  std::vector<int> fresh_; // per hierarchy: levels the create() in progress made
  UniqueFd unified_fd_;
};

std::unique_ptr<Manager> new_v1_manager(Layout layout, std::vector<Hier> h);
std::unique_ptr<Manager> new_v2_manager(std::vector<Hier> h);

// --- resources (resources_v1.cpp, resources_v2.cpp, devices_*.cpp) ---

Result<> apply_v1(const std::vector<Hier> &h, const oci::Resources &r, bool update);
// v2 files of r in dir; dirfd (may be -1: opened on demand) is for the device program.
Result<> apply_v2(const std::string &dir, int dirfd, const oci::Resources &r, bool update);
// An error unless the kernel has hugepages of size ("2MB", "1GB").
Result<> check_page_size(const std::string &size);
Result<> apply_v2_hugetlb(const std::string &dir, const std::vector<oci::HugepageLimit> &l);
Result<> apply_v2_unified(const std::string &dir, const std::map<std::string, std::string> &u);
// Writes "+c" for each of controllers into cgroup.subtree_control of every
// ancestor of h.dir from the mount point down. strict: a controller that cannot
// be enabled is an error (else it is skipped, as runc does, and the resource
// write that needs it fails with a clear message).
Result<> enable_controllers(const Hier &h, const std::vector<std::string> &controllers,
                            bool strict);
// The controllers of mount point mnt's cgroup.controllers (read once per mount).
Result<const std::vector<std::string> *> available_controllers(const std::string &mnt);

Result<> apply_devices_v1(const std::string &dir, const std::vector<oci::DeviceCgroup> &d);
// The v2 device program for rules, verified and loaded (not attached).
Result<UniqueFd> load_device_program(const std::vector<oci::DeviceCgroup> &rules);
Result<> apply_devices_bpf(int dirfd, const std::string &dir,
                           const std::vector<oci::DeviceCgroup> &d);

// --- freezer (freeze.cpp) and stats (stats.cpp) ---

Result<> freeze_v1(const std::string &dir, bool freeze);
Result<bool> frozen_v1(const std::string &dir);
Result<> freeze_v2(const std::string &dir, bool freeze);
Result<bool> frozen_v2(const std::string &dir);

Result<Stats> stats_v1(const std::vector<Hier> &h);
Result<Stats> stats_v2(const std::string &dir);

// --- OOM notification (oom.cpp) ---

Result<UniqueFd> oom_notifier_v1(const std::string &memory_dir);
Result<UniqueFd> oom_notifier_v2(const std::string &dir);

} // namespace berth::cgroups
