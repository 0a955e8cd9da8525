#include "linux/devices.hpp"

#include "linux/inroot.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace berth::linuxf {

namespace {

struct DefaultDev {
  const char *path;
  unsigned major, minor;
};
constexpr DefaultDev kDefaultDevices[] = {
    {"/dev/null", 1, 3},    {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8},  {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

struct Link {
  const char *target, *path;
};
constexpr Link kLinks[] = {
    {"/proc/self/fd", "/dev/fd"},     {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
    {"pts/ptmx", "/dev/ptmx"},
};

std::string dirname_of(const std::string &p) {
  auto s = p.rfind('/');
  return s == 0 || s == std::string::npos ? "/" : p.substr(0, s);
}
std::string basename_of(const std::string &p) { return p.substr(p.rfind('/') + 1); }

Result<> make_device(int rootfd, const std::string &path, mode_t type, unsigned maj, unsigned min,
                     mode_t perm, uid_t uid, gid_t gid, bool bind) {
  const std::string what = "create device " + path;
  if (bind) {
    // The host's node, by its path: only the standard ones make sense here.
    ASSIGN_OR_RETURN(UniqueFd t, make_in_root(rootfd, path, false));
    if (::mount(path.c_str(), fd_path(t.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
      return fail_errno(what + ": bind from the host");
    return {};
  }
  ASSIGN_OR_RETURN(UniqueFd dir, make_in_root(rootfd, dirname_of(path), true));
  UniqueFd d(::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) return fail_errno(what);
  std::string base = basename_of(path);
  // A file already there (an image may ship /dev/null as a plain file) is replaced.
  if (::unlinkat(d.get(), base.c_str(), 0) < 0 && errno != ENOENT && errno != EISDIR)
    return fail_errno(what + ": remove existing file");
  if (::mknodat(d.get(), base.c_str(), type | perm, makedev(maj, min)) < 0) return fail_errno(what);
  // mknod honours the umask: set the mode the config asked for.
  if (::fchmodat(d.get(), base.c_str(), perm, 0) < 0) return fail_errno(what + ": chmod");
  if (::fchownat(d.get(), base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return fail_errno(what + ": chown");
  return {};
}

} // namespace

Result<> setup_dev(int rootfd, const RootfsPlan &plan) {
  if (plan.setup_dev) {
    for (auto &d : kDefaultDevices) {
      bool listed = false;
      for (auto &c : plan.devices) listed |= c.path == d.path;
      if (listed) continue;
      TRY(make_device(rootfd, d.path, S_IFCHR, d.major, d.minor, 0666, 0, 0, plan.userns));
    }
    ASSIGN_OR_RETURN(UniqueFd dev, make_in_root(rootfd, "/dev", true));
    UniqueFd d(::openat(dev.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d) return fail_errno("open /dev in the container rootfs");
    for (auto &l : kLinks) {
      std::string base = basename_of(l.path);
      if (::symlinkat(l.target, d.get(), base.c_str()) < 0 && errno != EEXIST)
        return fail_errno(std::string("symlink ") + l.path + " -> " + l.target);
    }
    if (::access("/proc/kcore", F_OK) == 0) ::symlinkat("/proc/kcore", d.get(), "core");
  }
  for (auto &c : plan.devices) {
    mode_t type = c.type == "b" ? S_IFBLK : c.type == "p" ? S_IFIFO : S_IFCHR;
    mode_t perm = c.file_mode ? (*c.file_mode & 07777) : 0666;
    TRY(make_device(rootfd, c.path, type, unsigned(c.major), unsigned(c.minor), perm,
                    c.uid.value_or(0), c.gid.value_or(0), plan.userns && c.type != "p"));
  }
  return {};
}

Result<> mount_console(int slave_fd) {
  ASSIGN_OR_RETURN(UniqueFd root, open_in_root(AT_FDCWD, "/", O_PATH | O_DIRECTORY));
  // Never through a symlink: one planted in a /dev shared with another
  // container would put the terminal over a file of the container's choice
  // (a masked /proc file, ...; CVE-2025-52565).
  auto t = open_in_root_nofollow(root.get(), "/dev/console");
  if (!t && t.error().code() == ELOOP)
    return fail_msg("/dev/console in the container is a symlink (or under one): refusing to mount the "
                    "terminal through it");
  if (!t && t.error().code() == ENOENT) t = make_in_root(root.get(), "/dev/console", false);
  if (!t) return fail(t.error());
  if (::mount(fd_path(slave_fd).c_str(), fd_path(t->get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
    return fail_errno("bind the terminal onto /dev/console");
  return {};
}

} // namespace berth::linuxf
