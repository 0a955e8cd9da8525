// Test helper: the apply_* functions change the calling process for good, so
// tests run them in a forked child. fn(out) returns the child's exit code and
// may put text in out for the parent to check.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace berth::testing {

struct Child {
  int status = 0;
  std::string out;
  bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

template <class F> Child in_child(F fn) {
  int p[2];
  if (pipe(p) != 0) abort();
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string out;
    int code = fn(out);
    if (write(p[1], out.data(), out.size()) < 0) code = 99;
    _exit(code);
  }
  close(p[1]);
  Child c;
  char buf[512];
  for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) c.out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  waitpid(pid, &c.status, 0);
  return c;
}

} // namespace berth::testing
