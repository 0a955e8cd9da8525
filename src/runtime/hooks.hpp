// Lifecycle hooks (runtime-spec "POSIX-platform Hooks"): each runs with the
// container state on stdin, its own args/env, and an optional timeout.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <string>
#include <vector>

namespace berth::runtime {

// Runs the hooks in order; stops at the first failure, returning an error
// naming the stage, the hook and why ("createRuntime hook /bin/x: exited with
// status 1: <its stderr>").
Result<> run_hooks(const std::vector<oci::Hook> &hooks, const std::string &stage,
                   const std::string &state_json);
// Same, but failures only warn (poststart, poststop).
void run_hooks_warn(const std::vector<oci::Hook> &hooks, const std::string &stage,
                    const std::string &state_json);

std::string hooks_to_json(const std::vector<oci::Hook> &hooks);
std::vector<oci::Hook> hooks_from_json(const std::string &json);

} // namespace berth::runtime
