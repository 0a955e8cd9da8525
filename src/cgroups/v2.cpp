// The cgroup v2 driver: one directory in the unified hierarchy.
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"

#include <csignal>

namespace berth::cgroups {

namespace {

class V2Manager final : public FsManager {
public:
  explicit V2Manager(std::vector<Hier> h) : FsManager(Layout::V2, std::move(h)) {}

  Result<> freeze() override { return freeze_v2(dir(), true); }
  Result<> thaw() override { return freeze_v2(dir(), false); }
  Result<bool> frozen() override { return frozen_v2(dir()); }
  Result<Stats> stats() override { return stats_v2(dir()); }
  Result<UniqueFd> oom_notifier() override { return oom_notifier_v2(dir()); }

  Result<> kill_all(int sig) override {
    // cgroup.kill (5.14+) kills everything at once, forks included.
    if (sig == SIGKILL) {
      auto r = cg_write(dir(), "cgroup.kill", "1");
      if (r || r.error().code() != ENOENT) return r;
    }
    return FsManager::kill_all(sig);
  }

protected:
  Result<> make_dirs() override {
    TRY(FsManager::make_dirs());
    // Every controller we may use, enabled in every ancestor (as runc and crun).
    static const std::vector<std::string> all = {"cpuset",  "cpu",  "io",   "memory",
                                                 "hugetlb", "pids", "rdma", "misc"};
    auto r = enable_controllers(h_.front(), all, false);
    if (!r) {
      undo();
      return r;
    }
    return {};
  }
  Result<> apply(const oci::Resources &res, bool update) override {
    return apply_v2(dir(), res.devices.empty() ? -1 : unified_fd(), res, update);
  }

private:
  const std::string &dir() const { return h_.front().dir; }
};

} // namespace

std::unique_ptr<Manager> new_v2_manager(std::vector<Hier> h) {
  return std::make_unique<V2Manager>(std::move(h));
}

} // namespace berth::cgroups
