#include "cgroups/fs.hpp"

#include "common/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <ctime>

namespace berth::cgroups {

namespace {

std::string join(const std::string &dir, std::string_view file) {
  std::string p;
  p.reserve(dir.size() + 1 + file.size());
  p += dir;
  p += '/';
  p += file;
  return p;
}

void sleep_us(long us) {
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

// Names of the child cgroups (subdirectories) of dir.
std::vector<std::string> child_dirs(const std::string &dir) {
  std::vector<std::string> out;
  DIR *d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent *e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (e->d_type == DT_DIR && n != "." && n != "..") out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

// rmdir of one cgroup with its child cgroups; retries EBUSY until budget_us
// of waiting is used up (shared by the whole removal).
Result<> remove_cgroup(const std::string &dir, long &budget_us) {
  long wait = 1000;
  for (bool children_done = false;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    int err = errno;
    if (err != EBUSY && err != ENOTEMPTY) return fail_sys(err, "remove cgroup: rmdir " + dir);
    if (!children_done) {
      // Cgroups the container made below ours (systemd inside, nested runtimes).
      children_done = true;
      bool any = false;
      for (auto &c : child_dirs(dir)) {
        TRY(remove_cgroup(join(dir, c), budget_us));
        any = true;
      }
      if (any) continue;
    }
    if (budget_us <= 0)
      return fail_sys(err, "remove cgroup: rmdir " + dir + " (processes still in it?)");
    long w = std::min(wait, budget_us);
    sleep_us(w);
    budget_us -= w;
    wait = std::min(wait * 2, 100000L);
  }
}

} // namespace

Result<> cg_write(const std::string &dir, std::string_view file, std::string_view value) {
  std::string path = join(dir, file);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno("write " + std::string(value) + " to " + path);
  ssize_t n;
  do n = ::write(fd, value.data(), value.size());
  while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return fail_sys(err, "write " + std::string(value) + " to " + path);
  if (size_t(n) != value.size())
    return fail_msg("write " + std::string(value) + " to " + path + ": short write");
  return {};
}

Result<std::string> cg_read(const std::string &dir, std::string_view file) {
  std::string path = join(dir, file);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno("read " + path);
  UniqueFd owner(fd);
  return read_fd(fd, path, 16u << 20);
}

Result<std::string> cg_read_line(const std::string &dir, std::string_view file) {
  // One read: a short single-value file comes whole in the first one.
  std::string path = join(dir, file);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno("read " + path);
  UniqueFd owner(fd);
  char buf[4096];
  ssize_t n;
  do n = ::read(fd, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("read " + path);
  std::string_view s(buf, size_t(n));
  return std::string(s.substr(0, s.find('\n')));
}

std::optional<uint64_t> parse_u64(std::string_view s, uint64_t max_value) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s == "max") return max_value;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<uint64_t> keyed_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ')
      return parse_u64(line.substr(key.size() + 1));
  }
  return std::nullopt;
}

std::string parent_dir(const std::string &dir) {
  auto p = dir.find_last_of('/');
  return p == std::string::npos || p == 0 ? std::string("/") : dir.substr(0, p);
}

Result<int> make_levels(const std::string &mountpoint, const std::string &dir) {
  if (dir.size() <= mountpoint.size() + 1 || !dir.starts_with(mountpoint) ||
      dir[mountpoint.size()] != '/')
    return fail_msg("create cgroup " + dir + ": not below the cgroup mount " + mountpoint);
  // The leaf first: in the usual case its parent exists and one mkdir suffices.
  if (::mkdir(dir.c_str(), 0755) == 0) return 1;
  if (errno == EEXIST) return 0;
  if (errno != ENOENT) return fail_errno("create cgroup: mkdir " + dir);
  std::string parent = parent_dir(dir);
  if (parent == mountpoint) return fail_errno("create cgroup: mkdir " + dir);
  ASSIGN_OR_RETURN(int made, make_levels(mountpoint, parent));
  if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
    auto e = Error::last("create cgroup: mkdir " + dir);
    (void)remove_empty_levels(parent, made);
    return fail(std::move(e));
  }
  return made + 1;
}

int missing_levels(const std::string &mountpoint, const std::string &dir) {
  int n = 0;
  for (std::string d = dir; d.size() > mountpoint.size() + 1 && d.starts_with(mountpoint) &&
                            ::access(d.c_str(), F_OK) < 0 && errno == ENOENT;
       d = parent_dir(d))
    ++n;
  return n;
}

Result<> remove_levels(const std::string &dir, int levels) {
  if (levels <= 0) return {};
  long budget_us = 1000000;
  TRY(remove_cgroup(dir, budget_us));
  return remove_empty_levels(parent_dir(dir), levels - 1);
}

Result<> remove_empty_levels(const std::string &dir, int levels) {
  std::string cur = dir;
  for (int i = 0; i < levels; ++i, cur = parent_dir(cur)) {
    if (::rmdir(cur.c_str()) == 0 || errno == ENOENT) continue;
    // Another container's cgroup is in it (docker's and podman's cgroup
    // parent holds them all): it stays, and so do the levels above it.
    if (errno == EBUSY || errno == ENOTEMPTY) return {};
    return fail_errno("remove cgroup: rmdir " + cur);
  }
  return {};
}

Result<std::vector<pid_t>> read_pids_recursive(const std::string &dir) {
  std::vector<pid_t> out;
  auto text = cg_read(dir, "cgroup.procs");
  if (!text) {
    if (text.error().code() == ENOENT) return out; // removed meanwhile
    return fail(std::move(text).error());
  }
  std::string_view s = *text;
  while (!s.empty()) {
    auto nl = s.find('\n');
    if (auto v = parse_u64(s.substr(0, nl))) out.push_back(pid_t(*v));
    s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
  }
  for (auto &c : child_dirs(dir)) {
    ASSIGN_OR_RETURN(auto sub, read_pids_recursive(join(dir, c)));
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

} // namespace berth::cgroups
