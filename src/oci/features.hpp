// The runtime-spec "features" document (`berth-runtime features`): what this
// runtime recognizes, for callers such as containerd and podman to probe.
#pragma once

#include <string>

namespace berth::oci {

// Pretty-printed JSON (no trailing newline), valid against
// schema/features-schema.json.
std::string features_json();

} // namespace berth::oci
