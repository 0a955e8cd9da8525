// Reading the small JSON settings files of docker and podman (auth files,
// daemon.json), where a missing file means "nothing set".
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace berth::registry {

// The JSON object in the file at path; nullopt when there is no such file.
// An empty file is an empty object (what `touch` or an interrupted tool
// leaves). Errors name the file and say what is wrong with it.
Result<std::optional<nlohmann::json>> read_json_object(const std::string &path, size_t max_bytes = 4u << 20);

} // namespace berth::registry
