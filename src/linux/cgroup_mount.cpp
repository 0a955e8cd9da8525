// The "cgroup" mount type. On cgroup v2 a cgroup2 filesystem (in a cgroup
// namespace it shows the container's own cgroup as its root). On v1 a tmpfs
// holding one directory per hierarchy: a fresh cgroup mount of that hierarchy
// in a cgroup namespace, else a bind of the container's own cgroup directory
// — the layout runc makes, which tools inside containers expect.
#include "linux/mounts.hpp"

#include "common/file.hpp"
#include "linux/inroot.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strings.hpp"

namespace berth::linuxf {

namespace {

struct Hierarchy {
  std::string mountpoint, root, name, super_opts;
  bool v2 = false;
};

// cgroup mounts from /proc/self/mountinfo (the host's, as this runs before pivot).
std::vector<Hierarchy> cgroup_mounts() {
  std::vector<Hierarchy> out;
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return out;
  each_line(*text, [&](std::string_view line) {
    auto sep = line.find(" - ");
    if (sep == std::string_view::npos) return;
    auto pre = words(line.substr(0, sep)), post = words(line.substr(sep + 3));
    if (pre.size() < 5 || post.size() < 3) return;
    std::string_view root = pre[3], mp = pre[4], fstype = post[0];
    if (fstype != "cgroup" && fstype != "cgroup2") return;
    if (!mp.starts_with("/sys/fs/cgroup")) return;
    Hierarchy h;
    h.mountpoint = mp;
    h.root = root;
    h.v2 = fstype == "cgroup2";
    h.super_opts = post[2];
    h.name = mp.substr(mp.rfind('/') + 1);
    out.push_back(h);
  });
  return out;
}

// This process's cgroup path in the hierarchy whose controllers are in `opts`.
std::string own_path(const std::string &cgroup_file, const Hierarchy &h) {
  std::string found = "/";
  bool done = false;
  each_line(cgroup_file, [&](std::string_view line) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (done || a == std::string_view::npos || b == std::string_view::npos) return;
    std::string_view ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (h.v2 ? ctrls.empty() : (!ctrls.empty() && h.super_opts.find(ctrls) != std::string::npos)) {
      found = path;
      done = true;
    }
  });
  return found;
}

// The v1 controller list of a hierarchy from its super options.
std::string v1_controllers(const std::string &sopts) {
  std::string out;
  for (std::string_view w : split(sopts, ',')) {
    if (w.empty() || w == "rw" || w == "ro" || w.rfind("release_agent", 0) == 0 || w == "clone_children" ||
        w == "noprefix" || w == "xattr" || w == "cpuset_v2_mode")
      continue;
    if (!out.empty()) out += ',';
    out += w;
  }
  return out;
}

} // namespace

Result<> mount_cgroup(int rootfd, const MountEntry &e, const RootfsPlan &plan) {
  const std::string &dest = e.m.destination;
  const std::string what = "mount cgroup on " + dest;
  unsigned long flags = (e.o.flags & ~MS_REMOUNT) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  auto hs = cgroup_mounts();
  bool v2_only = hs.size() == 1 && hs[0].v2 && hs[0].mountpoint == "/sys/fs/cgroup";
  ASSIGN_OR_RETURN(UniqueFd target, make_in_root(rootfd, dest, true));

  if (v2_only) {
    if (::mount("cgroup2", fd_path(target.get()).c_str(), "cgroup2", flags, nullptr) == 0) return {};
    if (errno != EPERM && errno != EBUSY) return fail_errno(what);
    // Not allowed to mount a new cgroup2 (no cgroup namespace in a user
    // namespace): bind the container's own cgroup.
    auto cg = read_file("/proc/self/cgroup");
    if (!cg) return fail(cg.error().with(what));
    std::string src = path_join(hs[0].mountpoint, own_path(*cg, hs[0]));
    if (::mount(src.c_str(), fd_path(target.get()).c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      return fail_errno(what + ": bind " + src);
    ASSIGN_OR_RETURN(UniqueFd mnt, open_in_root(rootfd, dest));
    return remount_bind(fd_path(mnt.get()), flags, what);
  }

  // v1 or hybrid: a tmpfs with one directory per hierarchy, read-only at the end.
  if (::mount("tmpfs", fd_path(target.get()).c_str(), "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0)
    return fail_errno(what + ": tmpfs");
  ASSIGN_OR_RETURN(UniqueFd top, open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY));
  ASSIGN_OR_RETURN(std::string cg, read_file("/proc/self/cgroup"));
  for (auto &h : hs) {
    if (::mkdirat(top.get(), h.name.c_str(), 0755) < 0 && errno != EEXIST)
      return fail_errno(what + ": mkdir " + h.name);
    ASSIGN_OR_RETURN(UniqueFd sub, open_in_root(rootfd, path_join(dest, h.name)));
    std::string sp = fd_path(sub.get());
    if (plan.cgroupns) {
      const char *type = h.v2 ? "cgroup2" : "cgroup";
      std::string data = h.v2 ? "" : v1_controllers(h.super_opts);
      if (::mount(type, sp.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) < 0)
        return fail_errno(what + ": mount " + h.name);
      continue;
    }
    std::string rel = own_path(cg, h);
    // The hierarchy may be mounted at a sub-tree (root != "/"): strip it.
    if (h.root != "/" && rel.rfind(h.root, 0) == 0) rel = rel.substr(h.root.size());
    std::string src = path_join(h.mountpoint, rel);
    if (::mount(src.c_str(), sp.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      return fail_errno(what + ": bind " + src);
    ASSIGN_OR_RETURN(UniqueFd mnt, open_in_root(rootfd, path_join(dest, h.name)));
    TRY(remount_bind(fd_path(mnt.get()), flags, what + ": remount " + h.name));
  }
  // cpu -> cpu,cpuacct and friends, as on the host.
  for (auto &h : hs) {
    if (h.name.find(',') == std::string::npos) continue;
    for (std::string_view p : split(h.name, ',')) {
      std::string part(p);
      if (::symlinkat(h.name.c_str(), top.get(), part.c_str()) < 0 && errno != EEXIST)
        return fail_errno(what + ": symlink " + part);
    }
  }
  if (flags & MS_RDONLY) TRY(remount_bind(fd_path(top.get()), flags, what + ": remount read-only"));
  return {};
}

} // namespace berth::linuxf
