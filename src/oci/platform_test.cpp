#include "oci/image.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace berth::oci;

namespace {

Platform P(std::string os, std::string arch, std::string variant = "") {
  Platform p;
  p.os = std::move(os);
  p.architecture = std::move(arch);
  p.variant = std::move(variant);
  return p;
}

std::string parsed(std::string_view s) {
  auto p = Platform::parse(s);
  EXPECT_TRUE(p.has_value()) << s << ": " << (p ? "" : p.error().message());
  return p ? p->str() : "";
}

std::string parse_err(std::string_view s) {
  auto p = Platform::parse(s);
  EXPECT_FALSE(p.has_value()) << s << " parsed as " << (p ? p->str() : "");
  return p ? "" : p.error().message();
}

const std::string kHex = "41c8d0e67e6020d92055b363a0ae126005999ef49fbddb9e2485dd7caf6e3800";

Descriptor entry(const Platform &p, char tag) {
  Descriptor d;
  d.media_type = media::docker_manifest;
  d.digest = *Digest::parse("sha256:" + std::string(63, '0') + tag);
  d.size = 527;
  d.platform = p;
  return d;
}

// Docker Hub's busybox: amd64, arm v5/v6/v7, arm64 v8, 386, mips64le,
// ppc64le, riscv64, s390x. Each entry's digest ends in its own digit.
Index busybox() {
  Index x;
  x.media_type = media::docker_list;
  const Platform ps[] = {P("linux", "amd64"),    P("linux", "arm", "v5"),   P("linux", "arm", "v6"),
                         P("linux", "arm", "v7"), P("linux", "arm64", "v8"), P("linux", "386"),
                         P("linux", "mips64le"), P("linux", "ppc64le"),     P("linux", "riscv64"),
                         P("linux", "s390x")};
  char tag = '0';
  for (const auto &p : ps) x.manifests.push_back(entry(p, tag++));
  return x;
}

// The last hex digit of what select_platform picks, or the error.
std::string pick(const Index &x, const Platform &want) {
  auto d = select_platform(x, want);
  if (!d) return d.error().message();
  return std::string(1, d->digest.hex.back());
}

} // namespace

TEST(Platform, Parse) {
  EXPECT_EQ(parsed("linux/amd64"), "linux/amd64");
  EXPECT_EQ(parsed("linux/arm64/v8"), "linux/arm64/v8");
  EXPECT_EQ(parsed("linux/arm/v7"), "linux/arm/v7");
  EXPECT_EQ(parsed("linux/arm/v6"), "linux/arm/v6");
  EXPECT_EQ(parsed("linux/arm64"), "linux/arm64");
  EXPECT_EQ(parsed("windows/amd64"), "windows/amd64");
  EXPECT_EQ(parsed("linux/amd64/v3"), "linux/amd64/v3");
  // containerd's aliases and spellings.
  EXPECT_EQ(parsed("Linux/AMD64"), "linux/amd64");
  EXPECT_EQ(parsed("linux/x86_64"), "linux/amd64");
  EXPECT_EQ(parsed("linux/x86-64"), "linux/amd64");
  EXPECT_EQ(parsed("linux/aarch64"), "linux/arm64");
  EXPECT_EQ(parsed("linux/arm64/8"), "linux/arm64/v8");
  EXPECT_EQ(parsed("linux/armhf"), "linux/arm/v7");
  EXPECT_EQ(parsed("linux/armel"), "linux/arm/v6");
  EXPECT_EQ(parsed("linux/arm/7"), "linux/arm/v7");
  EXPECT_EQ(parsed("linux/arm/5"), "linux/arm/v5");
  EXPECT_EQ(parsed("linux/i386"), "linux/386");
  EXPECT_EQ(parsed("linux/i686"), "linux/386");
  // One part: an architecture on linux, or an OS on this architecture.
  EXPECT_EQ(parsed("arm64"), "linux/arm64");
  EXPECT_EQ(parsed("s390x"), "linux/s390x");
  EXPECT_EQ(parsed("linux"), host_platform().str());
  Platform h = host_platform();
  h.os = "freebsd";
  EXPECT_EQ(parsed("freebsd"), h.str());
}

TEST(Platform, ParseErrors) {
  EXPECT_EQ(parse_err(""), "invalid platform '': empty");
  EXPECT_EQ(parse_err("linux/arm/v7/x"), "invalid platform 'linux/arm/v7/x': expected os/arch[/variant]");
  EXPECT_EQ(parse_err("linux/"), "invalid platform 'linux/': each part must be letters, digits, '_' or '-'");
  EXPECT_EQ(parse_err("/amd64"), "invalid platform '/amd64': each part must be letters, digits, '_' or '-'");
  EXPECT_EQ(parse_err("linux//v7"), "invalid platform 'linux//v7': each part must be letters, digits, '_' or '-'");
  EXPECT_EQ(parse_err("linux/amd 64"), "invalid platform 'linux/amd 64': each part must be letters, digits, '_' or '-'");
  EXPECT_EQ(parse_err("linux/arm.v7"), "invalid platform 'linux/arm.v7': each part must be letters, digits, '_' or '-'");
  EXPECT_EQ(parse_err("potato"), "invalid platform 'potato': unknown operating system or architecture 'potato'");
}

TEST(Platform, HostIsAGoName) {
  Platform h = host_platform();
  EXPECT_EQ(h.os, "linux");
#if defined(__x86_64__)
  EXPECT_EQ(h.str(), "linux/amd64");
#elif defined(__aarch64__)
  EXPECT_EQ(h.str(), "linux/arm64/v8");
#endif
  // Whatever it is, it parses back to itself and matches itself.
  EXPECT_EQ(parsed(h.str()), h.str());
  EXPECT_TRUE(platform_matches(h, h));
}

TEST(Platform, MatchesWithDefaultVariants) {
  // arm64's default is v8, arm's v7, amd64's v1.
  EXPECT_TRUE(platform_matches(P("linux", "arm64", "v8"), P("linux", "arm64")));
  EXPECT_TRUE(platform_matches(P("linux", "arm64"), P("linux", "arm64", "v8")));
  EXPECT_TRUE(platform_matches(P("linux", "arm64", "8"), P("linux", "aarch64", "v8")));
  EXPECT_TRUE(platform_matches(P("linux", "arm", "v7"), P("linux", "arm")));
  EXPECT_TRUE(platform_matches(P("linux", "arm", "7"), P("linux", "armhf")));
  EXPECT_TRUE(platform_matches(P("linux", "amd64", "v1"), P("linux", "amd64")));
  EXPECT_TRUE(platform_matches(P("linux", "amd64"), P("linux", "x86_64", "v1")));
  EXPECT_TRUE(platform_matches(P("Linux", "AMD64"), P("linux", "amd64")));
  EXPECT_TRUE(platform_matches(P("linux", "386"), P("linux", "i386")));
  // An empty variant in want matches any.
  EXPECT_TRUE(platform_matches(P("linux", "arm"), P("linux", "arm", "v6")));
  EXPECT_TRUE(platform_matches(P("linux", "amd64"), P("linux", "amd64", "v3")));
  // Different ones do not.
  EXPECT_FALSE(platform_matches(P("linux", "arm", "v7"), P("linux", "arm", "v6")));
  EXPECT_FALSE(platform_matches(P("linux", "arm", "v6"), P("linux", "arm")));
  EXPECT_FALSE(platform_matches(P("linux", "arm64", "v9"), P("linux", "arm64")));
  EXPECT_FALSE(platform_matches(P("linux", "amd64", "v3"), P("linux", "amd64")));
  EXPECT_FALSE(platform_matches(P("linux", "amd64"), P("windows", "amd64")));
  EXPECT_FALSE(platform_matches(P("linux", "amd64"), P("linux", "arm64")));
  EXPECT_FALSE(platform_matches(P("linux", "arm64"), P("linux", "arm", "v8")));
}

TEST(Platform, SelectFromBusybox) {
  Index x = busybox();
  EXPECT_EQ(pick(x, P("linux", "amd64")), "0");
  EXPECT_EQ(pick(x, P("linux", "amd64", "v1")), "0");
  EXPECT_EQ(pick(x, P("linux", "arm", "v5")), "1");
  EXPECT_EQ(pick(x, P("linux", "arm", "v6")), "2");
  EXPECT_EQ(pick(x, P("linux", "arm", "v7")), "3");
  // arm without a variant: the default v7, not the first arm entry.
  EXPECT_EQ(pick(x, P("linux", "arm")), "3");
  EXPECT_EQ(pick(x, P("linux", "armhf")), "3");
  EXPECT_EQ(pick(x, P("linux", "arm64")), "4");
  EXPECT_EQ(pick(x, P("linux", "arm64", "v8")), "4");
  EXPECT_EQ(pick(x, P("linux", "aarch64")), "4");
  EXPECT_EQ(pick(x, P("linux", "386")), "5");
  EXPECT_EQ(pick(x, P("linux", "ppc64le")), "7");
  EXPECT_EQ(pick(x, P("linux", "s390x")), "9");
  EXPECT_EQ(pick(x, host_platform()).size(), 1u);
  // An armv8 in 32-bit mode runs v7 code; x86-64-v3 runs v1.
  EXPECT_EQ(pick(x, P("linux", "arm", "v8")), "3");
  EXPECT_EQ(pick(x, P("linux", "amd64", "v3")), "0");
  EXPECT_EQ(pick(x, P("linux", "arm64", "v9")), "4");
}

TEST(Platform, SelectPrefersExactVariantOverOrder) {
  Index x;
  x.manifests = {entry(P("linux", "arm", "v5"), '1'), entry(P("linux", "arm", "v6"), '2'),
                 entry(P("linux", "arm", "v7"), '3'), entry(P("linux", "arm64"), '4'),
                 entry(P("linux", "arm64", "v8"), '5')};
  EXPECT_EQ(pick(x, P("linux", "arm", "v7")), "3");
  // Only older ones: the nearest.
  Index old;
  old.manifests = {entry(P("linux", "arm", "v5"), '1'), entry(P("linux", "arm", "v6"), '2')};
  EXPECT_EQ(pick(old, P("linux", "arm", "v7")), "2");
  EXPECT_EQ(pick(old, P("linux", "arm")), "2");
  EXPECT_EQ(pick(old, P("linux", "arm", "v6")), "2");
  EXPECT_EQ(pick(old, P("linux", "arm", "v5")), "1");
  // arm64 "" and v8 are the same: the first of equals wins.
  EXPECT_EQ(pick(x, P("linux", "arm64", "v8")), "4");
  // amd64: v1 (no variant) preferred to v3 for a plain amd64 request, and v2
  // for a v2 host, which cannot run v3.
  Index amd;
  amd.manifests = {entry(P("linux", "amd64", "v3"), '3'), entry(P("linux", "amd64", "v2"), '2'),
                   entry(P("linux", "amd64"), '1')};
  EXPECT_EQ(pick(amd, P("linux", "amd64")), "1");
  EXPECT_EQ(pick(amd, P("linux", "amd64", "v2")), "2");
  EXPECT_EQ(pick(amd, P("linux", "amd64", "v4")), "3");
  // A newer variant only: a plain request takes it, a v-specific one does not.
  Index newer;
  newer.manifests = {entry(P("linux", "amd64", "v3"), '3')};
  EXPECT_EQ(pick(newer, P("linux", "amd64")), "3");
  EXPECT_EQ(pick(newer, P("linux", "amd64", "v2")), "no image for linux/amd64/v2 in the index (it has linux/amd64/v3)");
}

TEST(Platform, SelectNoMatchListsPlatforms) {
  Index x = busybox();
  EXPECT_EQ(pick(x, P("windows", "amd64")),
            "no image for windows/amd64 in the index (it has linux/amd64, linux/arm/v5, linux/arm/v6, linux/arm/v7, "
            "linux/arm64/v8, linux/386, linux/mips64le, linux/ppc64le, linux/riscv64, linux/s390x)");
  EXPECT_EQ(pick(x, P("linux", "arm", "v4")).substr(0, 40), "no image for linux/arm/v4 in the index (");
  // Attestations are not listed, duplicates once.
  Index y;
  y.manifests = {entry(P("linux", "amd64"), '1'), entry(P("unknown", "unknown"), '2'), entry(P("linux", "amd64"), '3')};
  EXPECT_EQ(pick(y, P("linux", "s390x")), "no image for linux/s390x in the index (it has linux/amd64)");
  EXPECT_EQ(pick(Index{}, P("linux", "amd64")),
            "no image for linux/amd64 in the index: it names no platforms and holds no image manifest");
}

TEST(Platform, SelectWithoutPlatforms) {
  // An OCI layout's index of one image, no platform: that image.
  Index x;
  Descriptor nested = entry(P("linux", "amd64"), '1');
  nested.platform.reset();
  nested.media_type = media::oci_index;
  Descriptor image = entry(P("linux", "amd64"), '2');
  image.platform.reset();
  image.media_type = media::oci_manifest;
  x.manifests = {nested, image};
  EXPECT_EQ(pick(x, P("linux", "s390x")), "2");
  // Where any entry names a platform, entries without one are not guesses.
  x.manifests.push_back(entry(P("linux", "arm64"), '3'));
  EXPECT_EQ(pick(x, P("linux", "s390x")), "no image for linux/s390x in the index (it has linux/arm64)");
}

TEST(Platform, JsonRoundTrip) {
  Platform p = P("windows", "amd64");
  p.os_version = "10.0.17763.5329";
  p.os_features = {"win32k"};
  auto j = to_json(p);
  EXPECT_EQ(j, nlohmann::json::parse(
                   R"({"os":"windows","architecture":"amd64","os.version":"10.0.17763.5329","os.features":["win32k"]})"));
  auto back = parse_platform_json(j);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->os_version, p.os_version);
  EXPECT_EQ(back->os_features, p.os_features);
  EXPECT_EQ(back->str(), "windows/amd64");
  auto bad = parse_platform_json(nlohmann::json::parse(R"({"os":"linux","architecture":"arm","variant":7})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "variant: expected a string, got integer");
  EXPECT_EQ(parse_platform_json(nlohmann::json::array()).error().message(), "expected an object, got array");
}
