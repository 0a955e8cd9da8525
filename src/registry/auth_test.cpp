#include "registry/auth.hpp"

#include <gtest/gtest.h>

namespace berth::registry {
namespace {

TEST(Challenges, BearerWithQuotedParams) {
  auto cs = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].scheme, "bearer");
  EXPECT_EQ(cs[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(cs[0].params["service"], "registry.docker.io");
  EXPECT_EQ(cs[0].params["scope"], "repository:library/busybox:pull");
}

TEST(Challenges, SeveralAndUnquotedAndEscapes) {
  auto cs = parse_challenges(R"(Basic realm="Registry \"A\"", Bearer realm=https://h/t, error=invalid_token)");
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].scheme, "basic");
  EXPECT_EQ(cs[0].params["realm"], "Registry \"A\"");
  EXPECT_EQ(cs[1].scheme, "bearer");
  EXPECT_EQ(cs[1].params["realm"], "https://h/t");
  EXPECT_EQ(cs[1].params["error"], "invalid_token");
}

TEST(Challenges, SchemeCaseAndParamNamesAreLowered) {
  auto cs = parse_challenges(R"(BEARER Realm="r",SERVICE="s")");
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].scheme, "bearer");
  EXPECT_EQ(cs[0].params["realm"], "r");
  EXPECT_EQ(cs[0].params["service"], "s");
}

TEST(Challenges, BrokenTextKeepsWhatCameBefore) {
  EXPECT_TRUE(parse_challenges("").empty());
  EXPECT_TRUE(parse_challenges("   ,,").empty());
  auto cs = parse_challenges(R"(Bearer realm="unterminated)");
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_TRUE(cs[0].params.empty());
  // A parameter before any scheme is not a challenge.
  EXPECT_TRUE(parse_challenges(R"(="x")").empty());
}

TEST(Basic, EncodesUserColonPassword) {
  EXPECT_EQ(basic_header({"user", "pass", {}}), "Basic dXNlcjpwYXNz");
  EXPECT_EQ(basic_header({"a", "p:w", {}}), "Basic YTpwOnc=");
}

TEST(Token, ChallengeWithoutRealmIsAnError) {
  auto http = Http::create();
  ASSERT_TRUE(http);
  auto t = fetch_token(*http, {}, Challenge{"bearer", {{"service", "s"}}}, {}, std::nullopt);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message().find("no realm"), std::string::npos) << t.error().message();
}

} // namespace
} // namespace berth::registry
