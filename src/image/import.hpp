// `berth import`: a root filesystem (a tar, compressed or not, or a
// directory) made into a one-layer image, as docker import does.
#pragma once

#include "image/store.hpp"
#include "oci/image.hpp"

#include <string>
#include <vector>

namespace berth::image {

struct ImportOptions {
  std::vector<std::string> changes; // Dockerfile instructions (changes.hpp)
  std::string message;              // the history entry's comment
  oci::Platform platform;           // os/architecture written to the config
  std::vector<std::string> names;   // full references (none: untagged)
};

// From a tar read from fd (what names it in errors).
Result<oci::Digest> import_tar(const Store &s, int fd, const std::string &what, const ImportOptions &o);
// From the tree under dir.
Result<oci::Digest> import_dir(const Store &s, const std::string &dir, const ImportOptions &o);

} // namespace berth::image
