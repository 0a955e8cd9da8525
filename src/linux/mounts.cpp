#include "linux/mounts.hpp"

#include "linux/inroot.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>

namespace berth::linuxf {

namespace {

constexpr unsigned long kPropagation = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

Result<> mount_at(const char *src, const std::string &target, const char *type,
                  unsigned long flags, const std::string &data, const std::string &what) {
  if (::mount(src, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) < 0)
    return fail_errno(what);
  return {};
}

unsigned long locked_flags(const std::string &target) {
  struct statvfs sv;
  if (::statvfs(target.c_str(), &sv) < 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

// tmpcopyup: the tmpfs starts with a copy of what the image had there.
Result<> copy_tree(int from, int to, const std::string &what) {
  int dup = ::fcntl(from, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return fail_errno("dup " + what);
  DIR *d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return fail_errno("read directory " + what);
  }
  Result<> res;
  while (dirent *e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::fstatat(from, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      res = fail_errno("stat " + what + "/" + n);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, n.c_str(), st.st_mode & 07777) < 0 && errno != EEXIST) {
        res = fail_errno("mkdir " + what + "/" + n);
        break;
      }
      UniqueFd sf(::openat(from, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd df(::openat(to, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sf || !df) {
        res = fail_errno("open " + what + "/" + n);
        break;
      }
      res = copy_tree(sf.get(), df.get(), what + "/" + n);
      if (!res) break;
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t l = ::readlinkat(from, n.c_str(), buf, sizeof buf - 1);
      if (l < 0) {
        res = fail_errno("readlink " + what + "/" + n);
        break;
      }
      buf[l] = 0;
      if (::symlinkat(buf, to, n.c_str()) < 0) {
        res = fail_errno("symlink " + what + "/" + n);
        break;
      }
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd sf(::openat(from, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd df(::openat(to, n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777));
      if (!sf || !df) {
        res = fail_errno("copy " + what + "/" + n);
        break;
      }
      char buf[65536];
      ssize_t r;
      while ((r = ::read(sf.get(), buf, sizeof buf)) > 0)
        if (::write(df.get(), buf, size_t(r)) != r) break;
      if (r < 0) {
        res = fail_errno("copy " + what + "/" + n);
        break;
      }
    } else {
      continue; // devices, sockets, fifos are not copied up
    }
    ::fchownat(to, n.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  }
  ::closedir(d);
  return res;
}

} // namespace

Result<> remount_bind(const std::string &target, unsigned long flags, const std::string &what) {
  unsigned long f = MS_BIND | MS_REMOUNT | (flags & ~(kPropagation | MS_REC | MS_BIND | MS_REMOUNT));
  if (::mount(nullptr, target.c_str(), nullptr, f, nullptr) == 0) return {};
  if (errno != EPERM) return fail_errno(what);
  if (::mount(nullptr, target.c_str(), nullptr, f | locked_flags(target), nullptr) < 0)
    return fail_errno(what);
  return {};
}

Result<> set_mount_attr(int fd, uint64_t set, uint64_t clr, const std::string &what) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  if (::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    return fail_errno(what);
  return {};
}

Result<> mount_entry(int rootfd, const MountEntry &e, const RootfsPlan &plan) {
  const std::string &dest = e.m.destination;
  const std::string what = "mount " + (e.source.empty() ? e.m.type : e.source) + " on " + dest;
  if (e.m.type == "cgroup") return mount_cgroup(rootfd, e, plan);

  bool dir = e.is_bind ? e.source_is_dir : true;
  ASSIGN_OR_RETURN(UniqueFd target, make_in_root(rootfd, dest, dir));
  std::string tpath = fd_path(target.get());
  unsigned long flags = e.o.flags & ~MS_REMOUNT;

  if (e.idmap_fd >= 0) {
    if (::syscall(SYS_move_mount, e.idmap_fd, "", target.get(), "",
                  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return fail_errno(what + ": attach the idmapped mount");
  } else if (e.is_bind) {
    // Open the source first so a swapped symlink cannot change what is bound.
    int sfd = ::open(e.source.c_str(), O_PATH | O_CLOEXEC);
    if (sfd < 0) return fail_errno(what + ": open source");
    UniqueFd src(sfd);
    TRY(mount_at(fd_path(src.get()).c_str(), tpath, nullptr,
                 MS_BIND | (e.o.recursive ? MS_REC : 0), "", what));
  } else {
    unsigned long mflags = flags;
    std::string data = e.o.data;
    if (e.m.type == "tmpfs" && e.o.tmpcopyup) mflags &= ~MS_RDONLY; // fill first, then remount
    auto r = mount_at(e.m.source.empty() ? e.m.type.c_str() : e.m.source.c_str(), tpath,
                      e.m.type.c_str(), mflags, data, what);
    if (!r) {
      // In a user namespace without its own network (ipc) namespace the kernel
      // refuses sysfs (mqueue): bind the host's instead, as runc does.
      int err = r.error().code();
      const char *fallback = nullptr;
      if (plan.userns && (err == EPERM || err == EBUSY)) {
        if (e.m.type == "sysfs") fallback = "/sys";
        else if (e.m.type == "mqueue") fallback = "/dev/mqueue";
      }
      if (!fallback) return r;
      TRY(mount_at(fallback, tpath, nullptr, MS_BIND | MS_REC, "",
                   what + " (refused in this user namespace; binding the host's " + fallback +
                       " instead)"));
      ASSIGN_OR_RETURN(UniqueFd mnt, open_in_root(rootfd, dest));
      TRY(remount_bind(fd_path(mnt.get()), flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, what));
    }
    if (e.m.type == "tmpfs" && e.o.tmpcopyup) {
      ASSIGN_OR_RETURN(UniqueFd mnt, open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY));
      int under = ::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (under < 0) return fail_errno(what + ": tmpcopyup");
      UniqueFd u(under);
      TRY_CTX(copy_tree(u.get(), mnt.get(), dest), what + ": tmpcopyup");
      if (flags & MS_RDONLY) TRY(remount_bind(fd_path(mnt.get()), flags, what));
    }
  }

  // What mount(2) ignores on a new bind: apply by remounting the new mount.
  if (e.is_bind && (flags & ~(MS_BIND | MS_REC)) != 0) {
    ASSIGN_OR_RETURN(UniqueFd mnt, open_in_root(rootfd, dest));
    TRY(remount_bind(fd_path(mnt.get()), flags, what + ": remount"));
  }
  if (!e.o.propagation.empty() || e.o.attr_set || e.o.attr_clr) {
    ASSIGN_OR_RETURN(UniqueFd mnt, open_in_root(rootfd, dest));
    for (unsigned long p : e.o.propagation)
      TRY(mount_at(nullptr, fd_path(mnt.get()), nullptr, p, "", what + ": set propagation"));
    if (e.o.attr_set || e.o.attr_clr)
      TRY(set_mount_attr(mnt.get(), e.o.attr_set, e.o.attr_clr, what + ": set recursive attributes"));
  }
  return {};
}

} // namespace berth::linuxf
