// What a registry's error answer means, for the user: the status in words
// and the error body the spec defines ({"errors": [{code, message, detail}]}).
#pragma once

#include "common/error.hpp"
#include "registry/http.hpp"

#include <string>

namespace berth::registry {

// "WHAT: STATUS IN WORDS: CODE: message (detail)"; had_creds picks the
// words for 401 (authentication required, or the credentials refused).
Error status_error(const Response &r, const std::string &what, bool had_creds);

// The errors of a spec error body, "CODE: message (detail); …"; "" when the
// body is not one.
std::string error_body_text(const std::string &body);

} // namespace berth::registry
