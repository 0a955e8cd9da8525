// The container's terminal: a pty allocated from the container's own devpts
// (so the process sees /dev/pts/N), its master handed to whoever asked.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::linuxf {

struct Pty {
  UniqueFd master, slave;
};

// Opens /dev/ptmx of the current root and the matching slave via TIOCGPTPEER
// (never by path, which the container could swap).
Result<Pty> open_pty();
Result<> set_winsize(int fd, unsigned rows, unsigned cols);
// New session with the slave as controlling terminal on fds 0, 1, 2.
Result<> attach_stdio_to_tty(int slave);

} // namespace berth::linuxf
