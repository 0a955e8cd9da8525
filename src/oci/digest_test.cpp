#include "oci/digest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using namespace berth::oci;

namespace {
const std::string kEmpty256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kAbc256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string kAbc512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
const std::string kEmpty512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                              "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

std::string err(std::string_view s) {
  auto d = Digest::parse(s);
  EXPECT_FALSE(d.has_value()) << s;
  return d ? "" : d.error().message();
}
} // namespace

TEST(Digest, KnownVectors) {
  EXPECT_EQ(digest_of("").str(), "sha256:" + kEmpty256);
  EXPECT_EQ(digest_of("abc").str(), "sha256:" + kAbc256);
  EXPECT_EQ(digest_of("", DigestAlgo::sha512).str(), "sha512:" + kEmpty512);
  EXPECT_EQ(digest_of("abc", DigestAlgo::sha512).str(), "sha512:" + kAbc512);
  // FIPS 180-2's long message: a million 'a'.
  EXPECT_EQ(digest_of(std::string(1000000, 'a')).hex,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Digest, HasherInPiecesEqualsWhole) {
  Hasher h;
  std::string s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (size_t i = 0; i < s.size(); i += 7) h.update(s.data() + i, std::min<size_t>(7, s.size() - i));
  Digest d = h.finish();
  EXPECT_EQ(d.hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(d, digest_of(s));
  // Moved-from and moved-to hashers: the state travels with the move.
  Hasher a(DigestAlgo::sha512);
  a.update("ab", 2);
  Hasher b = std::move(a);
  b.update("c", 1);
  EXPECT_EQ(b.algo(), DigestAlgo::sha512);
  EXPECT_EQ(b.finish().hex, kAbc512);
}

TEST(Digest, ParseAndPrint) {
  auto d = Digest::parse("sha256:" + kAbc256);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->algo, DigestAlgo::sha256);
  EXPECT_EQ(d->algo_name(), "sha256");
  EXPECT_EQ(d->hex, kAbc256);
  EXPECT_EQ(d->str(), "sha256:" + kAbc256);
  auto e = Digest::parse("sha512:" + kAbc512);
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->algo, DigestAlgo::sha512);
  EXPECT_EQ(e->algo_name(), "sha512");
  EXPECT_EQ(e->str(), "sha512:" + kAbc512);
}

TEST(Digest, ParseErrorsSayWhy) {
  EXPECT_EQ(err(""), "invalid digest '': expected algorithm:hex");
  EXPECT_EQ(err(kAbc256), "invalid digest '" + kAbc256 + "': expected algorithm:hex");
  EXPECT_NE(err("md5:d41d8cd98f00b204e9800998ecf8427e").find("unsupported algorithm"), std::string::npos);
  EXPECT_NE(err("blake3:" + kAbc256).find("unsupported algorithm"), std::string::npos);
  EXPECT_NE(err("SHA256:" + kAbc256).find("unsupported algorithm"), std::string::npos);
  EXPECT_NE(err("sha256:" + kAbc256.substr(1)).find("wrong length"), std::string::npos);
  EXPECT_NE(err("sha256:" + kAbc256 + "0").find("wrong length"), std::string::npos);
  EXPECT_NE(err("sha256:").find("wrong length"), std::string::npos);
  // A sha512-long hex under sha256 and the other way round.
  EXPECT_NE(err("sha256:" + kAbc512).find("wrong length"), std::string::npos);
  EXPECT_NE(err("sha512:" + kAbc256).find("wrong length"), std::string::npos);
  std::string upper = kAbc256;
  upper[0] = 'B';
  EXPECT_NE(err("sha256:" + upper).find("lower-case hex"), std::string::npos);
  std::string nonhex = kAbc256;
  nonhex[10] = 'g';
  EXPECT_NE(err("sha256:" + nonhex).find("lower-case hex"), std::string::npos);
  // Long inputs are cut in the message.
  EXPECT_LT(err(std::string(5000, 'x')).size(), 300u);
}

TEST(Digest, Equality) {
  EXPECT_EQ(*Digest::parse("sha256:" + kAbc256), digest_of("abc"));
  EXPECT_NE(*Digest::parse("sha256:" + kEmpty256), digest_of("abc"));
}
