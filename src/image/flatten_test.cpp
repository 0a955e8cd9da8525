#include "image/flatten.hpp"
#include "image/testing.hpp"
#include "image/unpack.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace berth::image {
namespace {

using namespace testing;

struct FlattenTest : ::testing::Test {
  TempDir tmp;
  UniqueFd lower = tmp.mkdir("lower"), upper = tmp.mkdir("upper"), target = tmp.mkdir("target");

  void put(const std::string &p, const std::string &data, mode_t mode = 0644) {
    ASSERT_TRUE(write_path_atomic(tmp.sub(p), data, mode));
    ASSERT_EQ(::chmod(tmp.sub(p).c_str(), mode), 0);
  }
  void dir(const std::string &p, mode_t mode = 0755) { ASSERT_EQ(::mkdir(tmp.sub(p).c_str(), mode), 0) << p; }
  void whiteout(const std::string &p) { ASSERT_EQ(::mknod(tmp.sub(p).c_str(), S_IFCHR, makedev(0, 0)), 0) << p; }
  void opaque(const std::string &p) {
    ASSERT_EQ(::setxattr(tmp.sub(p).c_str(), "trusted.overlay.opaque", "y", 1, 0), 0) << p;
  }
  std::string t(const std::string &p) const { return tmp.sub("target/" + p); }
  bool exists(const std::string &p) const {
    struct stat st;
    return ::lstat(t(p).c_str(), &st) == 0;
  }
  struct stat lst(const std::string &p) const {
    struct stat st {};
    EXPECT_EQ(::lstat(t(p).c_str(), &st), 0) << p;
    return st;
  }
  std::string xattr(const std::string &p, const char *key) const {
    char v[256];
    ssize_t n = ::lgetxattr(t(p).c_str(), key, v, sizeof v);
    return n < 0 ? std::string("<none>") : std::string(v, size_t(n));
  }
  void flatten() {
    int fds[] = {lower.get(), upper.get()};
    auto r = flatten_layers(fds, target.get());
    ASSERT_TRUE(r) << r.error().message();
  }
};

TEST_F(FlattenTest, WhiteoutsRemoveLowerFilesAndDirs) {
  put("lower/file", "x");
  dir("lower/dir");
  put("lower/dir/inner", "y");
  dir("lower/dir/deeper");
  put("lower/dir/deeper/z", "z");
  put("lower/kept", "k");
  whiteout("upper/file");
  whiteout("upper/dir");
  whiteout("upper/never-was"); // nothing below: nothing to do
  flatten();
  EXPECT_FALSE(exists("file"));
  EXPECT_FALSE(exists("dir"));
  EXPECT_FALSE(exists("never-was"));
  EXPECT_EQ(read_all(t("kept")), "k");
}

TEST_F(FlattenTest, OpaqueDirHidesLowerContentKeepsItsOwn) {
  dir("lower/etc");
  put("lower/etc/old", "o");
  dir("lower/etc/sub");
  put("lower/etc/sub/x", "x");
  dir("upper/etc", 0750);
  opaque("upper/etc");
  put("upper/etc/new", "n");
  flatten();
  EXPECT_FALSE(exists("etc/old"));
  EXPECT_FALSE(exists("etc/sub"));
  EXPECT_EQ(read_all(t("etc/new")), "n");
  EXPECT_EQ(lst("etc").st_mode & 07777, 0750u);
  EXPECT_EQ(xattr("etc", "trusted.overlay.opaque"), "<none>"); // overlayfs' own: not copied
}

TEST_F(FlattenTest, UpperReplacesAndDirsMerge) {
  dir("lower/d");
  put("lower/d/a", "lower a");
  put("lower/d/b", "lower b");
  put("lower/f-to-dir", "f");
  dir("lower/dir-to-f");
  put("lower/dir-to-f/x", "x");
  ASSERT_EQ(::symlink("/etc", tmp.sub("lower/link").c_str()), 0);
  dir("upper/d", 0700);
  put("upper/d/b", "upper b", 0600);
  dir("upper/f-to-dir");
  put("upper/f-to-dir/y", "y");
  put("upper/dir-to-f", "now a file");
  put("upper/link", "a file over the symlink");
  flatten();
  EXPECT_EQ(read_all(t("d/a")), "lower a");
  EXPECT_EQ(read_all(t("d/b")), "upper b");
  EXPECT_EQ(lst("d/b").st_mode & 07777, 0600u);
  EXPECT_EQ(lst("d").st_mode & 07777, 0700u);
  EXPECT_EQ(read_all(t("f-to-dir/y")), "y");
  EXPECT_EQ(read_all(t("dir-to-f")), "now a file");
  EXPECT_TRUE(S_ISREG(lst("link").st_mode));
  EXPECT_EQ(read_all(t("link")), "a file over the symlink");
}

TEST_F(FlattenTest, MetadataHardlinksAndSpecialFiles) {
  put("lower/h1", "shared");
  ASSERT_EQ(::link(tmp.sub("lower/h1").c_str(), tmp.sub("lower/h2").c_str()), 0);
  dir("lower/sub");
  ASSERT_EQ(::link(tmp.sub("lower/h1").c_str(), tmp.sub("lower/sub/h3").c_str()), 0);
  put("lower/owned", "o", 04755);
  ASSERT_EQ(::chown(tmp.sub("lower/owned").c_str(), 1000, 1001), 0);
  ASSERT_EQ(::chmod(tmp.sub("lower/owned").c_str(), 04755), 0);
  ASSERT_EQ(::setxattr(tmp.sub("lower/owned").c_str(), "user.k", "v", 1, 0), 0);
  ASSERT_EQ(::setxattr(tmp.sub("lower/owned").c_str(), "trusted.overlay.metacopy", "", 0, 0), 0);
  ASSERT_EQ(::symlink("owned", tmp.sub("lower/sym").c_str()), 0);
  ASSERT_EQ(::lchown(tmp.sub("lower/sym").c_str(), 5, 6), 0);
  ASSERT_EQ(::mkfifo(tmp.sub("lower/fifo").c_str(), 0640), 0);
  ASSERT_EQ(::mknod(tmp.sub("lower/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  // A sparse file.
  {
    UniqueFd f(::open(tmp.sub("lower/sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_EQ(::pwrite(f.get(), "end", 3, 50 << 20), 3);
  }
  struct timespec ts[2] = {{100, 0}, {200, 300}};
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp.sub("lower/owned").c_str(), ts, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp.sub("lower/sym").c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
  struct timespec dts[2] = {{400, 0}, {500, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp.sub("lower/sub").c_str(), dts, 0), 0);
  flatten();
  EXPECT_EQ(lst("h1").st_ino, lst("h2").st_ino);
  EXPECT_EQ(lst("h1").st_ino, lst("sub/h3").st_ino);
  EXPECT_EQ(lst("h1").st_nlink, 3u);
  EXPECT_EQ(read_all(t("sub/h3")), "shared");
  auto o = lst("owned");
  EXPECT_EQ(o.st_uid, 1000u);
  EXPECT_EQ(o.st_gid, 1001u);
  EXPECT_EQ(o.st_mode & 07777, 04755u);
  EXPECT_EQ(o.st_mtim.tv_sec, 200);
  EXPECT_EQ(o.st_mtim.tv_nsec, 300);
  EXPECT_EQ(xattr("owned", "user.k"), "v");
  EXPECT_EQ(xattr("owned", "trusted.overlay.metacopy"), "<none>");
  EXPECT_TRUE(S_ISLNK(lst("sym").st_mode));
  EXPECT_EQ(lst("sym").st_uid, 5u);
  EXPECT_EQ(lst("sym").st_mtim.tv_sec, 200);
  EXPECT_TRUE(S_ISFIFO(lst("fifo").st_mode));
  EXPECT_EQ(lst("fifo").st_mode & 07777, 0640u);
  EXPECT_EQ(lst("null").st_rdev, makedev(1, 3));
  EXPECT_EQ(lst("sub").st_mtim.tv_sec, 500); // after its content was copied
  auto sp = lst("sparse");
  EXPECT_EQ(sp.st_size, (50 << 20) + 3);
  EXPECT_LT(sp.st_blocks * 512, 1 << 20);
  std::string data = read_all(t("sparse"));
  EXPECT_EQ(data.substr(50 << 20), "end");
}

TEST_F(FlattenTest, UnpackedLayersFlattenAsOverlayShowsThem) {
  // The snapshots as unpack_layer makes them, then flattened.
  std::string l1 = TarBuilder().dir("etc").file("etc/a", "1").file("etc/b", "2").dir("opt").file("opt/x", "x")
                       .finish();
  std::string l2 = TarBuilder().dir("etc").file("etc/.wh.a", "").file("etc/c", "3").dir("opt")
                       .file("opt/.wh..wh..opq", "").file("opt/y", "y").finish();
  for (auto [tar, fd] : {std::pair{&l1, lower.get()}, std::pair{&l2, upper.get()}}) {
    StringSource src(*tar);
    auto r = unpack_layer(src, fd, "layer");
    ASSERT_TRUE(r) << r.error().message();
  }
  flatten();
  EXPECT_FALSE(exists("etc/a"));
  EXPECT_EQ(read_all(t("etc/b")), "2");
  EXPECT_EQ(read_all(t("etc/c")), "3");
  EXPECT_FALSE(exists("opt/x"));
  EXPECT_EQ(read_all(t("opt/y")), "y");
}

} // namespace
} // namespace berth::image
