// Signal names as runc accepts them: "KILL", "SIGKILL", "9", "SIGRTMIN+3".
#pragma once

#include "common/error.hpp"

#include <string>
#include <string_view>

namespace berth::linuxf {

Result<int> parse_signal(std::string_view s);
std::string signal_name(int sig); // "SIGKILL"

} // namespace berth::linuxf
