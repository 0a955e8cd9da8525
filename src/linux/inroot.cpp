#include "linux/inroot.hpp"

#include "common/syscalls.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

namespace berth::linuxf {

Result<UniqueFd> open_in_root(int rootfd, const std::string &path, int flags) {
  int fd = sys::openat2(rootfd, path.c_str(), uint64_t(flags | O_CLOEXEC), 0,
                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) return fail_errno("open " + path + " in the container rootfs");
  return UniqueFd(fd);
}

Result<UniqueFd> open_in_root_nofollow(int rootfd, const std::string &path, int flags) {
  int fd = sys::openat2(rootfd, path.c_str(), uint64_t(flags | O_CLOEXEC), 0,
                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
  if (fd < 0) return fail_errno("open " + path + " in the container rootfs without following symlinks");
  return UniqueFd(fd);
}

static std::string parent_of(const std::string &p) {
  auto s = p.find_last_not_of('/');
  if (s == std::string::npos) return "/";
  auto slash = p.rfind('/', s);
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

static std::string base_of(const std::string &p) {
  auto e = p.find_last_not_of('/');
  if (e == std::string::npos) return "";
  auto slash = p.rfind('/', e);
  return p.substr(slash == std::string::npos ? 0 : slash + 1, e - (slash == std::string::npos ? 0 : slash + 1) + 1);
}

static Result<UniqueFd> make_in_root_at(int rootfd, const std::string &path, bool dir, mode_t mode,
                                        int depth) {
  auto r = open_in_root(rootfd, path);
  if (r || r.error().code() != ENOENT) return r;
  if (depth > 40) return fail_sys(ELOOP, "create " + path + " in the container rootfs");
  std::string base = base_of(path);
  if (base.empty() || base == "." || base == "..") return r;
  ASSIGN_OR_RETURN(UniqueFd parent, make_in_root_at(rootfd, parent_of(path), true, 0755, depth + 1));
  // Re-open the parent as a real directory: mkdirat/openat need one, not O_PATH.
  int pfd = ::openat(parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) return fail_errno("open " + parent_of(path) + " in the container rootfs");
  UniqueFd p(pfd);
  // A dangling symlink: create what it points to, inside the rootfs (as
  // runc's securejoin does), never on the host.
  struct stat st;
  if (::fstatat(p.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(p.get(), base.c_str(), target, sizeof target - 1);
    if (n < 0) return fail_errno("readlink " + path + " in the container rootfs");
    target[n] = 0;
    std::string next = target[0] == '/' ? std::string(target) : parent_of(path) + "/" + target;
    return make_in_root_at(rootfd, next, dir, mode, depth + 1);
  }
  if (dir) {
    if (::mkdirat(p.get(), base.c_str(), mode) < 0 && errno != EEXIST)
      return fail_errno("mkdir " + path + " in the container rootfs");
  } else {
    int f = ::openat(p.get(), base.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0 && errno != EEXIST && errno != ELOOP)
      return fail_errno("create " + path + " in the container rootfs");
    if (f >= 0) ::close(f);
  }
  return open_in_root(rootfd, path);
}

Result<UniqueFd> make_in_root(int rootfd, const std::string &path, bool dir, mode_t mode) {
  return make_in_root_at(rootfd, path, dir, mode, 0);
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

} // namespace berth::linuxf
