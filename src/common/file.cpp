#include "common/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace berth {

Result<UniqueFd> open_file(const std::string &path, int flags, mode_t mode) {
  return open_at(AT_FDCWD, path, flags, mode);
}

Result<UniqueFd> open_at(int dirfd, const std::string &path, int flags, mode_t mode) {
  int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return fail_errno("open " + path);
  return UniqueFd(fd);
}

namespace {

// Reads to the end; short_is_end: a short read is the end (regular files).
Result<std::string> read_all(int fd, const std::string &what, size_t max_bytes, bool short_is_end) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + what);
    }
    if (n == 0) break;
    if (out.size() + size_t(n) > max_bytes)
      return fail_msg("read " + what + ": larger than " + std::to_string(max_bytes) + " bytes");
    out.append(buf, size_t(n));
    if (short_is_end && size_t(n) < sizeof buf) break;
  }
  return out;
}

} // namespace

Result<std::string> read_fd(int fd, const std::string &what, size_t max_bytes) {
  return read_all(fd, what, max_bytes, false);
}

Result<std::string> read_regular(int fd, const std::string &what, size_t max_bytes) {
  return read_all(fd, what, max_bytes, true);
}

Result<std::string> read_file(const std::string &path, size_t max_bytes) {
  ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDONLY));
  return read_fd(fd.get(), path, max_bytes);
}

Result<> write_all(int fd, std::string_view data, const std::string &what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write " + what);
    }
    data.remove_prefix(size_t(n));
  }
  return {};
}

Result<> write_at(int dirfd, const std::string &name, std::string_view data) {
  ASSIGN_OR_RETURN(UniqueFd fd, open_at(dirfd, name, O_WRONLY | O_TRUNC));
  // One write: kernel files take one value per write(2).
  ssize_t n;
  do n = ::write(fd.get(), data.data(), data.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("write " + name);
  if (size_t(n) != data.size()) return fail_msg("write " + name + ": short write");
  return {};
}

Result<> write_file(const std::string &path, std::string_view data) {
  return write_at(AT_FDCWD, path, data);
}

static Result<> write_replace(int dirfd, const std::string &name, std::string_view data, mode_t mode,
                              bool sync) {
  // A fresh name, created exclusively and never through a symlink: in a
  // shared directory (/tmp) another user must not have planted it.
  std::string tmp;
  UniqueFd fd;
  for (int tries = 0;; ++tries) {
    uint64_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != sizeof r) r = uint64_t(::getpid()) << 20 ^ uint64_t(tries);
    char suffix[20];
    std::snprintf(suffix, sizeof suffix, "%012llx", static_cast<unsigned long long>(r & 0xffffffffffffULL));
    tmp = "." + name + ".tmp" + suffix;
    auto f = open_at(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    if (f) {
      fd = std::move(*f);
      break;
    }
    if (f.error().code() != EEXIST || tries == 10) return fail(std::move(f).error());
  }
  auto w = write_all(fd.get(), data, tmp);
  if (w && sync && ::fsync(fd.get()) < 0) w = fail_errno("fsync " + tmp);
  if (!w) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return w;
  }
  fd.reset();
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) < 0) {
    int e = errno;
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return fail_sys(e, "rename " + tmp + " to " + name);
  }
  if (sync && ::fsync(dirfd) < 0) return fail_errno("fsync the directory of " + name);
  return {};
}

Result<> write_file_atomic(int dirfd, const std::string &name, std::string_view data, mode_t mode) {
  return write_replace(dirfd, name, data, mode, false);
}

Result<> write_file_durable(int dirfd, const std::string &name, std::string_view data, mode_t mode) {
  return write_replace(dirfd, name, data, mode, true);
}

Result<> write_path_atomic(const std::string &path, std::string_view data, mode_t mode) {
  std::string dir = ".", name = path;
  if (auto s = path.rfind('/'); s != std::string::npos) {
    dir = s == 0 ? "/" : path.substr(0, s);
    name = path.substr(s + 1);
  }
  ASSIGN_OR_RETURN(UniqueFd d, open_file(dir, O_RDONLY | O_DIRECTORY));
  TRY_CTX(write_file_atomic(d.get(), name, data, mode), "write " + path);
  return {};
}

Result<> mkdir_all(const std::string &path, mode_t mode) {
  if (path.empty()) return {};
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return fail_sys(ENOTDIR, "mkdir " + path);
  }
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) TRY(mkdir_all(path.substr(0, slash), mode));
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) return fail_errno("mkdir " + path);
  return {};
}

// Empties the directory fd (which it takes): one fd per level of recursion.
static Result<> remove_children(int fd, const std::string &path) {
  DIR *d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return fail_errno("opendir " + path);
  }
  Result<> res;
  errno = 0;
  while (dirent *e = ::readdir(d)) {
    const char *n = e->d_name;
    if (!std::strcmp(n, ".") || !std::strcmp(n, "..")) continue;
    res = remove_at(::dirfd(d), n);
    if (!res) {
      res = ctx(std::move(res).error(), path);
      break;
    }
    errno = 0;
  }
  if (res && errno != 0) res = fail_errno("readdir " + path);
  ::closedir(d);
  return res;
}

Result<> remove_at(int dirfd, const std::string &name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return fail_errno("remove '" + name + "'");
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno("open '" + name + "' to remove it");
  TRY(remove_children(fd, name));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
    return fail_errno("remove directory '" + name + "'");
  return {};
}

Result<> remove_tree(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    return fail_errno("open " + path);
  }
  TRY(remove_children(fd, path));
  if (::rmdir(path.c_str()) < 0 && errno != ENOENT) return fail_errno("rmdir " + path);
  return {};
}

bool path_exists(const std::string &path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string path_join(std::string_view a, std::string_view b) {
  std::string r(a);
  while (!r.empty() && r.back() == '/') r.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  r += '/';
  r += b;
  return r;
}

} // namespace berth
