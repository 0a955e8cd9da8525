#include "oci/features.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

using nlohmann::json;

namespace {

bool has(const json &array, const std::string &v) {
  return std::find(array.begin(), array.end(), v) != array.end();
}

TEST(Features, DocumentHasExpectedKeys) {
  json f = json::parse(berth::oci::features_json(), nullptr, false);
  ASSERT_FALSE(f.is_discarded());
  EXPECT_EQ(f["ociVersionMin"], "1.0.0");
  EXPECT_EQ(f["ociVersionMax"], "1.3.0");
  EXPECT_EQ(f["hooks"].size(), 6u);
  for (const char *o : {"rbind", "rro", "idmap", "ridmap", "tmpcopyup", "nosymfollow", "ro"})
    EXPECT_TRUE(has(f["mountOptions"], o)) << o;
  const json &l = f["linux"];
  EXPECT_EQ(l["namespaces"].size(), 8u);
  EXPECT_TRUE(has(l["namespaces"], "time"));
  EXPECT_EQ(l["capabilities"].size(), 41u);
  EXPECT_EQ(l["capabilities"].front(), "CAP_CHOWN");
  EXPECT_EQ(l["capabilities"].back(), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(l["cgroup"]["v2"], true);
  EXPECT_EQ(l["cgroup"]["systemd"], false);
  EXPECT_EQ(l["cgroup"]["rdma"], true);
  EXPECT_EQ(l["seccomp"]["enabled"], true);
  EXPECT_EQ(l["seccomp"]["actions"].size(), 9u);
  EXPECT_EQ(l["seccomp"]["operators"].size(), 7u);
  EXPECT_TRUE(has(l["seccomp"]["archs"], "SCMP_ARCH_X86_64"));
  EXPECT_TRUE(has(l["seccomp"]["archs"], "SCMP_ARCH_AARCH64"));
  EXPECT_FALSE(l["seccomp"]["supportedFlags"].empty());
  EXPECT_EQ(l["apparmor"]["enabled"], true);
  EXPECT_EQ(l["selinux"]["enabled"], true);
  EXPECT_EQ(l["intelRdt"]["enabled"], false);
  EXPECT_EQ(l["mountExtensions"]["idmap"]["enabled"], true);
  EXPECT_EQ(f["annotations"]["io.github.berth.runtime.version"], "0.1.0");
}

TEST(Features, CapabilityNamesMatchSchemaPattern) {
  json f = json::parse(berth::oci::features_json());
  for (auto &c : f["linux"]["capabilities"]) {
    std::string s = c;
    EXPECT_EQ(s.rfind("CAP_", 0), 0u);
    EXPECT_EQ(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_"), std::string::npos) << s;
  }
}

} // namespace
