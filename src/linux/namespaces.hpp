// Namespace types of config.json <-> clone flags, and joining by path.
#pragma once

#include "common/error.hpp"

#include <string_view>

namespace berth::linuxf {

// "pid" -> CLONE_NEWPID ... ; error for an unknown type.
Result<int> namespace_flag(std::string_view type);
// The /proc/<pid>/ns/<name> entry name for a type ("network" -> "net").
const char *namespace_proc_name(int flag);

} // namespace berth::linuxf
