// Credential helpers, through a fake docker-credential-fake (a shell script
// first on $PATH) that keeps one file per server URL.
#include "registry/cred_helper.hpp"
#include "registry/credentials.hpp"

#include "registry/testing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace berth::registry;
using berth::registry::testing::contents;
using berth::registry::testing::EnvGuard;
using berth::registry::testing::TempDir;
using nlohmann::json;

namespace {

// get/erase read the URL on stdin; store reads the JSON object. The store
// is $FAKE_STORE, one file per URL ('/' and ':' made '_').
constexpr const char *kFake = R"sh(#!/bin/sh
key() { printf '%s' "$1" | tr '/:' '__'; }
case "$1" in
get)
  read -r url
  f="$FAKE_STORE/$(key "$url")"
  echo "$url" >> "$FAKE_STORE/asked"
  if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store)
  cat > "$FAKE_STORE/in"
  url=$(sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p' "$FAKE_STORE/in")
  mv "$FAKE_STORE/in" "$FAKE_STORE/$(key "$url")" ;;
erase)
  read -r url
  f="$FAKE_STORE/$(key "$url")"
  if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
*) echo "unknown action $1"; exit 2 ;;
esac
)sh";

class CredentialsHelper : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp.write("bin/docker-credential-fake", kFake, 0755);
    tmp.write("bin/docker-credential-broken", "#!/bin/sh\necho 'the keychain is locked' >&2\nexit 3\n", 0755);
    // Answers with far more than a helper may: the reading is bounded.
    tmp.write("bin/docker-credential-flood", "#!/bin/sh\nexec cat /dev/zero\n", 0755);
    tmp.write("bin/docker-credential-garbage", "#!/bin/sh\necho 'Username: x'\n", 0755);
    ASSERT_TRUE(berth::mkdir_all(tmp.sub("store"), 0700));
    const char *path = std::getenv("PATH");
    env.set("PATH", tmp.sub("bin") + ":" + (path ? path : "/usr/bin:/bin"));
    env.set("FAKE_STORE", tmp.sub("store"));
    env.set("HOME", tmp.path);
    env.set("XDG_CONFIG_HOME", std::nullopt);
    env.set("REGISTRY_AUTH_FILE", std::nullopt);
    env.set("DOCKER_CONFIG", std::nullopt);
  }
  std::string stored(const std::string &key) const { return contents(tmp.sub("store/" + key)); }

  TempDir tmp;
  EnvGuard env;
};

std::string err(const auto &r) { return r ? std::string("<no error>") : r.error().message(); }

} // namespace

TEST_F(CredentialsHelper, GetStoreEraseDirectly) {
  auto none = helper_get("fake", "r.io:5000");
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(*none);
  ASSERT_TRUE(helper_store("fake", "r.io:5000", {"u", "p w", {}}));
  json j = json::parse(stored("r.io_5000"));
  EXPECT_EQ(j, json({{"ServerURL", "r.io:5000"}, {"Username", "u"}, {"Secret", "p w"}}));
  auto c = helper_get("fake", "r.io:5000");
  ASSERT_TRUE(c && *c) << err(c);
  EXPECT_EQ((*c)->username, "u");
  EXPECT_EQ((*c)->password, "p w");
  EXPECT_TRUE(helper_erase("fake", "r.io:5000").value());
  EXPECT_FALSE(helper_erase("fake", "r.io:5000").value());
}

TEST_F(CredentialsHelper, IdentityToken) {
  ASSERT_TRUE(helper_store("fake", "t.io", {{}, {}, "refresh"}));
  EXPECT_EQ(json::parse(stored("t.io"))["Username"], "<token>");
  auto c = helper_get("fake", "t.io");
  ASSERT_TRUE(c && *c) << err(c);
  EXPECT_EQ((*c)->identity_token, "refresh");
  EXPECT_EQ((*c)->username, "");
}

TEST_F(CredentialsHelper, FailuresNameTheHelper) {
  auto r = helper_get("broken", "r.io");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "credential helper docker-credential-broken get for r.io: exit status 3: the keychain is locked");
  EXPECT_NE(err(helper_store("broken", "r.io", {"u", "p", {}})).find("docker-credential-broken store"),
            std::string::npos);
  EXPECT_NE(err(helper_get("missing", "r.io")).find("run credential helper docker-credential-missing get: No such file"),
            std::string::npos)
      << err(helper_get("missing", "r.io"));
  EXPECT_NE(err(helper_get("flood", "r.io")).find("more than 1048576 bytes of output"), std::string::npos);
  EXPECT_NE(err(helper_get("garbage", "r.io")).find("its answer is not a JSON object: Username: x"), std::string::npos)
      << err(helper_get("garbage", "r.io"));
  EXPECT_NE(err(helper_get("../bin/fake", "r.io")).find("invalid helper name"), std::string::npos);
}

TEST_F(CredentialsHelper, ThroughTheAuthFiles) {
  // berth's file names the helper for r.io: login and logout go to it.
  tmp.write(".config/berth/auth.json", R"({"credHelpers": {"r.io": "fake"}, "auths": {}})");
  ASSERT_TRUE(store_credentials("r.io", {"u", "p", {}})) << err(store_credentials("r.io", {"u", "p", {}}));
  EXPECT_EQ(json::parse(stored("r.io"))["Secret"], "p");
  EXPECT_EQ(json::parse(contents(tmp.sub(".config/berth/auth.json")))["auths"], json::object());
  EXPECT_EQ(find_credentials("r.io").value().value().password, "p");
  EXPECT_TRUE(erase_credentials("r.io").value());
  EXPECT_FALSE(erase_credentials("r.io").value());
  EXPECT_FALSE(find_credentials("r.io").value());
  // Other registries are not the helper's.
  ASSERT_TRUE(store_credentials("s.io", {"u", "p", {}}));
  EXPECT_TRUE(json::parse(contents(tmp.sub(".config/berth/auth.json")))["auths"].contains("s.io"));
}

TEST_F(CredentialsHelper, DockerCredsStore) {
  // docker's file: credsStore for everything; Docker Hub under docker's URL.
  tmp.write(".docker/config.json", R"({"credsStore": "fake", "auths": {"https://index.docker.io/v1/": {}}})");
  ASSERT_TRUE(helper_store("fake", "https://index.docker.io/v1/", {"hub", "pw", {}}));
  auto c = find_credentials("docker.io");
  ASSERT_TRUE(c && *c) << err(c);
  EXPECT_EQ((*c)->username, "hub");
  // "not found" from the store is no credentials, not an error.
  auto none = find_credentials("q.io");
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(*none);
  EXPECT_NE(contents(tmp.sub("store/asked")).find("q.io"), std::string::npos);
  // A helper that fails is an error, whatever else the files hold.
  tmp.write(".docker/config.json", R"({"credsStore": "broken"})");
  EXPECT_NE(err(find_credentials("q.io")).find("find credentials for q.io: credential helper docker-credential-broken get"),
            std::string::npos)
      << err(find_credentials("q.io"));
}
