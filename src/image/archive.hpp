// save and load: image archives in both formats docker and podman use.
//   docker-archive  manifest.json ([{Config, RepoTags, Layers}]) naming files
//                   in the tar; docker < 25 wrote <id>/layer.tar, docker 25+
//                   and berth write an OCI layout beside it (blobs/sha256/…),
//                   so one archive reads as either format
//   oci-archive     an OCI image layout (oci-layout, index.json, blobs/)
// load reads either (plain, gzip, zstd, xz or bzip2 compressed), checks every
// blob against its digest, unpacks the layers, and only then names the
// images: a bad archive leaves nothing in the store.
#pragma once

#include "image/images.hpp"
#include "image/store.hpp"

#include <string>
#include <vector>

namespace berth::image {

struct Loaded {
  std::vector<std::string> names; // full references named
  std::vector<oci::Digest> ids;   // image ids of the images loaded
  std::vector<oci::Digest> untagged; // ids of those loaded without a name
};

struct LoadLimits {
  uint64_t max_files = 100000;      // entries of the archive
  size_t max_document = 4u << 20;   // manifest.json, index.json, manifests
};

// Reads the archive from fd; what names it in errors ("archive x.tar").
Result<Loaded> load_archive(const Store &s, int fd, const std::string &what, const LoadLimits &limits = {});

enum class ArchiveFormat { docker, oci };

struct SaveItem {
  Image image;
  std::vector<std::string> names; // full references to record (may be empty)
};

// Writes the images (their platform manifests, configs and layers) as one
// archive to out.
Result<> save_archive(const Store &s, const std::vector<SaveItem> &items, ArchiveFormat format, int out,
                      const std::string &what);

} // namespace berth::image
