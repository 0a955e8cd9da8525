// Layer media types and compression. The documents are read in
// image_json.cpp and image_config.cpp, platforms in platform.cpp.
#include "oci/image.hpp"

namespace berth::oci {

std::string_view compression_name(Compression c) {
  switch (c) {
  case Compression::gzip: return "gzip";
  case Compression::zstd: return "zstd";
  case Compression::none: break;
  }
  return "none";
}

Result<Compression> layer_compression(std::string_view mt) {
  struct Known {
    std::string_view type;
    Compression c;
  };
  // OCI, OCI's non-distributable variants (deprecated, still pulled), and
  // Docker's (the uncompressed and zstd ones are what containerd and
  // buildkit write).
  static constexpr Known known[] = {
      {media::oci_layer, Compression::none},
      {media::oci_layer_gzip, Compression::gzip},
      {media::oci_layer_zstd, Compression::zstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::none},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::gzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::zstd},
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::none},
      {media::docker_layer_gzip, Compression::gzip},
      {"application/vnd.docker.image.rootfs.diff.tar.zstd", Compression::zstd},
      {media::docker_foreign_gzip, Compression::gzip},
  };
  for (const auto &k : known)
    if (k.type == mt) return k.c;
  return fail_msg("media type '" + std::string(mt.substr(0, 200)) +
                  "' is not a layer (expected application/vnd.oci.image.layer.v1.tar[+gzip|+zstd] or "
                  "application/vnd.docker.image.rootfs.diff.tar.gzip)");
}

Compression sniff_compression(const void *head, size_t n) {
  const auto *b = static_cast<const unsigned char *>(head);
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return Compression::gzip;
  if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return Compression::zstd;
  return Compression::none;
}

} // namespace berth::oci
