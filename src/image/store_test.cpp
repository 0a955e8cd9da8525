#include "image/store.hpp"

#include "common/file.hpp"
#include "image/gc.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

using namespace berth;
using namespace berth::image;

namespace {

struct StoreTest : ::testing::Test {
  std::string root;
  void SetUp() override {
    char tmpl[] = "/tmp/berth-store-test-XXXXXX";
    ASSERT_TRUE(::mkdtemp(tmpl));
    root = std::string(tmpl) + "/store";
  }
  void TearDown() override { (void)remove_tree(root.substr(0, root.rfind('/'))); }

  std::vector<std::string> entries(const std::string &dir) {
    std::vector<std::string> out;
    DIR *d = ::opendir((root + "/" + dir).c_str());
    if (!d) return out;
    while (dirent *e = ::readdir(d))
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    ::closedir(d);
    return out;
  }
};

} // namespace

TEST_F(StoreTest, BlobsAreVerifiedAndNamesPointAtThem) {
  auto s = Store::open(root);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(path_exists(root + "/oci-layout"));
  auto d = s->put_blob("{\"a\":1}", oci::media::oci_config);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->digest, oci::digest_of("{\"a\":1}"));
  EXPECT_TRUE(s->has_blob(d->digest));
  EXPECT_EQ(*s->read_blob(d->digest), "{\"a\":1}");

  std::vector<std::string> names{"docker.io/library/a:1", "docker.io/library/a:2"};
  ASSERT_TRUE(s->set_names(names, *d));
  auto n = s->names();
  ASSERT_TRUE(n);
  ASSERT_EQ(n->size(), 2u);
  EXPECT_EQ((*n)[0].name, "docker.io/library/a:1");
  EXPECT_FALSE((*n)[0].stored.empty());
  // Setting a name again replaces it; removing one keeps the other.
  ASSERT_TRUE(s->set_names(std::vector<std::string>{"docker.io/library/a:1"}, *d));
  EXPECT_EQ(s->names()->size(), 2u);
  auto found = s->remove_names(std::vector<std::string>{"docker.io/library/a:1", "docker.io/library/nope:1"});
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, (std::vector<bool>{true, false}));
  EXPECT_EQ(s->names()->size(), 1u);
}

TEST_F(StoreTest, AWrongDigestStoresNothing) {
  auto s = Store::open(root);
  ASSERT_TRUE(s);
  auto w = s->blob_writer("test blob");
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write("abc", 3));
  auto r = w->commit(oci::digest_of("abd"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("digest mismatch"), std::string::npos);
  auto w2 = s->blob_writer("test blob");
  ASSERT_TRUE(w2->write("abc", 3));
  EXPECT_FALSE(w2->commit(std::nullopt, 4)); // size mismatch
  EXPECT_TRUE(entries("blobs/sha256").empty());
  EXPECT_TRUE(entries("ingest").empty());
}

TEST_F(StoreTest, ADamagedBlobIsNoticedOnRead) {
  auto s = Store::open(root);
  auto d = s->put_blob("content", "x");
  ASSERT_TRUE(d);
  ASSERT_TRUE(write_path_atomic(s->blob_path(d->digest), "tampered"));
  auto r = s->read_blob(d->digest);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("damaged"), std::string::npos);
}

TEST_F(StoreTest, GcKeepsWhatNamesReachAndRemovesTheRest) {
  auto s = Store::open(root);
  auto config = s->put_blob(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})",
                            oci::media::oci_config);
  ASSERT_TRUE(config);
  oci::Manifest m;
  m.media_type = oci::media::oci_manifest;
  m.config = *config;
  auto man = s->put_blob(oci::to_json_string(m), oci::media::oci_manifest);
  ASSERT_TRUE(man);
  auto orphan = s->put_blob("orphan", "x");
  ASSERT_TRUE(s->set_names(std::vector<std::string>{"docker.io/library/x:1"}, *man));
  ASSERT_EQ(::mkdir((root + "/snapshots/tmp-dead").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((root + "/snapshots/" + std::string(64, 'e')).c_str(), 0700), 0);
  auto st = collect_garbage(*s);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(st->blobs, 1u);
  EXPECT_EQ(st->snapshots, 1u);
  EXPECT_EQ(st->temps, 1u);
  EXPECT_TRUE(s->has_blob(man->digest));
  EXPECT_TRUE(s->has_blob(config->digest));
  EXPECT_FALSE(s->has_blob(orphan->digest));
  EXPECT_TRUE(entries("snapshots").empty());
}

TEST_F(StoreTest, RefusesAForeignLayout) {
  ASSERT_TRUE(mkdir_all(root));
  ASSERT_TRUE(write_path_atomic(root + "/oci-layout", R"({"imageLayoutVersion":"2.0.0"})"));
  auto s = Store::open(root);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("oci-layout"), std::string::npos);
}
