// config.json (and its pieces) <-> oci types. Parsing validates as it goes:
// every error names the field by its JSON path ("linux.namespaces[2].type: ...").
// Unknown fields are ignored, as runtime-spec says; JSON null reads as absent.
// Documents over 64 MiB or nested deeper than 200 levels are refused.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <string>
#include <string_view>

namespace berth::oci {

// The whole config.json. Rejects an ociVersion whose major is not 1.
// Errors read "<path>: <why>"; callers prefix the file ("config.json: ...").
Result<Spec> parse_spec(std::string_view json);
// A process object alone: `exec --process FILE`. Paths start with "process.".
Result<Process> parse_process(std::string_view json);
// A linux.resources object alone: `update --resources FILE`. Paths start with
// "resources.".
Result<Resources> parse_resources(std::string_view json);

// The config `berth-runtime spec` writes (busybox-friendly, like runc spec);
// with rootless, a user namespace mapping the caller's ids. Pretty-printed,
// without a trailing newline.
std::string default_spec_json(bool rootless);

} // namespace berth::oci
