// docker-credential-NAME, the credential helper protocol of docker (and of
// podman): "get" reads a server URL on stdin and prints
// {"ServerURL","Username","Secret"}; "store" reads that object; "erase"
// reads the URL. A helper that has nothing prints "credentials not found ..."
// and exits non-zero.
#pragma once

#include "common/error.hpp"
#include "registry/credentials.hpp"

#include <optional>
#include <string_view>

namespace berth::registry {

// NAME as auth files spell it ("pass", "secretservice"); the program is
// docker-credential-NAME on $PATH. nullopt when the helper has none for
// server_url. Username "<token>" makes Secret an identity token.
Result<std::optional<Credentials>> helper_get(std::string_view name, std::string_view server_url);
Result<> helper_store(std::string_view name, std::string_view server_url, const Credentials &c);
// false when the helper had nothing for server_url.
Result<bool> helper_erase(std::string_view name, std::string_view server_url);

} // namespace berth::registry
