// Which registries the host's settings list as insecure (plain HTTP and
// unverified TLS allowed): podman's registries.conf and docker's
// daemon.json. Internal to hosts.cpp; its own file for the TOML subset.
#pragma once

#include "common/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace berth::registry {

// podman's registries.conf at path (a missing file says nothing). The TOML
// it reads: [[registry]] tables (location, prefix, insecure) and v1's
// [registries.insecure] registries = [...]; other tables and keys are
// skipped. true/false when an entry for registry says so, nullopt when
// none does. A line of a table it reads that it cannot parse is an error
// naming the file and line.
Result<std::optional<bool>> registries_conf_insecure(const std::string &path, std::string_view registry);

// docker's daemon.json at path (a missing file lists nothing):
// "insecure-registries" entries are "host:port" or CIDR ranges of IP
// addresses ("127.0.0.0/8", matched against a registry named by address).
Result<bool> daemon_json_insecure(const std::string &path, std::string_view registry);

} // namespace berth::registry
