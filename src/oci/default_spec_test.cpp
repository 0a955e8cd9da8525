#include "oci/spec_json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

using namespace berth::oci;

namespace {

TEST(DefaultSpec, ParsesBackLikeRuncSpec) {
  std::string text = default_spec_json(false);
  auto r = parse_spec(text);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->oci_version, "1.3.0");
  ASSERT_TRUE(r->process);
  EXPECT_TRUE(r->process->terminal);
  EXPECT_EQ(r->process->args, std::vector<std::string>{"sh"});
  EXPECT_EQ(r->process->cwd, "/");
  EXPECT_EQ(r->process->env.size(), 2u);
  EXPECT_EQ(r->process->capabilities->bounding.size(), 14u); // Docker's set
  EXPECT_TRUE(r->process->capabilities->ambient.empty());
  EXPECT_TRUE(r->process->capabilities->inheritable.empty());
  EXPECT_EQ(r->process->rlimits.at(0).type, "RLIMIT_NOFILE");
  EXPECT_TRUE(r->process->no_new_privileges);
  EXPECT_EQ(r->root->path, "rootfs");
  EXPECT_TRUE(r->root->readonly);
  EXPECT_EQ(r->hostname, "berth");
  ASSERT_EQ(r->mounts.size(), 7u);
  EXPECT_EQ(r->mounts[1].options,
            (std::vector<std::string>{"nosuid", "strictatime", "mode=755", "size=65536k"}));
  EXPECT_EQ(r->mounts[6].destination, "/sys/fs/cgroup");
  ASSERT_TRUE(r->linux_->resources);
  ASSERT_EQ(r->linux_->resources->devices.size(), 1u);
  EXPECT_EQ(r->linux_->resources->devices[0].access, "rwm");
  EXPECT_EQ(r->linux_->namespaces.size(), 6u);
  EXPECT_NE(r->find_namespace("network"), nullptr);
  EXPECT_EQ(r->find_namespace("user"), nullptr);
  auto &masked = r->linux_->masked_paths;
  EXPECT_NE(std::find(masked.begin(), masked.end(), "/proc/kcore"), masked.end());
  EXPECT_EQ(r->linux_->readonly_paths.size(), 5u);
  // Readable: pretty-printed with two spaces.
  EXPECT_NE(text.find("\n  \"process\": {\n    \"terminal\": true"), std::string::npos);
}

TEST(DefaultSpec, RootlessMapsCallerIds) {
  auto r = parse_spec(default_spec_json(true));
  ASSERT_TRUE(r) << r.error().message();
  const Linux &l = *r->linux_;
  ASSERT_NE(r->find_namespace("user"), nullptr);
  EXPECT_EQ(r->find_namespace("network"), nullptr);
  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(l.uid_mappings[0].host_id, geteuid());
  EXPECT_EQ(l.uid_mappings[0].size, 1u);
  EXPECT_EQ(l.gid_mappings.at(0).host_id, getegid());
  EXPECT_FALSE(l.resources);
  for (auto &m : r->mounts) {
    EXPECT_NE(m.destination, "/sys/fs/cgroup");
    for (auto &o : m.options) EXPECT_NE(o.rfind("gid=", 0), 0u) << m.destination;
    if (m.destination == "/sys") {
      EXPECT_EQ(m.source, "/sys");
      EXPECT_EQ(m.options.at(0), "rbind");
    }
  }
}

} // namespace
