// make_manager / load_manager and the operations both drivers share.
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"
#include "cgroups/paths.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::cgroups {

bool Hier::has(std::string_view c) const {
  if (c.empty() || name.empty()) return c.empty() && name.empty();
  std::string_view n = name;
  while (!n.empty()) {
    auto comma = n.find(',');
    if (n.substr(0, comma) == c) return true;
    if (comma == std::string_view::npos) break;
    n.remove_prefix(comma + 1);
  }
  return false;
}

const Hier *find_hier(const std::vector<Hier> &h, std::string_view c) {
  for (auto &x : h)
    if (x.has(c)) return &x;
  return nullptr;
}

Result<> FsManager::make_dirs() {
  fresh_.assign(h_.size(), 0);
  for (size_t i = 0; i < h_.size(); ++i) {
    auto made = make_levels(h_[i].mnt, h_[i].dir);
    if (!made) {
      undo();
      return fail(std::move(made).error());
    }
    fresh_[i] = *made;
    // A second create() keeps what the first one made.
    h_[i].made = std::max(h_[i].made, *made);
  }
  return {};
}

void FsManager::undo() {
  unified_fd_.reset();
  for (size_t i = 0; i < fresh_.size() && i < h_.size(); ++i) {
    if (fresh_[i] == 0) continue;
    (void)remove_levels(h_[i].dir, fresh_[i]);
    if (h_[i].made == fresh_[i]) h_[i].made = 0;
    fresh_[i] = 0;
  }
}

Result<> FsManager::create(const oci::Resources *res) {
  TRY(make_dirs());
  if (res) {
    auto r = apply(*res, false);
    if (!r) {
      undo();
      return r;
    }
  }
  return {};
}

void FsManager::plan_create() {
  for (auto &x : h_) x.made = std::max(x.made, missing_levels(x.mnt, x.dir));
}

Result<> FsManager::add(pid_t pid) {
  std::string s = std::to_string(pid);
  for (auto &x : h_) TRY_CTX(cg_write(x.dir, "cgroup.procs", s), "add process " + s + " to cgroup");
  return {};
}

int FsManager::unified_fd() {
  if (!unified_fd_)
    if (auto *u = find_hier(h_, ""))
      unified_fd_.reset(::open(u->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return unified_fd_.get();
}

Result<SelfJoin> FsManager::prepare_self_join() {
  SelfJoin j;
  for (auto &x : h_) {
    if (x.name.empty()) {
      j.clone_fd = unified_fd();
      if (j.clone_fd < 0) return fail_errno("join cgroup: open " + x.dir);
      continue;
    }
    std::string p = x.dir + "/tasks";
    int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno("join cgroup: open " + p);
    j.tasks.emplace_back(fd);
    j.paths.push_back(std::move(p));
  }
  return j;
}

int join_self(const SelfJoin &j, size_t *failed) noexcept {
  for (size_t i = 0; i < j.tasks.size(); ++i) {
    ssize_t n;
    do n = ::write(j.tasks[i].get(), "0", 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) {
      if (failed) *failed = i;
      return n < 0 ? errno : EIO;
    }
  }
  return 0;
}

const Hier &FsManager::main_hier() const {
  // v1: any hierarchy holds every process; the freezer's is the one kill_all freezes.
  for (std::string_view c : {"freezer", "pids", "memory", "cpu", "devices"})
    if (auto *x = find_hier(h_, c)) return *x;
  return h_.front();
}

Result<std::vector<pid_t>> FsManager::pids() { return read_pids_recursive(main_hier().dir); }

Result<> FsManager::kill_all(int sig) {
  // Freezing first stops processes from forking new ones we would miss.
  auto was_frozen = frozen();
  bool can_freeze = bool(was_frozen);
  if (can_freeze && !*was_frozen) TRY_CTX(freeze(), "signal all processes of the cgroup");
  auto list = pids();
  Result<> res;
  if (!list)
    res = fail(std::move(list).error());
  else
    for (pid_t p : *list)
      if (::kill(p, sig) < 0 && errno != ESRCH && res)
        res = fail_errno("signal process " + std::to_string(p));
  // A v1-frozen process cannot die: thaw for SIGKILL even if it was paused.
  if (can_freeze && (!*was_frozen || sig == SIGKILL)) {
    auto t = thaw();
    if (!t && res) res = std::move(t);
  }
  return res;
}

Result<> FsManager::destroy() {
  unified_fd_.reset();
  Result<> res;
  for (auto &x : h_) {
    auto r = remove_levels(x.dir, x.made);
    if (!r && res) res = std::move(r);
  }
  return res;
}

namespace {

const char *layout_name(Layout l) {
  switch (l) {
  case Layout::V1:
    return "v1";
  case Layout::Hybrid:
    return "hybrid";
  case Layout::V2:
    return "v2";
  }
  return "";
}

std::unique_ptr<Manager> build(Layout l, std::vector<Hier> h) {
  if (l == Layout::V2) return new_v2_manager(std::move(h));
  return new_v1_manager(l, std::move(h));
}

bool clean_abs_path(const std::string &p) {
  if (p.empty() || p.front() != '/') return false;
  return p.find("/../") == std::string::npos && !p.ends_with("/..") &&
         p.find('\n') == std::string::npos;
}

} // namespace

std::string FsManager::to_json() const {
  nlohmann::json hs = nlohmann::json::array();
  for (auto &x : h_) hs.push_back({{"n", x.name}, {"p", x.mnt}, {"d", x.dir}, {"m", x.made}});
  return nlohmann::json{{"layout", layout_name(layout_)}, {"h", std::move(hs)}}.dump();
}

Result<std::unique_ptr<Manager>> make_manager(const std::string &cgroups_path,
                                              const std::string &id) {
  ASSIGN_OR_RETURN(CgroupsPath p, parse_cgroups_path(cgroups_path, id));
  ASSIGN_OR_RETURN(Layout l, cached_layout());
  std::vector<Hier> h;
  if (l == Layout::V2) {
    // /sys/fs/cgroup is the cgroup2 root: mountinfo is needed only to learn
    // the mount's root for a relative path.
    CgroupMount m{"/sys/fs/cgroup", "/", "", {}};
    if (!p.absolute) {
      ASSIGN_OR_RETURN(const MountTable *t, mount_table());
      if (t->has_v2 && t->v2.mountpoint == m.mountpoint) m.root = t->v2.root;
    }
    ASSIGN_OR_RETURN(std::string dir, resolve_dir(m, p));
    h.push_back({"", m.mountpoint, std::move(dir), 0});
    return build(l, std::move(h));
  }
  ASSIGN_OR_RETURN(const MountTable *t, mount_table());
  for (auto &m : t->v1) {
    ASSIGN_OR_RETURN(std::string dir, resolve_dir(m, p));
    h.push_back({m.name, m.mountpoint, std::move(dir), 0});
  }
  // Hybrid: the container also gets a cgroup in the unified hierarchy (as runc).
  if (l == Layout::Hybrid && t->has_v2) {
    ASSIGN_OR_RETURN(std::string dir, resolve_dir(t->v2, p));
    h.push_back({"", t->v2.mountpoint, std::move(dir), 0});
  }
  if (h.empty()) return fail_msg("cgroups: no cgroup hierarchy is mounted");
  return build(l, std::move(h));
}

Result<std::unique_ptr<Manager>> load_manager(const std::string &json) {
  auto bad = [](const std::string &why) { return fail_msg("load cgroup state: " + why); };
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto lj = j.find("layout");
  auto hj = j.find("h");
  if (lj == j.end() || !lj->is_string() || hj == j.end() || !hj->is_array() || hj->empty())
    return bad("missing layout or hierarchies");
  Layout l;
  auto ls = lj->get<std::string>();
  if (ls == "v1")
    l = Layout::V1;
  else if (ls == "hybrid")
    l = Layout::Hybrid;
  else if (ls == "v2")
    l = Layout::V2;
  else
    return bad("unknown layout \"" + ls + "\"");
  std::vector<Hier> h;
  for (auto &e : *hj) {
    if (!e.is_object()) return bad("hierarchy is not an object");
    auto n = e.find("n"), p = e.find("p"), d = e.find("d"), m = e.find("m");
    if (n == e.end() || !n->is_string() || p == e.end() || !p->is_string() || d == e.end() ||
        !d->is_string() || m == e.end() || !m->is_number_integer())
      return bad("hierarchy needs n, p, d, m");
    Hier x{n->get<std::string>(), p->get<std::string>(), d->get<std::string>(), m->get<int>()};
    // The state file decides what destroy() removes: accept only cgroup
    // directories below their mount point.
    if (!clean_abs_path(x.mnt) || !clean_abs_path(x.dir) || !x.dir.starts_with(x.mnt + "/"))
      return bad("bad cgroup directory \"" + x.dir + "\"");
    auto depth = std::count(x.dir.begin() + long(x.mnt.size()), x.dir.end(), '/');
    if (x.made < 0 || x.made > depth) return bad("bad level count for " + x.dir);
    h.push_back(std::move(x));
  }
  return build(l, std::move(h));
}

} // namespace berth::cgroups
