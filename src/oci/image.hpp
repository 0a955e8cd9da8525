// Image-spec documents: descriptors, manifests, indexes and image configs,
// in both the OCI media types and Docker's schema2 ones (manifest and
// manifest list), which carry the same fields. Parsing is strict where a
// mistake would be unsafe (digests, sizes, media types of layers) and
// lenient where docker and skopeo are (unknown fields, missing optionals).
#pragma once

#include "common/error.hpp"
#include "oci/digest.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::oci {

namespace media {
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_foreign_gzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
} // namespace media

enum class Compression { none, gzip, zstd };
std::string_view compression_name(Compression c); // "none", "gzip", "zstd"
// The compression a layer media type says (OCI, its non-distributable
// variants, and Docker's); an error for a media type that is not a layer.
Result<Compression> layer_compression(std::string_view media_type);
// What the first bytes of a blob are: gzip (1f 8b), zstd (28 b5 2f fd), else none.
Compression sniff_compression(const void *head, size_t n);

struct Platform {
  std::string os, architecture, variant, os_version;
  std::vector<std::string> os_features;
  // "linux/arm64/v8": os/arch[/variant]; names as GOOS/GOARCH.
  static Result<Platform> parse(std::string_view s);
  std::string str() const; // "linux/amd64", "linux/arm/v7"
};
// The platform this program runs on (linux/amd64, linux/arm64/v8, ...).
Platform host_platform();
// want matches have when os and architecture are equal and the variants
// are, after normalising the defaults (arm64 -> v8, arm -> v7, amd64 -> v1 or
// none). An empty variant in want matches any variant.
bool platform_matches(const Platform &want, const Platform &have);

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::string artifact_type;
};

struct Manifest {
  int schema_version = 2;
  std::string media_type; // as given in the document (may be empty for OCI)
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
};

struct Index {
  int schema_version = 2;
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

struct HistoryEntry {
  std::string created, created_by, author, comment;
  bool empty_layer = false;
};

// The image config (application/vnd.oci.image.config.v1+json and Docker's):
// what the engine needs to run the image, and what inspect shows.
struct ImageConfig {
  std::string created, author, architecture, os, variant;
  // config
  std::string user, working_dir, stop_signal;
  std::vector<std::string> env, entrypoint, cmd;
  bool entrypoint_set = false, cmd_set = false; // null and [] differ for docker
  std::vector<std::string> exposed_ports, volumes; // the keys of those maps
  std::map<std::string, std::string> labels;
  // rootfs
  std::vector<Digest> diff_ids;
  std::vector<HistoryEntry> history;
  nlohmann::json raw; // the whole document as parsed, for inspect
};

enum class DocKind { manifest, index };
// Which of the two a manifest-ish document is, from its mediaType field, or
// failing that the content type it came with, or failing that its shape
// ("manifests" vs "config"/"layers"). Errors for schema1 and for other types.
Result<DocKind> doc_kind(std::string_view json, std::string_view content_type = {});

// Each rejects a document that is not valid JSON, has the wrong shape, or
// carries a bad digest or negative size, with a message naming the field.
Result<Manifest> parse_manifest(std::string_view json);
Result<Index> parse_index(std::string_view json);
Result<ImageConfig> parse_image_config(std::string_view json);
Result<Descriptor> parse_descriptor(const nlohmann::json &j);
Result<Platform> parse_platform_json(const nlohmann::json &j);

nlohmann::json to_json(const Descriptor &d);
nlohmann::json to_json(const Platform &p);
// Serialise as OCI documents (mediaType set) with no insignificant spaces.
std::string to_json_string(const Manifest &m);
std::string to_json_string(const Index &i);

// The manifest of index that runs on platform: the best match, preferring
// an exact variant; an error listing the platforms the index has when none
// matches.
Result<Descriptor> select_platform(const Index &index, const Platform &platform);

} // namespace berth::oci
