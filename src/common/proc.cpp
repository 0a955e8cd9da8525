#include "common/proc.hpp"

#include "common/file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace berth {

Result<ProcStat> proc_stat(pid_t pid) {
  // One line, well under 1 KiB, that one read returns whole: no read for EOF
  // (list calls this for every container).
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDONLY));
  char buf[1024];
  ssize_t n;
  do n = ::read(fd.get(), buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("read " + path);
  std::string s(buf, size_t(n));
  if (size_t(n) == sizeof buf) {
    ASSIGN_OR_RETURN(std::string rest, read_fd(fd.get(), path, 4096));
    s += rest;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  auto rp = s.rfind(')');
  if (rp == std::string::npos || rp + 2 >= s.size()) return fail_msg("parse /proc/" + std::to_string(pid) + "/stat");
  ProcStat st;
  st.state = s[rp + 2];
  // Field 3 is the state; start time is field 22.
  const char *p = s.c_str() + rp + 2;
  for (int field = 3; field < 22 && *p; field++) {
    p = std::strchr(p, ' ');
    if (!p) return fail_msg("parse /proc/" + std::to_string(pid) + "/stat");
    p++;
  }
  st.start_time = std::strtoull(p, nullptr, 10);
  return st;
}

bool process_matches(pid_t pid, unsigned long long start_time) {
  if (pid <= 0) return false;
  auto st = proc_stat(pid);
  return st && st->state != 'Z' && st->state != 'X' && st->start_time == start_time;
}

} // namespace berth
