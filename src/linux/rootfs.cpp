#include "linux/rootfs.hpp"

#include "common/file.hpp"
#include "common/syscalls.hpp"
#include "linux/devices.hpp"
#include "linux/inroot.hpp"
#include "linux/idmap.hpp"
#include "linux/lsm.hpp"
#include "linux/mounts.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include <climits>

namespace berth::linuxf {

Result<RootfsPlan> plan_rootfs(const oci::Spec &spec, const std::string &bundle) {
  RootfsPlan p;
  if (!spec.root || spec.root->path.empty()) return fail_msg("root.path: required");
  p.rootfs = spec.root->path[0] == '/' ? spec.root->path : path_join(bundle, spec.root->path);
  struct stat st;
  if (::stat(p.rootfs.c_str(), &st) < 0) return fail_errno("root.path: rootfs " + p.rootfs);
  if (!S_ISDIR(st.st_mode)) return fail_msg("root.path: rootfs " + p.rootfs + " is not a directory");
  char real[PATH_MAX];
  if (!::realpath(p.rootfs.c_str(), real)) return fail_errno("root.path: resolve " + p.rootfs);
  p.rootfs = real;
  p.readonly = spec.root->readonly;
  p.userns = spec.find_namespace("user") != nullptr;
  p.cgroupns = spec.find_namespace("cgroup") != nullptr;
  if (spec.linux_) {
    const auto &l = *spec.linux_;
    if (!l.rootfs_propagation.empty()) {
      p.root_propagation = propagation_flag(l.rootfs_propagation);
      if (!p.root_propagation)
        return fail_msg("linux.rootfsPropagation: unknown value \"" + l.rootfs_propagation + "\"");
    }
    p.devices = l.devices;
    p.masked_paths = l.masked_paths;
    p.readonly_paths = l.readonly_paths;
    p.sysctl = l.sysctl;
    p.mount_label = l.mount_label;
  }
  for (size_t i = 0; i < spec.mounts.size(); i++) {
    const auto &m = spec.mounts[i];
    std::string field = "mounts[" + std::to_string(i) + "]";
    MountEntry e;
    e.m = m;
    e.o = parse_mount_options(m.options);
    e.is_bind = e.o.bind || m.type == "bind";
    if (m.destination.empty() || m.destination[0] != '/')
      return fail_msg(field + ".destination: must be an absolute path, got \"" + m.destination + "\"");
    if (e.is_bind) {
      if (m.source.empty()) return fail_msg(field + ".source: required for a bind mount");
      e.source = m.source[0] == '/' ? m.source : path_join(bundle, m.source);
      if (::stat(e.source.c_str(), &st) < 0)
        return fail_errno(field + ".source: bind source " + e.source);
      e.source_is_dir = S_ISDIR(st.st_mode);
      if (!e.o.bind) e.o.bind = true;
    } else if (m.type.empty()) {
      return fail_msg(field + ".type: required for a mount that is not a bind mount (" + m.destination + ")");
    }
    if ((e.o.idmap) && !e.is_bind)
      return fail_msg(field + ".options: idmap is only supported on bind mounts (" + m.destination + ")");
    if (m.destination == "/dev" && e.is_bind) p.setup_dev = false;
    // As runc: the filesystems made for the container carry linux.mountLabel;
    // proc, sysfs, mqueue and cgroup take no context option.
    static const char *const kUnlabeled[] = {"proc", "sysfs", "mqueue", "cgroup", "cgroup2"};
    bool labeled = !e.is_bind;
    for (const char *t : kUnlabeled)
      if (m.type == t) labeled = false;
    if (labeled) e.o.data = with_mount_label(e.o.data, p.mount_label);
    p.mounts.push_back(std::move(e));
  }
  return p;
}

namespace {

// A user namespace with the given maps, held by a short-lived child.
Result<UniqueFd> make_userns(const std::string &uid_map, const std::string &gid_map) {
  int pfd = -1;
  pid_t pid = sys::clone3(CLONE_NEWUSER | CLONE_PIDFD, SIGCHLD, -1, &pfd);
  if (pid < 0) return fail_errno("create a user namespace for an idmapped mount");
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  UniqueFd child(pfd);
  auto r = linuxf::write_id_maps(pid, uid_map, gid_map);
  UniqueFd ns(::open(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  int err = errno;
  sys::pidfd_send_signal(child.get(), SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
  if (!r) return fail(r.error());
  if (!ns) return fail_sys(err, "open the idmapped mount's user namespace");
  return ns;
}

} // namespace

Result<> prepare_idmapped_mounts(RootfsPlan &plan, const oci::Spec &spec, std::vector<UniqueFd> &owned) {
  for (size_t i = 0; i < plan.mounts.size(); i++) {
    auto &e = plan.mounts[i];
    if (!e.o.idmap) continue;
    std::string field = "mounts[" + std::to_string(i) + "] (" + e.m.destination + ")";
    const auto *uids = &e.m.uid_mappings, *gids = &e.m.gid_mappings;
    if (uids->empty() && spec.linux_) uids = &spec.linux_->uid_mappings;
    if (gids->empty() && spec.linux_) gids = &spec.linux_->gid_mappings;
    if (uids->empty() || gids->empty())
      return fail_msg(field + ": idmap needs uidMappings and gidMappings, on the mount or for a user namespace");
    ASSIGN_OR_RETURN(UniqueFd userns, make_userns(format_id_map(*uids), format_id_map(*gids)));
    bool rec = e.o.ridmap || e.o.recursive;
    int tree = int(::syscall(SYS_open_tree, AT_FDCWD, e.source.c_str(),
                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0)));
    if (tree < 0) return fail_errno(field + ": clone " + e.source);
    UniqueFd t(tree);
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = uint64_t(userns.get());
    if (::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (e.o.ridmap ? AT_RECURSIVE : 0), &attr,
                  sizeof attr) < 0)
      return fail_errno(field + ": idmap " + e.source);
    e.idmap_fd = tree;
    owned.push_back(std::move(t));
  }
  return {};
}

Result<> setup_mounts(const RootfsPlan &plan) {
  // Nothing we mount may propagate back to the host.
  // The requested rootfsPropagation is applied after pivot_root (shared or
  // unbindable here would break the rootfs bind and pivot_root).
  unsigned long rootprop = (plan.root_propagation & MS_PRIVATE) ? MS_PRIVATE | MS_REC : MS_SLAVE | MS_REC;
  if (::mount(nullptr, "/", nullptr, rootprop, nullptr) < 0)
    return fail_errno("make / a slave mount");
  if (::mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return fail_errno("bind mount the rootfs " + plan.rootfs);
  int rfd = ::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) return fail_errno("open rootfs " + plan.rootfs);
  UniqueFd root(rfd);
  for (const auto &e : plan.mounts) TRY(mount_entry(root.get(), e, plan));
  return setup_dev(root.get(), plan);
}

Result<> enter_rootfs(const RootfsPlan &plan) {
  if (::chdir(plan.rootfs.c_str()) < 0) return fail_errno("chdir to rootfs " + plan.rootfs);
  if (plan.no_pivot) {
    if (::mount(plan.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0)
      return fail_errno("move the rootfs onto / (--no-pivot)");
    if (::chroot(".") < 0) return fail_errno("chroot into the rootfs");
  } else {
    UniqueFd oldroot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!oldroot) return fail_errno("open the old root");
    // pivot_root(".", "."): the old root ends up on top of the new one and is
    // detached next, without needing a directory for it in the image.
    if (sys::pivot_root(".", ".") < 0) return fail_errno("pivot_root to " + plan.rootfs);
    if (::fchdir(oldroot.get()) < 0) return fail_errno("fchdir to the old root");
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
      return fail_errno("make the old root a slave");
    if (::umount2(".", MNT_DETACH) < 0) return fail_errno("detach the old root");
  }
  if (::chdir("/") < 0) return fail_errno("chdir to /");
  return {};
}

namespace {

// The container's /dev/null, checked to be the null device: a /dev shared
// with another container (a volume bound at /dev) could make it a symlink to,
// say, /proc/sys/kernel/core_pattern, and a "mask" bound from it would then
// expose that file instead of hiding the masked one (CVE-2025-31133).
Result<UniqueFd> open_null_device(int root) {
  auto fd = open_in_root_nofollow(root, "/dev/null");
  if (!fd) return fail(fd.error().with("linux.maskedPaths: the null device to mask files with"));
  struct stat st;
  if (::fstat(fd->get(), &st) < 0) return fail_errno("linux.maskedPaths: stat /dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    return fail_msg("linux.maskedPaths: /dev/null in the container is not the null device (1:3): "
                    "refusing to mask files with it");
  return fd;
}

} // namespace

Result<> finish_rootfs(const RootfsPlan &plan) {
  int rfd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) return fail_errno("open /");
  UniqueFd root(rfd);
  UniqueFd null_dev; // what masks files, once checked to be the null device
  for (const auto &p : plan.masked_paths) {
    auto t = open_in_root(root.get(), p);
    if (!t) {
      if (t.error().code() == ENOENT) continue;
      return fail(t.error().with("linux.maskedPaths"));
    }
    struct stat st;
    if (::fstat(t->get(), &st) < 0) return fail_errno("stat masked path " + p);
    std::string tp = fd_path(t->get());
    if (!S_ISDIR(st.st_mode) && !null_dev) {
      ASSIGN_OR_RETURN(null_dev, open_null_device(root.get()));
    }
    int rc = S_ISDIR(st.st_mode)
                 ? ::mount("tmpfs", tp.c_str(), "tmpfs", MS_RDONLY,
                           plan.mount_label.empty() ? nullptr : with_mount_label("", plan.mount_label).c_str())
                 : ::mount(fd_path(null_dev.get()).c_str(), tp.c_str(), nullptr, MS_BIND, nullptr);
    if (rc < 0) return fail_errno("mask " + p);
  }
  // Before readonlyPaths: /proc/sys is usually one of them.
  for (const auto &[key, value] : plan.sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); i++)
      if (path[i] == '.') path[i] = '/';
    if (key.find("..") != std::string::npos)
      return fail_msg("linux.sysctl: invalid key \"" + key + "\"");
    auto r = write_file(path, value);
    if (!r) return fail(r.error().with("linux.sysctl: set " + key + "=" + value));
  }
  for (const auto &p : plan.readonly_paths) {
    auto t = open_in_root(root.get(), p);
    if (!t) {
      if (t.error().code() == ENOENT) continue;
      return fail(t.error().with("linux.readonlyPaths"));
    }
    if (::mount(fd_path(t->get()).c_str(), fd_path(t->get()).c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      return fail_errno("bind read-only path " + p);
    ASSIGN_OR_RETURN(UniqueFd m, open_in_root(root.get(), p));
    TRY(remount_bind(fd_path(m.get()), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "remount " + p + " read-only"));
  }
  if (plan.readonly) TRY(remount_bind("/", MS_RDONLY, "remount the rootfs read-only"));
  // The rootfs mount itself; recursive only for the r-forms ("rshared").
  if (plan.root_propagation && ::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) < 0)
    return fail_errno("set rootfs propagation");
  return {};
}

} // namespace berth::linuxf
