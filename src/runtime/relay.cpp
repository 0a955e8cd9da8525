#include "runtime/relay.hpp"

#include "common/fdpass.hpp"
#include "common/syscalls.hpp"

#include <sys/socket.h>

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

sigset_t forwarded() {
  sigset_t s;
  sigfillset(&s);
  for (int sig : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU, SIGTSTP})
    sigdelset(&s, sig);
  return s;
}

// Raw mode on our terminal while relaying, restored on every way out.
struct RawTerminal {
  struct termios saved;
  bool active = false;
  RawTerminal() {
    if (!::isatty(0) || ::tcgetattr(0, &saved) < 0) return;
    struct termios raw = saved;
    ::cfmakeraw(&raw);
    active = ::tcsetattr(0, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active) ::tcsetattr(0, TCSANOW, &saved);
  }
};

void copy_winsize(int console) {
  struct winsize ws;
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(console, TIOCSWINSZ, &ws);
}

bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf + off, size_t(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

} // namespace

Result<std::pair<UniqueFd, UniqueFd>> console_channel(const std::string &console_socket) {
  if (!console_socket.empty()) {
    ASSIGN_OR_RETURN(UniqueFd s, connect_unix(console_socket));
    return std::pair{std::move(s), UniqueFd()};
  }
  int cs[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) < 0) return fail_errno("socketpair for the terminal");
  return std::pair{UniqueFd(cs[1]), UniqueFd(cs[0])};
}

void block_forwarded_signals() {
  sigset_t s = forwarded();
  ::sigprocmask(SIG_BLOCK, &s, nullptr);
}

Result<int> relay_and_wait(pid_t pid, int pidfd, int console) {
  sigset_t s = forwarded();
  sigdelset(&s, SIGCHLD);
  int sfd = ::signalfd(-1, &s, SFD_CLOEXEC);
  if (sfd < 0) return fail_errno("signalfd");
  RawTerminal raw;
  if (console >= 0) copy_winsize(console);
  bool stdin_open = console >= 0;
  bool console_open = console >= 0;
  for (;;) {
    struct pollfd p[4] = {{pidfd, POLLIN, 0}, {sfd, POLLIN, 0}, {console_open ? console : -1, POLLIN, 0},
                          {stdin_open ? 0 : -1, POLLIN, 0}};
    int n = ::poll(p, 4, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(sfd);
      return fail_errno("wait for the container");
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (::read(sfd, &si, sizeof si) == sizeof si) {
        if (int(si.ssi_signo) == SIGWINCH && console >= 0) copy_winsize(console);
        else sys::pidfd_send_signal(pidfd, int(si.ssi_signo));
      }
    }
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) console_open = pump(console, 1);
    if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) stdin_open = pump(0, console);
    if (p[0].revents & POLLIN) break;
  }
  // Drain what the process wrote before it exited.
  if (console_open) {
    struct pollfd p = {console, POLLIN, 0};
    while (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) && pump(console, 1)) {}
  }
  ::close(sfd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno("wait for the container");
  }
  return status;
}

} // namespace berth::runtime
