// The cgroup v1 driver: one directory per mounted hierarchy (runc joins them
// all), plus the unified hierarchy's on hybrid hosts.
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"

namespace berth::cgroups {

namespace {

// cpuset.cpus and .mems of dir, filled from its parent first when empty: v1
// cpusets start empty and refuse tasks until both are set.
Result<std::pair<std::string, std::string>> cpuset_of(const std::string &mnt,
                                                      const std::string &dir, bool known_empty) {
  std::string cpus, mems;
  if (!known_empty) {
    ASSIGN_OR_RETURN(cpus, cg_read_line(dir, "cpuset.cpus"));
    ASSIGN_OR_RETURN(mems, cg_read_line(dir, "cpuset.mems"));
    if (!cpus.empty() && !mems.empty()) return std::pair{cpus, mems};
  }
  if (dir == mnt) return fail_msg("cpuset: the root cpuset " + mnt + " has no cpus or mems");
  ASSIGN_OR_RETURN(auto p, cpuset_of(mnt, parent_dir(dir), false));
  if (cpus.empty()) TRY_CTX(cg_write(dir, "cpuset.cpus", p.first), "copy the parent's cpuset");
  if (mems.empty()) TRY_CTX(cg_write(dir, "cpuset.mems", p.second), "copy the parent's cpuset");
  return p;
}

class V1Manager final : public FsManager {
public:
  using FsManager::FsManager;

  Result<> freeze() override { return set_frozen(true); }
  Result<> thaw() override { return set_frozen(false); }
  Result<bool> frozen() override {
    auto *x = find_hier(h_, "freezer");
    if (!x) return fail_msg(kNoFreezer);
    return frozen_v1(x->dir);
  }
  Result<Stats> stats() override { return stats_v1(h_); }
  Result<UniqueFd> oom_notifier() override {
    auto *x = find_hier(h_, "memory");
    if (!x) return fail_msg("watch for OOM kills: the memory cgroup controller is not mounted");
    return oom_notifier_v1(x->dir);
  }

protected:
  Result<> make_dirs() override {
    TRY(FsManager::make_dirs());
    // Each cpuset level we made, top-down, takes its parent's cpus and mems.
    auto *x = find_hier(h_, "cpuset");
    if (!x) return {};
    int fresh = fresh_[size_t(x - h_.data())];
    if (fresh == 0) return {};
    std::vector<std::string> made{x->dir};
    while (int(made.size()) < fresh) made.push_back(parent_dir(made.back()));
    for (auto it = made.rbegin(); it != made.rend(); ++it) {
      auto r = cpuset_of(x->mnt, *it, true);
      if (!r) {
        undo();
        return fail(std::move(r).error());
      }
    }
    return {};
  }
  Result<> apply(const oci::Resources &res, bool update) override {
    return apply_v1(h_, res, update);
  }

private:
  static constexpr const char *kNoFreezer =
      "freeze cgroup: the freezer cgroup controller is not mounted";
  Result<> set_frozen(bool f) {
    auto *x = find_hier(h_, "freezer");
    if (!x) return fail_msg(kNoFreezer);
    return freeze_v1(x->dir, f);
  }
};

} // namespace

std::unique_ptr<Manager> new_v1_manager(Layout layout, std::vector<Hier> h) {
  return std::make_unique<V1Manager>(layout, std::move(h));
}

} // namespace berth::cgroups
