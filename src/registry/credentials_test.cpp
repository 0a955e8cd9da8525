#include "registry/credentials.hpp"

#include "registry/base64.hpp"
#include "registry/testing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace berth::registry;
using berth::registry::testing::contents;
using berth::registry::testing::EnvGuard;
using berth::registry::testing::mode_of;
using berth::registry::testing::TempDir;
using nlohmann::json;

namespace {

// A home of its own for every test: berth's and docker's files under it,
// nothing read from the real ones.
class CredentialsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    env.set("HOME", tmp.path);
    env.set("XDG_CONFIG_HOME", std::nullopt);
    env.set("REGISTRY_AUTH_FILE", std::nullopt);
    env.set("DOCKER_CONFIG", std::nullopt);
  }
  std::string berth_file() const { return tmp.sub(".config/berth/auth.json"); }
  std::string docker_file() const { return tmp.sub(".docker/config.json"); }
  void write_docker(const json &j) { tmp.write(".docker/config.json", j.dump()); }
  void write_berth(const json &j) { tmp.write(".config/berth/auth.json", j.dump()); }
  json read_berth() const { return json::parse(contents(berth_file()), nullptr, false); }

  TempDir tmp;
  EnvGuard env;
};

std::string err(const auto &r) { return r ? std::string("<no error>") : r.error().message(); }

} // namespace

TEST(CredentialsBase64, RoundTrips) {
  EXPECT_EQ(base64_encode("foo:bar"), "Zm9vOmJhcg==");
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  for (size_t n = 0; n < all.size(); n += 37) {
    auto d = base64_decode(base64_encode(all.substr(0, n)));
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_EQ(*d, all.substr(0, n));
  }
  // Unpadded, as some writers leave it.
  EXPECT_EQ(base64_decode("Zm9vOmJhcg").value_or("?"), "foo:bar");
}

TEST(CredentialsBase64, RejectsBadInput) {
  EXPECT_NE(err(base64_decode("Zm9v!mJh")).find("invalid base64: character '!' at offset 4"), std::string::npos)
      << err(base64_decode("Zm9v!mJh"));
  EXPECT_NE(err(base64_decode("Zm9vO")).find("truncated"), std::string::npos);
  EXPECT_NE(err(base64_decode("Zm=v")).find("'=' before the end"), std::string::npos);
  EXPECT_NE(err(base64_decode("Zm9=")).find("non-zero bits"), std::string::npos);
  EXPECT_NE(err(base64_decode("Zm9vO===")).find("invalid base64"), std::string::npos);
  EXPECT_NE(err(base64_decode("Zg = ")).find("invalid base64"), std::string::npos);
}

TEST(CredentialsParseCreds, SplitsAtTheFirstColon) {
  auto c = parse_creds("user:pa:ss");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->username, "user");
  EXPECT_EQ(c->password, "pa:ss");
  for (auto bad : {"user", ":pass", "user:", ""}) {
    auto r = parse_creds(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("--creds"), std::string::npos) << r.error().message();
  }
}

TEST_F(CredentialsFile, DefaultAuthfile) {
  EXPECT_EQ(default_authfile("/x/a.json"), "/x/a.json");
  EXPECT_EQ(default_authfile(), tmp.path + "/.config/berth/auth.json");
  env.set("XDG_CONFIG_HOME", "/xdg");
  EXPECT_EQ(default_authfile(), "/xdg/berth/auth.json");
  env.set("REGISTRY_AUTH_FILE", "/r/auth.json");
  EXPECT_EQ(default_authfile(), "/r/auth.json");
  EXPECT_EQ(default_authfile("/x/a.json"), "/x/a.json");
}

TEST_F(CredentialsFile, NoFilesIsNoCredentials) {
  auto c = find_credentials("example.com");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(*c);
  auto e = erase_credentials("example.com");
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_FALSE(*e);
}

TEST_F(CredentialsFile, StoreFindErase) {
  write_berth({{"auths", {{"other.io", {{"auth", base64_encode("o:p")}}}}}, {"someKey", {1, 2}}});
  ::chmod(tmp.sub(".config/berth").c_str(), 0755);
  ASSERT_TRUE(store_credentials("127.0.0.1:5000", {"alice", "s3:cret", {}}));
  EXPECT_EQ(mode_of(berth_file()), 0600u);
  json j = read_berth();
  EXPECT_EQ(j["auths"]["127.0.0.1:5000"]["auth"], base64_encode("alice:s3:cret"));
  EXPECT_EQ(j["auths"]["other.io"]["auth"], base64_encode("o:p")); // the rest is kept
  EXPECT_EQ(j["someKey"], json({1, 2}));

  auto c = find_credentials("127.0.0.1:5000");
  ASSERT_TRUE(c && *c) << err(c);
  EXPECT_EQ((*c)->username, "alice");
  EXPECT_EQ((*c)->password, "s3:cret");

  auto e = erase_credentials("127.0.0.1:5000");
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_TRUE(*e);
  EXPECT_FALSE(read_berth()["auths"].contains("127.0.0.1:5000"));
  EXPECT_TRUE(read_berth()["auths"].contains("other.io"));
  EXPECT_FALSE(*erase_credentials("127.0.0.1:5000"));
  EXPECT_FALSE(*find_credentials("127.0.0.1:5000"));
}

TEST_F(CredentialsFile, StoreCreatesPrivateDirAndFile) {
  std::string f = tmp.sub("new/dir/auth.json");
  ASSERT_TRUE(store_credentials("r.io", {"u", "p", {}}, f));
  EXPECT_EQ(mode_of(tmp.sub("new/dir")), 0700u);
  EXPECT_EQ(mode_of(f), 0600u);
  EXPECT_EQ(find_credentials("r.io", f).value().value().password, "p");
  EXPECT_FALSE(find_credentials("r.io").value()); // not in the default file
}

TEST_F(CredentialsFile, DockerHubNames) {
  write_docker({{"auths", {{"https://index.docker.io/v1/", {{"auth", base64_encode("hub:pw")}}}}}});
  auto c = find_credentials("docker.io");
  ASSERT_TRUE(c && *c) << err(c);
  EXPECT_EQ((*c)->username, "hub");
  // login stores under podman's key, which is then found first.
  ASSERT_TRUE(store_credentials("docker.io", {"me", "new", {}}));
  EXPECT_TRUE(read_berth()["auths"].contains("docker.io"));
  EXPECT_EQ(find_credentials("docker.io").value().value().username, "me");
}

TEST_F(CredentialsFile, KeyFormsAndEntryForms) {
  write_docker({{"auths",
                 {{"https://a.io:5000/v1/", {{"auth", base64_encode("a:1")}}},
                  {"http://b.io", {{"username", "b"}, {"password", "2"}}},
                  {"c.io", {{"identitytoken", "tok"}}},
                  {"d.io", json::object()}}}});
  EXPECT_EQ(find_credentials("a.io:5000").value().value().password, "1");
  EXPECT_FALSE(find_credentials("a.io").value()); // the port is part of the name
  EXPECT_EQ(find_credentials("b.io").value().value().username, "b");
  EXPECT_EQ(find_credentials("c.io").value().value().identity_token, "tok");
  EXPECT_FALSE(find_credentials("d.io").value());
}

TEST_F(CredentialsFile, BerthFileFirstThenDocker) {
  write_berth({{"auths", {{"r.io", {{"auth", base64_encode("berth:1")}}}}}});
  write_docker({{"auths", {{"r.io", {{"auth", base64_encode("docker:2")}}}, {"s.io", {{"auth", base64_encode("docker:3")}}}}}});
  EXPECT_EQ(find_credentials("r.io").value().value().username, "berth");
  EXPECT_EQ(find_credentials("s.io").value().value().password, "3");
  env.set("DOCKER_CONFIG", tmp.sub("elsewhere"));
  EXPECT_FALSE(find_credentials("s.io").value());
  // logout is berth's file only.
  EXPECT_FALSE(erase_credentials("s.io").value());
}

TEST_F(CredentialsFile, MalformedFilesAreErrors) {
  tmp.write(".docker/config.json", "{\"auths\": {");
  auto r = find_credentials("r.io");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(docker_file()), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("invalid JSON"), std::string::npos) << r.error().message();

  write_docker({{"auths", {1, 2}}});
  EXPECT_NE(err(find_credentials("r.io")).find("\"auths\" is not an object"), std::string::npos);

  write_docker({{"auths", {{"r.io", {{"auth", "not*base64"}}}}}});
  r = find_credentials("r.io");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(docker_file() + ": auths[\"r.io\"].auth: invalid base64"), std::string::npos)
      << r.error().message();

  write_docker({{"auths", {{"r.io", {{"auth", base64_encode("nocolon")}}}}}});
  EXPECT_NE(err(find_credentials("r.io")).find("not base64 of \"user:password\""), std::string::npos);

  // An empty file is an empty object.
  tmp.write(".docker/config.json", "");
  EXPECT_FALSE(find_credentials("r.io").value());
  // login does not overwrite a file it cannot read.
  tmp.write(".config/berth/auth.json", "[]");
  EXPECT_NE(err(store_credentials("r.io", {"u", "p", {}})).find("expected a JSON object"), std::string::npos);
  EXPECT_EQ(contents(berth_file()), "[]");
}

TEST_F(CredentialsFile, EraseRemovesEverySpelling) {
  write_berth({{"auths",
                {{"https://r.io/v1/", {{"auth", base64_encode("a:1")}}},
                 {"r.io", {{"auth", base64_encode("b:2")}}},
                 {"r.io:5000", {{"auth", base64_encode("c:3")}}}}}});
  auto e = erase_credentials("r.io");
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_TRUE(*e);
  EXPECT_EQ(read_berth()["auths"], json({{"r.io:5000", {{"auth", base64_encode("c:3")}}}}));
  EXPECT_FALSE(find_credentials("r.io").value());
}
