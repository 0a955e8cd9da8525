// `import --change`: the Dockerfile instructions docker accepts there (CMD,
// ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD is refused, STOPSIGNAL, USER,
// VOLUME, WORKDIR), applied to the "config" object of an image config.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace berth::image {

// Errors name the instruction: `--change "FROM x": FROM is not allowed here`.
Result<> apply_change(nlohmann::json &config, std::string_view change);

} // namespace berth::image
