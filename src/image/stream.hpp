// Byte streams for layers: a Source is read until it returns 0 (its end).
// A layer is read raw (as stored or downloaded), hashed (its digest),
// decompressed, hashed again (its diff_id) and handed to the tar reader,
// one buffer at a time: nothing is held whole in memory.
#pragma once

#include "common/error.hpp"
#include "oci/digest.hpp"
#include "oci/image.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace berth::image {

struct Source {
  virtual ~Source() = default;
  // Up to buf.size() bytes; 0 only at the end.
  virtual Result<size_t> read(std::span<std::byte> buf) = 0;
};

// Reads an fd (a blob file, a pipe from a download) until EOF.
class FdSource final : public Source {
 public:
  FdSource(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  Result<size_t> read(std::span<std::byte> buf) override;

 private:
  int fd_;
  std::string what_;
};

// What a layer must hash to; either may be absent (not known yet).
struct LayerDigests {
  std::optional<oci::Digest> digest;  // of the bytes as stored (compressed)
  std::optional<oci::Digest> diff_id; // of the uncompressed tar
};

// The uncompressed bytes of a layer read from raw. finish() reads what is
// left of raw (a tar ends before its compressed stream does), then checks
// both digests: an error names the layer, the digest expected and the one
// found. Compression::none passes the bytes through.
class LayerStream final : public Source {
 public:
  LayerStream(Source &raw, oci::Compression c, LayerDigests want, std::string what);
  ~LayerStream() override;
  Result<size_t> read(std::span<std::byte> buf) override;
  Result<> finish();
  // Valid after finish(): what the bytes hashed to, and how many there were.
  const oci::Digest &digest() const { return got_digest_; }
  const oci::Digest &diff_id() const { return got_diff_id_; }
  uint64_t raw_bytes() const { return raw_bytes_; }
  uint64_t tar_bytes() const { return tar_bytes_; }

  struct Impl; // the decompressor (decompress.cpp)

 private:
  std::unique_ptr<Impl> impl_;
  LayerDigests want_;
  std::string what_;
  oci::Digest got_digest_, got_diff_id_;
  uint64_t raw_bytes_ = 0, tar_bytes_ = 0;
};

} // namespace berth::image
