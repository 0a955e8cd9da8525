// Passing file descriptors over unix sockets (SCM_RIGHTS): console sockets,
// pty masters, seccomp listeners.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"

#include <string>
#include <string_view>

namespace berth {

// Sends fd with payload (at least one byte is always sent).
Result<> send_fd(int sock, int fd, std::string_view payload, const std::string &what);
// Receives one fd (close-on-exec) and its payload.
Result<UniqueFd> recv_fd(int sock, std::string *payload, const std::string &what);

// Connects a SOCK_STREAM unix socket to path.
Result<UniqueFd> connect_unix(const std::string &path);

} // namespace berth
