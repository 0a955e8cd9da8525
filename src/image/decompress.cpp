// LayerStream: raw bytes -> (hash) -> decompress -> (hash) -> tar reader.
// gzip with ISA-L's igzip (multi-member, as pigz and concatenated gzip files
// are; Go's gzip reader, which docker and containerd use, reads them too),
// zstd with ZSTD_decompressStream (any number of frames), none as is.
#include "image/stream.hpp"

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <cstring>
#include <vector>

namespace berth::image {
namespace {

constexpr size_t in_size = 256 << 10;

std::string isal_reason(int ret) {
  switch (ret) {
  case ISAL_INVALID_BLOCK: return "invalid deflate block";
  case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
  case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
  case ISAL_INVALID_WRAPPER: return "invalid gzip header";
  case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
  case ISAL_INCORRECT_CHECKSUM: return "checksum mismatch (crc32 or header crc)";
  case ISAL_NEED_DICT: return "stream needs a dictionary";
  default: return "error " + std::to_string(ret);
  }
}

} // namespace

struct LayerStream::Impl {
  Source &raw;
  oci::Compression comp;
  std::string what;
  oci::Hasher raw_hash, tar_hash;
  uint64_t raw_bytes = 0, tar_bytes = 0;
  std::vector<unsigned char> in = std::vector<unsigned char>(in_size);
  size_t in_pos = 0, in_len = 0; // unconsumed input: in[in_pos, in_len)
  bool eof = false, done = false;
  // gzip
  std::unique_ptr<inflate_state> gz;
  enum class Gz { member, between, zeros } gz_state = Gz::member;
  uint64_t members = 0;
  // zstd
  ZSTD_DCtx *zs = nullptr;
  size_t zs_last = 1; // what the last step returned: 0 at the end of a frame
  uint64_t frames = 0;

  Impl(Source &r, oci::Compression c, std::string w, oci::DigestAlgo ra, oci::DigestAlgo ta)
      : raw(r), comp(c), what(std::move(w)), raw_hash(ra), tar_hash(ta) {
    if (comp == oci::Compression::gzip) {
      gz = std::make_unique<inflate_state>();
      isal_inflate_init(gz.get());
      gz->crc_flag = ISAL_GZIP;
    } else if (comp == oci::Compression::zstd) {
      zs = ZSTD_createDCtx();
    }
  }
  ~Impl() { ZSTD_freeDCtx(zs); }

  // More raw input when all of it is consumed; sets eof at the end.
  Result<> fill() {
    if (in_pos < in_len || eof) return {};
    ASSIGN_OR_RETURN(size_t n, raw.read({reinterpret_cast<std::byte *>(in.data()), in.size()}));
    in_pos = 0;
    in_len = n;
    if (n == 0) eof = true;
    raw_hash.update(in.data(), n);
    raw_bytes += n;
    return {};
  }

  std::unexpected<Error> bad(const std::string &why) { return fail_msg(what + ": " + why); }

  Result<size_t> read_none(unsigned char *out, size_t cap) {
    // Straight into the caller's buffer: no copy.
    ASSIGN_OR_RETURN(size_t n, raw.read({reinterpret_cast<std::byte *>(out), cap}));
    if (n == 0) eof = true;
    raw_hash.update(out, n);
    raw_bytes += n;
    return n;
  }

  Result<size_t> read_gzip(unsigned char *out, size_t cap) {
    for (;;) {
      TRY(fill());
      if (gz_state == Gz::zeros) {
        // Zero padding after the last member (GNU gzip accepts it; the
        // digest covers it anyway). Anything else there is an error.
        for (; in_pos < in_len; ++in_pos)
          if (in[in_pos] != 0) return bad("gzip: data after the zero padding that follows the gzip stream");
        if (eof) return size_t(0);
        continue;
      }
      if (gz_state == Gz::between) {
        if (in_pos == in_len) {
          if (eof) return size_t(0);
          continue;
        }
        if (in[in_pos] == 0) {
          gz_state = Gz::zeros;
          continue;
        }
        if (in[in_pos] != 0x1f)
          return bad("gzip: garbage after gzip member " + std::to_string(members));
        isal_inflate_reset(gz.get());
        gz->crc_flag = ISAL_GZIP;
        gz_state = Gz::member;
      }
      gz->next_in = in.data() + in_pos;
      gz->avail_in = uint32_t(in_len - in_pos);
      gz->next_out = out;
      gz->avail_out = uint32_t(cap);
      int ret = isal_inflate(gz.get());
      size_t used = (in_len - in_pos) - gz->avail_in;
      size_t made = cap - gz->avail_out;
      in_pos += used;
      if (ret < 0 || ret == ISAL_NEED_DICT) return bad("gzip: " + isal_reason(ret));
      if (gz->block_state == ISAL_BLOCK_FINISH) {
        ++members;
        gz_state = Gz::between;
      }
      if (made > 0) return made;
      if (gz_state == Gz::between || used > 0) continue;
      if (eof) {
        if (members == 0 && raw_bytes == 0) return bad("gzip: empty stream");
        return bad("gzip: unexpected end of data (truncated stream)");
      }
      if (in_pos < in_len) return bad("gzip: the decompressor made no progress");
    }
  }

  Result<size_t> read_zstd(unsigned char *out, size_t cap) {
    for (;;) {
      TRY(fill());
      ZSTD_inBuffer ib{in.data(), in_len, in_pos};
      ZSTD_outBuffer ob{out, cap, 0};
      size_t ret = ZSTD_decompressStream(zs, &ob, &ib);
      if (ZSTD_isError(ret)) return bad(std::string("zstd: ") + ZSTD_getErrorName(ret));
      bool progress = ib.pos != in_pos || ob.pos > 0;
      in_pos = ib.pos;
      if (progress) {
        zs_last = ret;
        if (ret == 0) ++frames;
      }
      if (ob.pos > 0) return ob.pos;
      if (progress) continue;
      if (eof && in_pos == in_len) {
        if (frames == 0 && raw_bytes == 0) return bad("zstd: empty stream");
        if (zs_last != 0) return bad("zstd: unexpected end of data (truncated frame)");
        return size_t(0);
      }
      if (in_pos < in_len) return bad("zstd: the decompressor made no progress");
    }
  }

  Result<size_t> read(unsigned char *out, size_t cap) {
    if (done || cap == 0) return size_t(0);
    Result<size_t> r = comp == oci::Compression::gzip   ? read_gzip(out, cap)
                       : comp == oci::Compression::zstd ? read_zstd(out, cap)
                                                        : read_none(out, cap);
    if (!r) return r;
    if (*r == 0) done = true;
    tar_hash.update(out, *r);
    tar_bytes += *r;
    return r;
  }
};

LayerStream::LayerStream(Source &raw, oci::Compression c, LayerDigests want, std::string what)
    : want_(std::move(want)), what_(std::move(what)) {
  auto algo = [](const std::optional<oci::Digest> &d) { return d ? d->algo : oci::DigestAlgo::sha256; };
  impl_ = std::make_unique<Impl>(raw, c, what_, algo(want_.digest), algo(want_.diff_id));
}

LayerStream::~LayerStream() = default;

Result<size_t> LayerStream::read(std::span<std::byte> buf) {
  return impl_->read(reinterpret_cast<unsigned char *>(buf.data()), buf.size());
}

Result<> LayerStream::finish() {
  // The tar reader stops at the end-of-archive blocks; what follows (more
  // zero blocks, the compressed trailer) is part of both digests.
  std::vector<unsigned char> scratch(128 << 10);
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, impl_->read(scratch.data(), scratch.size()));
    if (n == 0) break;
  }
  got_digest_ = impl_->raw_hash.finish();
  got_diff_id_ = impl_->tar_hash.finish();
  raw_bytes_ = impl_->raw_bytes;
  tar_bytes_ = impl_->tar_bytes;
  if (want_.digest && *want_.digest != got_digest_)
    return fail_msg(what_ + ": digest mismatch: expected " + want_.digest->str() + ", got " + got_digest_.str());
  if (want_.diff_id && *want_.diff_id != got_diff_id_)
    return fail_msg(what_ + ": diff_id mismatch: expected " + want_.diff_id->str() + ", got " +
                    got_diff_id_.str());
  return {};
}

} // namespace berth::image
