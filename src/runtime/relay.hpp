// A foreground container (run, exec): forwards signals to its process, relays
// its terminal to ours, and reaps it.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"

#include <string>
#include <utility>

#include <sys/types.h>

namespace berth::runtime {

// Blocks the signals that are forwarded; call before the process exists so
// that none is lost. The mask is undone for the container by its init.
void block_forwarded_signals();

// Where the container's pty master goes: the --console-socket if given, else
// back to us over a socketpair (a foreground run or exec relays it).
// Returns {the child's end, our end (invalid with a console socket)}.
Result<std::pair<UniqueFd, UniqueFd>> console_channel(const std::string &console_socket);

// Waits for pid (our child, with pidfd), forwarding signals, and relaying
// console (a pty master, or -1) with our stdin/stdout. Returns the wait status.
Result<int> relay_and_wait(pid_t pid, int pidfd, int console);

} // namespace berth::runtime
