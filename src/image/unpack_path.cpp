#include "image/unpack_path.hpp"

#include "common/syscalls.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::image::detail {

Result<CleanName> clean_name(std::string_view raw) {
  if (raw.starts_with('/')) return fail_msg("absolute name (a leading '/')");
  CleanName n;
  size_t i = 0;
  while (i <= raw.size()) {
    size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view c = raw.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") return fail_msg("name has a '..' component");
    if (!n.path.empty()) n.path += '/';
    n.path += c;
    ++n.depth;
  }
  auto slash = n.path.rfind('/');
  if (slash == std::string::npos) {
    n.base = n.path;
  } else {
    n.parent = n.path.substr(0, slash);
    n.base = n.path.substr(slash + 1);
  }
  return n;
}

namespace {

constexpr uint64_t dir_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
constexpr uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

int open_dir(int root, const std::string &dir) {
  if (dir.empty()) return ::openat(root, ".", int(dir_flags));
  return sys::openat2(root, dir.c_str(), dir_flags, 0, in_root);
}

} // namespace

Result<UniqueFd> Parents::find(const std::string &dir) const {
  int fd = open_dir(root_, dir);
  if (fd < 0) return fail_errno("open directory '" + dir + "'");
  return UniqueFd(fd);
}

Result<int> Parents::open(const std::string &dir) {
  if (cached_ && cached_path_ == dir) return cached_.get();
  invalidate();
  int fd = open_dir(root_, dir);
  if (fd >= 0) {
    cached_.reset(fd);
  } else if (errno == ENOENT) {
    ASSIGN_OR_RETURN(cached_, create(dir));
  } else {
    return fail_errno("open parent directory '" + dir + "'");
  }
  cached_path_ = dir;
  return cached_.get();
}

// Finds the deepest existing ancestor (resolved in the root), then makes
// the rest below it with mkdirat, component by component.
Result<UniqueFd> Parents::create(const std::string &dir) {
  UniqueFd cur(::openat(root_, ".", int(dir_flags)));
  if (!cur) return fail_errno("open the target directory");
  size_t pos = 0;
  bool made = false;
  struct timespec kept[2] = {};
  int keep_fd = -1; // the existing dir the first mkdirat changes: its times stay
  for (;;) {
    size_t slash = dir.find('/', pos);
    std::string prefix = dir.substr(0, slash);
    std::string comp = dir.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    UniqueFd next;
    if (!made) {
      int fd = sys::openat2(root_, prefix.c_str(), dir_flags, 0, in_root);
      if (fd >= 0) next.reset(fd);
      else if (errno != ENOENT) return fail_errno("open parent directory '" + prefix + "'");
    }
    if (!next) {
      if (!made) {
        struct stat st;
        if (::fstat(cur.get(), &st) < 0) return fail_errno("stat parent directory");
        kept[0] = st.st_atim;
        kept[1] = st.st_mtim;
        keep_fd = ::fcntl(cur.get(), F_DUPFD_CLOEXEC, 0);
        if (keep_fd < 0) return fail_errno("dup parent directory");
      }
      UniqueFd keep(std::exchange(keep_fd, -1));
      if (::mkdirat(cur.get(), comp.c_str(), 0755) < 0) {
        if (errno == EEXIST)
          return fail_msg("create parent directory '" + prefix +
                          "': it is a symlink to a directory that does not exist");
        return fail_errno("create parent directory '" + prefix + "'");
      }
      next.reset(::openat(cur.get(), comp.c_str(), int(dir_flags) | O_NOFOLLOW));
      if (!next) return fail_errno("open parent directory '" + prefix + "'");
      // 0755 whatever the umask is.
      if (::fchmod(next.get(), 0755) < 0) return fail_errno("chmod parent directory '" + prefix + "'");
      if (keep) {
        if (::futimens(keep.get(), kept) < 0) return fail_errno("set times of parent directory");
      }
      made = true;
    }
    cur = std::move(next);
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return cur;
}

} // namespace berth::image::detail
