// Standard base64 (RFC 4648, '+' '/', '=' padding), for the "auth" field of
// auth files and the Basic scheme.
#pragma once

#include "common/error.hpp"

#include <string>
#include <string_view>

namespace berth::registry {

std::string base64_encode(std::string_view data);

// Rejects characters outside the alphabet, bad padding and lengths that are
// not a whole number of quads. Padding may be missing (some writers drop it).
Result<std::string> base64_decode(std::string_view text);

} // namespace berth::registry
