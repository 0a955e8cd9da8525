// Registry credentials as docker and podman keep them: a JSON auth file with
// "auths" { registry: { "auth": base64(user:password) } }, and credential
// helpers (docker-credential-NAME get|store|erase) named by "credsStore" or
// "credHelpers".
//
// berth's own file (written by login, removed from by logout): --authfile,
// else $REGISTRY_AUTH_FILE, else $XDG_CONFIG_HOME/berth/auth.json (default
// ~/.config/berth/auth.json). Lookups read it first, then docker's own
// ($DOCKER_CONFIG/config.json, default ~/.docker/config.json).
#pragma once

#include "common/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace berth::registry {

struct Credentials {
  std::string username, password;
  std::string identity_token; // an OAuth2 refresh token (docker's "identitytoken")
};

// "user:pass" (--creds); the password may contain ':'; an empty password
// is an error naming the flag.
Result<Credentials> parse_creds(std::string_view user_colon_pass);

// A registry as login, logout and auth files name it: the host[:port] of a
// URL ("https://host:port/v1/" -> "host:port"); Docker Hub's names
// (index.docker.io, registry-1.docker.io, ...) -> "docker.io".
std::string normalize_registry(std::string_view s);

// The file login writes: authfile if not empty, else the default above.
std::string default_authfile(std::string_view authfile = {});

// The credentials stored for registry ("docker.io", "host:port"); nullopt
// when none are. authfile as for default_authfile.
Result<std::optional<Credentials>> find_credentials(std::string_view registry, std::string_view authfile = {});

// login: stores them (in the credential helper the file names for registry,
// else in "auths", file mode 0600, replaced atomically).
Result<> store_credentials(std::string_view registry, const Credentials &c, std::string_view authfile = {});

// logout: false when nothing was stored for registry.
Result<bool> erase_credentials(std::string_view registry, std::string_view authfile = {});

} // namespace berth::registry
