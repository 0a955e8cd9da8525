#include "image/fsops.hpp"

#include "common/log.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace berth::image::fsops {

std::string proc_path(int dirfd, const char *name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

Result<> set_owner(const Target &t, uid_t uid, gid_t gid) {
  int r = t.fd >= 0 ? ::fchown(t.fd, uid, gid) : ::fchownat(t.dirfd, t.name, uid, gid, AT_SYMLINK_NOFOLLOW);
  if (r < 0) return fail_errno("chown " + std::to_string(uid) + ":" + std::to_string(gid));
  return {};
}

Result<> set_mode(const Target &t, mode_t perm) {
  if (t.type == S_IFLNK) return {};
  // Not a symlink (created just now by the caller): fchmodat follows none.
  int r = t.fd >= 0 ? ::fchmod(t.fd, perm) : ::fchmodat(t.dirfd, t.name, perm, 0);
  if (r < 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", unsigned(perm));
    return fail_errno(std::string("chmod ") + buf);
  }
  return {};
}

Result<> set_xattr(const Target &t, const std::string &key, const void *value, size_t size) {
  int r = t.fd >= 0 ? ::fsetxattr(t.fd, key.c_str(), value, size, 0)
                    : ::lsetxattr(proc_path(t.dirfd, t.name).c_str(), key.c_str(), value, size, 0);
  if (r == 0) return {};
  int e = errno;
  bool file_or_dir = t.type == S_IFREG || t.type == S_IFDIR;
  if (e == ENOTSUP || (e == EPERM && key.starts_with("user.") && !file_or_dir)) {
    log::warn("xattr " + key + (t.name ? " on '" + std::string(t.name) + "'" : std::string()) +
              " not set: " + std::strerror(e));
    return {};
  }
  return fail_sys(e, "set xattr " + key);
}

Result<> set_times(const Target &t, const struct timespec ts[2]) {
  int r = t.fd >= 0 ? ::futimens(t.fd, ts) : ::utimensat(t.dirfd, t.name, ts, AT_SYMLINK_NOFOLLOW);
  if (r < 0) return fail_errno("set times");
  return {};
}

} // namespace berth::image::fsops
