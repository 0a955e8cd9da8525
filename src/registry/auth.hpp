// Registry authentication: the challenges of a 401 (WWW-Authenticate) and
// the bearer-token flow of docker's token spec (GET realm?service&scope with
// basic credentials, or an OAuth2 refresh-token POST with an identity token).
#pragma once

#include "common/error.hpp"
#include "registry/credentials.hpp"
#include "registry/http.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::registry {

struct Challenge {
  std::string scheme;                        // lower case: "basic", "bearer"
  std::map<std::string, std::string> params; // realm, service, scope, error
};

// Every challenge of one WWW-Authenticate value ("Bearer realm="…",
// service="…", Basic realm="…"). Unparsable text yields what came before it.
std::vector<Challenge> parse_challenges(std::string_view header);

// "Basic " + base64(user:password)
std::string basic_header(const Credentials &c);

struct Token {
  std::string value;
  std::chrono::steady_clock::time_point expires;
};

// Asks realm (of a bearer challenge) for a token for scopes (each
// "repository:NAME:ACTIONS"). Errors say what the token server answered.
Result<Token> fetch_token(const Http &http, const Tls &tls, const Challenge &c,
                          const std::vector<std::string> &scopes, const std::optional<Credentials> &creds);

} // namespace berth::registry
