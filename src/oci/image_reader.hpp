// Internal to the image*.cpp and platform.cpp files: readers of the parts
// that documents share, with `path` naming the value read in errors
// ("layers[2]", "manifests[0].platform").
#pragma once

#include "oci/image.hpp"
#include "oci/spec_json_reader.hpp"

#include <string>

namespace berth::oci::detail {

Result<Platform> read_platform(const json &j, const std::string &path);
Result<Descriptor> read_descriptor(const json &j, const std::string &path);
// A digest field: "<path>: invalid digest '…': why".
Result<Digest> read_digest(const json &j, const std::string &path);

// Docker's schema1 (signed manifests, retired in 2019): a message of its own.
inline bool is_schema1_type(std::string_view mt) {
  return mt == "application/vnd.docker.distribution.manifest.v1+json" ||
         mt == "application/vnd.docker.distribution.manifest.v1+prettyjws";
}
inline constexpr const char *kSchema1 = "schema1 manifests are not supported (deprecated by docker in 2019)";

} // namespace berth::oci::detail
