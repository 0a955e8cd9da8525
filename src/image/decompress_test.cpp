#include "image/stream.hpp"
#include "image/testing.hpp"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

using namespace testing;
using oci::Compression;

// Everything read through a LayerStream (chunk bytes at a time from the
// source, out bytes at a time by the reader), then finish().
struct Run {
  std::string out;
  Result<> finished;
  oci::Digest digest, diff_id;
};

Run run(const std::string &raw, Compression c, LayerDigests want = {}, size_t chunk = 1 << 20,
        size_t out = 64 << 10) {
  StringSource src(raw, chunk);
  LayerStream ls(src, c, std::move(want), "layer test");
  Run r;
  std::vector<std::byte> buf(out);
  for (;;) {
    auto n = ls.read(buf);
    if (!n) {
      r.finished = std::unexpected(n.error());
      return r;
    }
    if (*n == 0) break;
    r.out.append(reinterpret_cast<const char *>(buf.data()), *n);
  }
  r.finished = ls.finish();
  if (r.finished) {
    r.digest = ls.digest();
    r.diff_id = ls.diff_id();
    EXPECT_EQ(ls.raw_bytes(), raw.size());
    EXPECT_EQ(ls.tar_bytes(), r.out.size());
  }
  return r;
}

std::string err(const Run &r) { return r.finished ? std::string("<no error>") : r.finished.error().message(); }

TEST(LayerStream, NonePassesThroughAndHashes) {
  std::string data = noise(300'000);
  auto r = run(data, Compression::none, {oci::digest_of(data), oci::digest_of(data)}, 1000, 4096);
  ASSERT_TRUE(r.finished) << err(r);
  EXPECT_EQ(r.out, data);
  EXPECT_EQ(r.digest, oci::digest_of(data));
  EXPECT_EQ(r.diff_id, oci::digest_of(data));
}

TEST(LayerStream, GzipWithDigests) {
  std::string data = noise(1'000'000);
  std::string gz = gzip(data);
  for (size_t chunk : {size_t(1) << 20, size_t(777)}) {
    auto r = run(gz, Compression::gzip, {oci::digest_of(gz), oci::digest_of(data)}, chunk, 5000);
    ASSERT_TRUE(r.finished) << err(r);
    EXPECT_EQ(r.out, data);
    EXPECT_EQ(r.digest, oci::digest_of(gz));
    EXPECT_EQ(r.diff_id, oci::digest_of(data));
  }
}

TEST(LayerStream, GzipMultiMember) {
  // What pigz and `cat a.gz b.gz` make: the members' data concatenated.
  std::string a = noise(200'000, 1), b = noise(300'000, 2), c = "tail";
  std::string gz = gzip(a) + gzip(b, 1) + gzip(c);
  for (size_t chunk : {size_t(1) << 20, size_t(4093), size_t(3)}) {
    auto r = run(gz, Compression::gzip, {oci::digest_of(gz), oci::digest_of(a + b + c)}, chunk);
    ASSERT_TRUE(r.finished) << err(r);
    EXPECT_EQ(r.out, a + b + c);
  }
}

TEST(LayerStream, GzipEmptyMember) {
  std::string gz = gzip("") + gzip("x");
  auto r = run(gz, Compression::gzip);
  ASSERT_TRUE(r.finished) << err(r);
  EXPECT_EQ(r.out, "x");
}

TEST(LayerStream, GzipTrailingZerosAreAcceptedGarbageIsNot) {
  std::string data = noise(10'000);
  auto r = run(gzip(data) + std::string(1000, '\0'), Compression::gzip);
  ASSERT_TRUE(r.finished) << err(r);
  EXPECT_EQ(r.out, data);
  r = run(gzip(data) + "garbage", Compression::gzip);
  EXPECT_NE(err(r).find("layer test: gzip: garbage after gzip member 1"), std::string::npos) << err(r);
  r = run(gzip(data) + std::string(10, '\0') + "x", Compression::gzip);
  EXPECT_NE(err(r).find("layer test: gzip: data after the zero padding"), std::string::npos) << err(r);
}

TEST(LayerStream, GzipCorrupt) {
  std::string data = noise(100'000);
  std::string gz = gzip(data);
  std::string bad = gz;
  for (size_t i = 100; i < 200; ++i) bad[i] = char(bad[i] ^ 0x5a);
  auto r = run(bad, Compression::gzip);
  EXPECT_TRUE(err(r).starts_with("layer test: gzip: ")) << err(r);
  // The crc32 in the trailer.
  bad = gz;
  bad[bad.size() - 6] ^= 1;
  r = run(bad, Compression::gzip);
  EXPECT_EQ(err(r), "layer test: gzip: checksum mismatch (crc32 or header crc)");
  // Not gzip at all.
  r = run("this is not gzip", Compression::gzip);
  EXPECT_EQ(err(r), "layer test: gzip: invalid gzip header");
}

TEST(LayerStream, GzipTruncated) {
  std::string gz = gzip(noise(100'000));
  for (size_t cut : {gz.size() - 1, gz.size() - 8, gz.size() / 2, size_t(5)}) {
    auto r = run(gz.substr(0, cut), Compression::gzip);
    EXPECT_EQ(err(r), "layer test: gzip: unexpected end of data (truncated stream)") << cut;
  }
  auto r = run("", Compression::gzip);
  EXPECT_EQ(err(r), "layer test: gzip: empty stream");
}

TEST(LayerStream, ZstdFramesAndDigests) {
  std::string a = noise(700'000, 3), b = noise(1000, 4);
  std::string zs = zstd(a) + zstd(b);
  for (size_t chunk : {size_t(1) << 20, size_t(1001)}) {
    auto r = run(zs, Compression::zstd, {oci::digest_of(zs), oci::digest_of(a + b)}, chunk, 3000);
    ASSERT_TRUE(r.finished) << err(r);
    EXPECT_EQ(r.out, a + b);
  }
}

TEST(LayerStream, ZstdCorruptAndTruncated) {
  std::string zs = zstd(noise(100'000));
  std::string bad = zs;
  for (size_t i = 50; i < 150; ++i) bad[i] = char(bad[i] ^ 0x33);
  auto r = run(bad, Compression::zstd);
  EXPECT_TRUE(err(r).starts_with("layer test: zstd: ")) << err(r);
  r = run(zs.substr(0, zs.size() - 3), Compression::zstd);
  EXPECT_EQ(err(r), "layer test: zstd: unexpected end of data (truncated frame)");
  r = run(zs + "junk", Compression::zstd);
  EXPECT_TRUE(err(r).starts_with("layer test: zstd: ")) << err(r);
  r = run("", Compression::zstd);
  EXPECT_EQ(err(r), "layer test: zstd: empty stream");
}

TEST(LayerStream, WrongDigest) {
  std::string data = noise(5000);
  std::string gz = gzip(data);
  auto wrong = oci::digest_of("something else");
  auto r = run(gz, Compression::gzip, {wrong, std::nullopt});
  EXPECT_EQ(err(r), "layer test: digest mismatch: expected " + wrong.str() + ", got " + oci::digest_of(gz).str());
  r = run(gz, Compression::gzip, {oci::digest_of(gz), wrong});
  EXPECT_EQ(err(r),
            "layer test: diff_id mismatch: expected " + wrong.str() + ", got " + oci::digest_of(data).str());
}

TEST(LayerStream, Sha512WhenTheDigestIsSha512) {
  std::string data = "abc";
  auto d512 = oci::digest_of(data, oci::DigestAlgo::sha512);
  auto r = run(data, Compression::none, {d512, std::nullopt});
  ASSERT_TRUE(r.finished) << err(r);
  EXPECT_EQ(r.digest, d512);
  EXPECT_EQ(r.diff_id, oci::digest_of(data));
}

TEST(LayerStream, FinishReadsTheRest) {
  // The tar reader stops early; finish() hashes what is left.
  std::string data = noise(400'000);
  std::string gz = gzip(data);
  StringSource src(gz, 1000);
  LayerStream ls(src, Compression::gzip, {oci::digest_of(gz), oci::digest_of(data)}, "layer test");
  std::vector<std::byte> buf(100);
  ASSERT_TRUE(ls.read(buf));
  auto f = ls.finish();
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(src.pos(), gz.size());
  EXPECT_EQ(ls.tar_bytes(), data.size());
}

} // namespace
} // namespace berth::image
