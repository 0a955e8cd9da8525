// Freezing: v1 freezer.state, v2 cgroup.freeze. Both return once the kernel
// reports the cgroup really frozen (or thawed): a paused container must not
// run, and kill_all relies on nothing forking while it signals.
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

namespace berth::cgroups {

namespace {

constexpr long kTimeoutUs = 5'000'000; // the v2 test VM is slow

long now_us() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000L + ts.tv_nsec / 1000;
}

// The "frozen" entry of cgroup.events read from fd (pread: the file is re-read).
Result<bool> events_frozen(int fd, const std::string &path) {
  char buf[256];
  ssize_t n;
  do n = ::pread(fd, buf, sizeof buf - 1, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("read " + path);
  auto v = keyed_value(std::string_view(buf, size_t(n)), "frozen");
  if (!v)
    return fail_msg("read " + path + ": no \"frozen\" entry (kernel without the v2 freezer?)");
  return *v == 1;
}

} // namespace

Result<> freeze_v1(const std::string &dir, bool freeze) {
  const char *target = freeze ? "FROZEN" : "THAWED";
  const std::string what = freeze ? "freeze cgroup" : "thaw cgroup";
  TRY_CTX(cg_write(dir, "freezer.state", target), what);
  // Reading freezer.state is what moves FREEZING to FROZEN once every task stopped.
  long deadline = now_us() + kTimeoutUs, wait = 50;
  for (;;) {
    ASSIGN_OR_RETURN(std::string s, cg_read_line(dir, "freezer.state"));
    if (s == target) return {};
    if (now_us() > deadline) break;
    ::usleep(useconds_t(wait));
    wait = std::min(wait * 2, 10'000L);
  }
  if (freeze) (void)cg_write(dir, "freezer.state", "THAWED"); // not half-frozen
  return fail_msg(what + " " + dir + ": timed out waiting for freezer.state " + target);
}

// frozen_*() report the requested state (paused or not): a frozen cgroup may
// be briefly "not frozen" while a task dies of a fatal signal, or FREEZING.
Result<bool> frozen_v1(const std::string &dir) {
  ASSIGN_OR_RETURN(std::string s, cg_read_line(dir, "freezer.state"));
  return s != "THAWED";
}

Result<> freeze_v2(const std::string &dir, bool freeze) {
  const std::string what = freeze ? "freeze cgroup" : "thaw cgroup";
  TRY_CTX(cg_write(dir, "cgroup.freeze", freeze ? "1" : "0"), what);
  // cgroup.events changes are notified with POLLPRI: wait on it, no polling loop.
  std::string path = dir + "/cgroup.events";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno(what + ": open " + path);
  UniqueFd owner(fd);
  long deadline = now_us() + kTimeoutUs;
  for (;;) {
    ASSIGN_OR_RETURN(bool f, events_frozen(fd, path));
    if (f == freeze) return {};
    long left = deadline - now_us();
    if (left <= 0) break;
    pollfd p{fd, POLLPRI, 0};
    // kernfs flags a change made since our last read; the bound is a safety net.
    if (::poll(&p, 1, int(std::min(left / 1000 + 1, 100L))) < 0 && errno != EINTR)
      return fail_errno(what + ": poll " + path);
  }
  if (freeze) (void)cg_write(dir, "cgroup.freeze", "0");
  return fail_msg(what + " " + dir + ": timed out waiting for \"frozen " + (freeze ? "1" : "0") +
                  "\" in cgroup.events");
}

Result<bool> frozen_v2(const std::string &dir) {
  auto s = cg_read_line(dir, "cgroup.freeze");
  if (!s) return fail(std::move(s).error());
  return s->starts_with('1');
}

} // namespace berth::cgroups
