#include "registry/push_plan.hpp"

#include "image/testing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace berth::registry {
namespace {

using image::testing::TempDir;
using json = nlohmann::json;

oci::Reference ref(const std::string &s) { return *oci::Reference::parse(s); }

TEST(MountCandidates, SameRegistryOtherRepositoriesRepoDigestsFirst) {
  image::Image img;
  img.names = {"127.0.0.1:5000/team/app:1", "127.0.0.1:5000/dest:latest", "docker.io/library/busybox:latest",
               "127.0.0.1:5000/team/app:2", "127.0.0.1:5001/other:1"};
  img.repo_digests = {"127.0.0.1:5000/mirror/busybox@sha256:" + std::string(64, 'a'),
                      "docker.io/library/busybox@sha256:" + std::string(64, 'b')};
  auto got = mount_candidates(img, ref("127.0.0.1:5000/dest:v2"));
  EXPECT_EQ(got, (std::vector<std::string>{"mirror/busybox", "team/app"}));
}

TEST(MountCandidates, NoneWhenOnlyTheDestinationOrOtherRegistries) {
  image::Image img;
  img.names = {"docker.io/library/busybox:latest", "localhost:5000/busybox:1"};
  img.repo_digests = {"localhost:5000/busybox@sha256:" + std::string(64, 'c'), "garbage@@"};
  EXPECT_TRUE(mount_candidates(img, ref("localhost:5000/busybox:2")).empty());
  // docker.io's own repositories: the same registry, so candidates.
  EXPECT_EQ(mount_candidates(img, ref("user/busybox")), (std::vector<std::string>{"library/busybox"}));
}

TEST(NonDistributable, OnlyForeignOrNondistributableWithUrls) {
  oci::Descriptor d;
  d.media_type = std::string(oci::media::docker_foreign_gzip);
  EXPECT_FALSE(non_distributable(d)); // no urls: nowhere else to get it
  d.urls = {"https://example.com/layer"};
  EXPECT_TRUE(non_distributable(d));
  d.media_type = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
  EXPECT_TRUE(non_distributable(d));
  d.media_type = std::string(oci::media::oci_layer_gzip);
  EXPECT_FALSE(non_distributable(d));
}

struct PushPlanTest : ::testing::Test {
  TempDir dir;
  image::Store s = *image::Store::open(dir.sub("store"));

  oci::Descriptor blob(const std::string &data, std::string_view type) { return *s.put_blob(data, type); }

  // A manifest naming config and layers; stored unless store is false.
  oci::Descriptor manifest(const oci::Descriptor &config, const std::vector<oci::Descriptor> &layers,
                           bool store = true) {
    json m = {{"schemaVersion", 2}, {"mediaType", oci::media::oci_manifest}, {"config", oci::to_json(config)}};
    m["layers"] = json::array();
    for (auto &l : layers) m["layers"].push_back(oci::to_json(l));
    std::string text = m.dump();
    if (store) return blob(text, oci::media::oci_manifest);
    return oci::Descriptor{std::string(oci::media::oci_manifest), oci::digest_of(text), int64_t(text.size())};
  }
};

TEST_F(PushPlanTest, ManifestBlobsOnceInOrderBytesAsStored) {
  auto cfg = blob(R"({"rootfs":{"type":"layers","diff_ids":[]}})", oci::media::oci_config);
  auto l1 = blob("layer one", oci::media::oci_layer_gzip);
  auto l2 = blob("layer two", oci::media::oci_layer_gzip);
  auto m = manifest(cfg, {l1, l2, l1});
  auto plan = plan_push(s, m, "app:1");
  ASSERT_TRUE(plan) << plan.error().message();
  ASSERT_EQ(plan->blobs.size(), 3u);
  EXPECT_EQ(plan->blobs[0].digest, cfg.digest);
  EXPECT_EQ(plan->blobs[1].digest, l1.digest);
  EXPECT_EQ(plan->blobs[2].digest, l2.digest);
  ASSERT_EQ(plan->documents.size(), 1u);
  EXPECT_EQ(plan->documents[0].digest, m.digest);
  EXPECT_EQ(oci::digest_of(plan->documents[0].bytes), m.digest);
  EXPECT_EQ(plan->documents[0].media_type, oci::media::oci_manifest);
  EXPECT_TRUE(plan->absent.empty());
}

TEST_F(PushPlanTest, MissingBlobNamesItTheManifestAndTheImage) {
  auto cfg = blob("{}", oci::media::oci_config);
  std::string gone = "never stored";
  oci::Descriptor missing{std::string(oci::media::oci_layer_gzip), oci::digest_of(gone), int64_t(gone.size())};
  auto m = manifest(cfg, {missing});
  auto plan = plan_push(s, m, "app:1");
  ASSERT_FALSE(plan);
  const auto &msg = plan.error().message();
  EXPECT_NE(msg.find(missing.digest.str()), std::string::npos) << msg;
  EXPECT_NE(msg.find(m.digest.str()), std::string::npos) << msg;
  EXPECT_NE(msg.find("app:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("a layer"), std::string::npos) << msg;
}

TEST_F(PushPlanTest, ForeignLayerWithUrlsIsNotPushedNorRequired) {
  auto cfg = blob("{}", oci::media::oci_config);
  oci::Descriptor foreign{std::string(oci::media::docker_foreign_gzip), oci::digest_of("x"), 1};
  foreign.urls = {"https://example.com/x"};
  auto plan = plan_push(s, manifest(cfg, {foreign}), "win:1");
  ASSERT_TRUE(plan) << plan.error().message();
  ASSERT_EQ(plan->blobs.size(), 1u);
  EXPECT_EQ(plan->blobs[0].digest, cfg.digest);
}

TEST_F(PushPlanTest, IndexChildrenFirstAbsentOnesListed) {
  auto cfg = blob("{}", oci::media::oci_config);
  auto shared = blob("shared layer", oci::media::oci_layer_gzip);
  auto amd = manifest(cfg, {shared});
  auto arm = manifest(cfg, {shared, blob("arm layer", oci::media::oci_layer_gzip)});
  auto gone = manifest(cfg, {shared}, false);
  gone.digest = oci::digest_of("another platform's manifest");
  json idx = {{"schemaVersion", 2}, {"mediaType", oci::media::oci_index}, {"manifests", json::array()}};
  for (auto *d : {&amd, &arm, &gone}) idx["manifests"].push_back(oci::to_json(*d));
  auto top = blob(idx.dump(), oci::media::oci_index);

  auto plan = plan_push(s, top, "multi:1");
  ASSERT_TRUE(plan) << plan.error().message();
  ASSERT_EQ(plan->documents.size(), 3u);
  EXPECT_EQ(plan->documents[0].digest, amd.digest);
  EXPECT_EQ(plan->documents[1].digest, arm.digest);
  EXPECT_EQ(plan->documents[2].digest, top.digest);
  EXPECT_EQ(plan->documents[2].media_type, oci::media::oci_index);
  EXPECT_EQ(plan->blobs.size(), 3u); // cfg, shared, arm layer: each once
  ASSERT_EQ(plan->absent.size(), 1u);
  EXPECT_EQ(plan->absent[0].digest, gone.digest);
}

TEST_F(PushPlanTest, DocumentWithoutMediaTypeTakesTheDescriptors) {
  auto cfg = blob("{}", oci::media::docker_config);
  json m = {{"schemaVersion", 2}, {"config", oci::to_json(cfg)}, {"layers", json::array()}};
  auto d = blob(m.dump(), oci::media::docker_manifest);
  auto plan = plan_push(s, d, "old:1");
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->documents[0].media_type, oci::media::docker_manifest);
}

} // namespace
} // namespace berth::registry
