#include "linux/terminal.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

namespace berth::linuxf {

Result<Pty> open_pty() {
  int m = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return fail_errno("open /dev/ptmx in the container");
  Pty p{UniqueFd(m), {}};
  // The container's own devpts, not whatever a swapped /dev/ptmx names.
  struct statfs fs {};
  if (::fstatfs(m, &fs) < 0 || fs.f_type != DEVPTS_SUPER_MAGIC)
    return fail_msg("/dev/ptmx in the container is not a devpts ptmx: refusing to use it for the terminal");
  if (::unlockpt(m) < 0) return fail_errno("unlock the pty");
  int s = ::ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) return fail_errno("open the pty slave");
  p.slave.reset(s);
  return p;
}

Result<> set_winsize(int fd, unsigned rows, unsigned cols) {
  struct winsize ws = {};
  ws.ws_row = (unsigned short)rows;
  ws.ws_col = (unsigned short)cols;
  if (::ioctl(fd, TIOCSWINSZ, &ws) < 0) return fail_errno("set the terminal size");
  return {};
}

Result<> attach_stdio_to_tty(int slave) {
  if (::setsid() < 0 && errno != EPERM) return fail_errno("setsid");
  if (::ioctl(slave, TIOCSCTTY, 0) < 0) return fail_errno("make the pty the controlling terminal");
  for (int i = 0; i < 3; i++)
    if (::dup2(slave, i) < 0) return fail_errno("dup the pty onto stdio");
  return {};
}

} // namespace berth::linuxf
