#include "image/unpack.hpp"
#include "image/testing.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace berth::image {
namespace {

using namespace testing;

// A target dir with a sentinel dir beside it: nothing may ever appear there.
struct UnpackTest : ::testing::Test {
  TempDir tmp;
  UniqueFd target = tmp.mkdir("target");
  UniqueFd sentinel = tmp.mkdir("sentinel");
  std::string t(const std::string &p) const { return tmp.sub("target/" + p); }

  Result<UnpackStats> unpack(const std::string &tar, const UnpackLimits &lim = {}, size_t chunk = 1 << 20) {
    StringSource src(tar, chunk);
    return unpack_layer(src, target.get(), "layer test", lim);
  }
  std::string unpack_err(const std::string &tar, const UnpackLimits &lim = {}) {
    auto r = unpack(tar, lim);
    return r ? std::string("<no error>") : r.error().message();
  }
  struct stat lst(const std::string &p) const {
    struct stat st {};
    EXPECT_EQ(::lstat(t(p).c_str(), &st), 0) << p;
    return st;
  }
  bool exists(const std::string &p) const {
    struct stat st;
    return ::lstat(t(p).c_str(), &st) == 0;
  }
  std::string xattr(const std::string &p, const char *key) const {
    char v[256];
    ssize_t n = ::lgetxattr(t(p).c_str(), key, v, sizeof v);
    return n < 0 ? std::string("<none>") : std::string(v, size_t(n));
  }
  void expect_sentinel_empty() {
    int n = 0;
    std::unique_ptr<DIR, int (*)(DIR *)> d(::opendir(tmp.sub("sentinel").c_str()), ::closedir);
    while (dirent *e = ::readdir(d.get())) n += std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..");
    EXPECT_EQ(n, 0) << "something was written outside the target";
    // And nothing beside target and sentinel.
    int m = 0;
    std::unique_ptr<DIR, int (*)(DIR *)> p(::opendir(tmp.path.c_str()), ::closedir);
    while (dirent *e = ::readdir(p.get())) m += std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..");
    EXPECT_EQ(m, 2);
  }
};

TEST_F(UnpackTest, EveryEntryType) {
  std::string tar = TarBuilder()
                        .dir("d")
                        .file("d/file", "hello")
                        .symlink("d/link", "../d/file")
                        .symlink("abs", "/etc/passwd")
                        .hardlink("d/hard", "d/file")
                        .node("chr", AE_IFCHR, 1, 3)
                        .node("blk", AE_IFBLK, 7, 0)
                        .node("fifo", AE_IFIFO, 0, 0)
                        .file("./dot/slash", "x") // "./" prefixes and a missing parent
                        .finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries, 9u);
  EXPECT_EQ(r->bytes, 6u);
  EXPECT_TRUE(S_ISDIR(lst("d").st_mode));
  EXPECT_EQ(read_all(t("d/file")), "hello");
  EXPECT_TRUE(S_ISLNK(lst("d/link").st_mode));
  EXPECT_TRUE(S_ISLNK(lst("abs").st_mode));
  char buf[64] = {};
  ASSERT_GT(::readlink(t("abs").c_str(), buf, sizeof buf), 0);
  EXPECT_STREQ(buf, "/etc/passwd"); // as given: resolved in the container later
  EXPECT_EQ(lst("d/hard").st_ino, lst("d/file").st_ino);
  EXPECT_EQ(lst("d/file").st_nlink, 2u);
  EXPECT_TRUE(S_ISCHR(lst("chr").st_mode));
  EXPECT_EQ(lst("chr").st_rdev, makedev(1, 3));
  EXPECT_TRUE(S_ISBLK(lst("blk").st_mode));
  EXPECT_EQ(lst("blk").st_rdev, makedev(7, 0));
  EXPECT_TRUE(S_ISFIFO(lst("fifo").st_mode));
  EXPECT_EQ(read_all(t("dot/slash")), "x");
  EXPECT_EQ(lst("dot").st_mode & 07777, 0755u);
}

TEST_F(UnpackTest, OwnersAndModes) {
  std::string tar = TarBuilder()
                        .file("suid", "x", {.perm = 04755, .uid = 1000, .gid = 1001})
                        .file("sgid", "x", {.perm = 02711, .uid = 0, .gid = 50})
                        .dir("tmp", {.perm = 01777})
                        .dir("shared", {.perm = 02775, .uid = 7, .gid = 8})
                        .node("null", AE_IFCHR, 1, 3, {.perm = 0666, .uid = 5, .gid = 6})
                        .symlink("l", "suid", {.uid = 11, .gid = 12})
                        .file("big-ids", "", {.perm = 0600, .uid = 100000, .gid = 200000})
                        .finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  auto s = lst("suid");
  EXPECT_EQ(s.st_mode & 07777, 04755u); // set after chown, which clears it
  EXPECT_EQ(s.st_uid, 1000u);
  EXPECT_EQ(s.st_gid, 1001u);
  EXPECT_EQ(lst("sgid").st_mode & 07777, 02711u);
  EXPECT_EQ(lst("sgid").st_gid, 50u);
  EXPECT_EQ(lst("tmp").st_mode & 07777, 01777u);
  EXPECT_EQ(lst("shared").st_mode & 07777, 02775u);
  EXPECT_EQ(lst("shared").st_uid, 7u);
  EXPECT_EQ(lst("null").st_mode & 07777, 0666u);
  EXPECT_EQ(lst("null").st_uid, 5u);
  EXPECT_EQ(lst("l").st_uid, 11u);
  EXPECT_EQ(lst("l").st_gid, 12u);
  EXPECT_EQ(lst("big-ids").st_uid, 100000u);
  EXPECT_EQ(lst("big-ids").st_gid, 200000u);
}

// A valid VFS_CAP_REVISION_2 value: cap_net_bind_service, effective.
std::string cap_value() {
  vfs_cap_data c{};
  c.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  c.data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
  return std::string(reinterpret_cast<const char *>(&c), XATTR_CAPS_SZ_2);
}

TEST_F(UnpackTest, Xattrs) {
  std::string cap = cap_value();
  std::string tar = TarBuilder()
                        .file("ping", "x", {.perm = 0755, .uid = 1000, .gid = 1000,
                                            .xattrs = {{"security.capability", cap}, {"user.a", "1"}}})
                        .dir("d", {.xattrs = {{"user.dir", "yes"}, {"trusted.x", "t"}}})
                        .symlink("l", "ping", {.xattrs = {{"trusted.sym", "s"}, {"user.ignored", "u"}}})
                        .file("o", "x", {.xattrs = {{"trusted.overlay.redirect", "/etc"}}})
                        .finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(lst("ping").st_uid, 1000u);
  EXPECT_EQ(xattr("ping", "security.capability"), cap); // survived the chown
  EXPECT_EQ(xattr("ping", "user.a"), "1");
  EXPECT_EQ(xattr("d", "user.dir"), "yes");
  EXPECT_EQ(xattr("d", "trusted.x"), "t");
  EXPECT_EQ(xattr("l", "trusted.sym"), "s");
  EXPECT_EQ(xattr("l", "user.ignored"), "<none>"); // the kernel has no user.* on symlinks: skipped
  EXPECT_EQ(xattr("o", "trusted.overlay.redirect"), "<none>"); // never from an image
}

TEST_F(UnpackTest, Mtimes) {
  std::string tar = TarBuilder()
                        .dir("a", {.mtime = 1000, .mtime_nsec = 5})
                        .dir("a/sub", {.mtime = 2000})
                        .file("a/sub/f", "x", {.mtime = 3000, .mtime_nsec = 123456789})
                        .symlink("a/l", "sub", {.mtime = 4000})
                        .dir("b", {.mtime = 5000})
                        .file("a/late", "x", {.mtime = 6000}) // back into a settled dir
                        .dir("c", {.mtime = 7000})
                        .dir("c/d/e", {.mtime = 8000}) // c/d made on the way
                        .finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(lst("a").st_mtim.tv_sec, 1000);
  EXPECT_EQ(lst("a").st_mtim.tv_nsec, 5);
  EXPECT_EQ(lst("a/sub").st_mtim.tv_sec, 2000);
  EXPECT_EQ(lst("a/sub/f").st_mtim.tv_sec, 3000);
  EXPECT_EQ(lst("a/sub/f").st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(lst("a/l").st_mtim.tv_sec, 4000);
  EXPECT_EQ(lst("b").st_mtim.tv_sec, 5000);
  EXPECT_EQ(lst("a/late").st_mtim.tv_sec, 6000);
  EXPECT_EQ(lst("c").st_mtim.tv_sec, 7000);
  EXPECT_EQ(lst("c/d/e").st_mtim.tv_sec, 8000);
}

TEST_F(UnpackTest, SparseFileStaysSparse) {
  const int64_t size = 64 << 20;
  std::string tar = TarBuilder()
                        .sparse("sparse", size, {{0, 4096}, {32 << 20, 8192}})
                        .sparse("tail-hole", 1 << 20, {{0, 4096}})
                        .finish();
  EXPECT_LT(tar.size(), size_t(1 << 20));
  auto r = unpack(tar, {}, 10000);
  ASSERT_TRUE(r) << r.error().message();
  auto st = lst("sparse");
  EXPECT_EQ(st.st_size, size);
  EXPECT_LT(st.st_blocks * 512, 1 << 20); // not 64 MiB on disk
  std::string data = read_all(t("sparse"));
  ASSERT_EQ(data.size(), size_t(size));
  EXPECT_EQ(data.substr(0, 4096), std::string(4096, 'x'));
  EXPECT_EQ(data[4096], '\0');
  EXPECT_EQ(data.substr(32 << 20, 8192), std::string(8192, 'x'));
  EXPECT_EQ(data.find('x', (32 << 20) + 8192), std::string::npos);
  EXPECT_EQ(lst("tail-hole").st_size, 1 << 20);
}

TEST_F(UnpackTest, WhiteoutsInOverlayForm) {
  std::string tar = TarBuilder()
                        .dir("etc")
                        .file("etc/gone", "x")
                        .file("etc/.wh.gone", "")   // made in this layer, then whited out
                        .file("etc/.wh.lower", "")  // hides a lower layer's file
                        .dir("etc/sub")
                        .file("etc/sub/x", "x")
                        .file("etc/.wh.sub", "") // a directory made in this layer, with content
                        .dir("var")
                        .file("var/.wh..wh..opq", "")
                        .file("var/keep", "k")
                        .file("new/.wh..wh..opq", "") // its dir made
                        .file(".wh..wh.plnk", "")     // aufs' own: skipped
                        .file("etc/.wh..wh.aufs", "")
                        .finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  for (const char *p : {"etc/gone", "etc/lower", "etc/sub"}) {
    auto st = lst(p);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << p;
    EXPECT_EQ(st.st_rdev, makedev(0, 0)) << p;
  }
  EXPECT_FALSE(exists("etc/.wh.gone"));
  EXPECT_EQ(xattr("var", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(read_all(t("var/keep")), "k");
  EXPECT_FALSE(exists("var/.wh..wh..opq"));
  EXPECT_EQ(xattr("new", "trusted.overlay.opaque"), "y");
  EXPECT_FALSE(exists(".wh..wh.plnk"));
  EXPECT_FALSE(exists("plnk"));
  EXPECT_FALSE(exists("etc/.wh..wh.aufs"));
  EXPECT_EQ(xattr("etc", "trusted.overlay.opaque"), "<none>");
}

TEST_F(UnpackTest, LaterEntriesReplaceEarlierOnes) {
  std::string tar = TarBuilder()
                        .file("f-then-dir", "x")
                        .dir("f-then-dir")
                        .dir("dir-then-f")
                        .file("dir-then-f/inner", "x")
                        .file("dir-then-f", "now a file")
                        .dir("dir-twice", {.perm = 0700})
                        .file("dir-twice/kept", "k")
                        .dir("dir-twice", {.perm = 0751, .uid = 3})
                        .symlink("link-then-f", "/etc/passwd")
                        .file("link-then-f", "mine")
                        .file("f-twice", "one")
                        .file("f-twice", "two")
                        .finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(S_ISDIR(lst("f-then-dir").st_mode));
  EXPECT_EQ(read_all(t("dir-then-f")), "now a file");
  EXPECT_EQ(read_all(t("dir-twice/kept")), "k");
  EXPECT_EQ(lst("dir-twice").st_mode & 07777, 0751u);
  EXPECT_EQ(lst("dir-twice").st_uid, 3u);
  EXPECT_TRUE(S_ISREG(lst("link-then-f").st_mode));
  EXPECT_EQ(read_all(t("link-then-f")), "mine");
  EXPECT_EQ(read_all(t("f-twice")), "two");
}

TEST_F(UnpackTest, ParentsAreResolvedAgainAfterAReplace) {
  // "lnk" leads to the root until "lnk/lnk" replaces it with a directory:
  // "lnk/f" then goes in that directory.
  std::string tar = TarBuilder().symlink("lnk", ".").dir("lnk/lnk").file("lnk/f", "f").finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(S_ISDIR(lst("lnk").st_mode));
  EXPECT_EQ(read_all(t("lnk/f")), "f");
  EXPECT_FALSE(exists("f"));
}

TEST_F(UnpackTest, RefusesNamesThatLeave) {
  struct Case {
    std::string tar, error;
  };
  std::vector<Case> cases = {
      {ustar("../x", '0', "x") + ustar_end(), "layer test: entry '../x': name has a '..' component"},
      {ustar("a/../../x", '0', "x") + ustar_end(), "layer test: entry 'a/../../x': name has a '..' component"},
      {ustar("a/..", '5') + ustar_end(), "layer test: entry 'a/..': name has a '..' component"},
      {ustar("/abs", '0', "x") + ustar_end(), "layer test: entry '/abs': absolute name (a leading '/')"},
      {ustar("h", '1', "", "../outside") + ustar_end(),
       "layer test: entry 'h': hardlink target '../outside': name has a '..' component"},
      {ustar("x/.wh...", '0') + ustar_end(), "layer test: entry 'x/.wh...': invalid whiteout name"},
  };
  for (auto &c : cases) EXPECT_EQ(unpack_err(c.tar), c.error);
  expect_sentinel_empty();
}

TEST_F(UnpackTest, SymlinksCannotLeadOutside) {
  std::string out = tmp.sub("sentinel");
  std::string tar = TarBuilder()
                        .symlink("root", "/")
                        .file("root/a", "1")
                        .symlink("up", "../../../../..")
                        .file("up/b", "2")
                        .symlink("abs", out)
                        .dir(out.substr(1)) // the same path inside the target
                        .file("abs/c", "3")
                        .finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  // Each landed inside: symlinks resolve as if the target were "/".
  EXPECT_EQ(read_all(t("a")), "1");
  EXPECT_EQ(read_all(t("b")), "2");
  EXPECT_EQ(read_all(t(out.substr(1) + "/c")), "3");
  expect_sentinel_empty();
}

TEST_F(UnpackTest, SymlinkSwappedUnderALaterEntry) {
  std::string out = tmp.sub("sentinel");
  std::string tar = TarBuilder().dir("a").symlink("a", out).file("a/f", "x").finish();
  auto r = unpack(tar);
  // Either inside the target or an error; never in the sentinel.
  if (r) EXPECT_EQ(read_all(t(out.substr(1) + "/f")), "x");
  else EXPECT_EQ(r.error().message(),
                 "layer test: entry 'a/f': create parent directory 'a': it is a symlink to a directory that "
                 "does not exist");
  expect_sentinel_empty();
  EXPECT_TRUE(S_ISLNK(lst("a").st_mode));
}

TEST_F(UnpackTest, HardlinksResolveInTheTarget) {
  std::string secret = tmp.sub("sentinel/secret");
  ASSERT_TRUE(write_file_atomic(sentinel.get(), "secret", "s"));
  // An absolute target is refused; through a symlink it resolves in the
  // target (where there is no such file) and the symlink itself is linked,
  // never followed.
  EXPECT_EQ(unpack_err(ustar("h", '1', "", secret) + ustar_end()),
            "layer test: entry 'h': hardlink target '" + secret + "': absolute name (a leading '/')");
  std::string tar = TarBuilder().symlink("l", "/").hardlink("h", "l" + secret).finish();
  auto e = unpack_err(tar);
  EXPECT_NE(e.find("layer test: entry 'h': open directory 'l" + tmp.sub("sentinel") + "'"), std::string::npos) << e;
  tar = TarBuilder().symlink("s", secret).hardlink("h2", "s").finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(S_ISLNK(lst("h2").st_mode));
  struct stat st;
  ASSERT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(unpack_err(ustar("h3", '1', "", "missing") + ustar_end()).find("layer test: entry 'h3': hardlink to 'missing'"), 0u);
}

TEST_F(UnpackTest, LimitsStopTarBombs) {
  UnpackLimits lim;
  lim.max_entry_size = 1000;
  // Declared, with no data behind it: refused before any is read.
  EXPECT_EQ(unpack_err(ustar("big", '0', "", "", 8'000'000'000), lim),
            "layer test: entry 'big': max_entry_size (declared size) exceeded: 8000000000 > 1000");
  lim = {};
  lim.max_total_size = 2500;
  std::string tar = TarBuilder().file("a", std::string(1000, 'a')).file("b", std::string(1000, 'b'))
                        .file("c", std::string(1000, 'c')).finish();
  EXPECT_EQ(unpack_err(tar, lim), "layer test: entry 'c': max_total_size (sum of declared sizes) exceeded: 3000 > 2500");
  lim = {};
  lim.max_entries = 5;
  TarBuilder many;
  for (int i = 0; i < 10; ++i) many.file("f" + std::to_string(i), "");
  EXPECT_EQ(unpack_err(many.finish(), lim), "layer test: entry 'f5': max_entries (entries in a layer) exceeded: 6 > 5");
  lim = {};
  lim.max_depth = 4;
  EXPECT_EQ(unpack_err(TarBuilder().file("a/b/c/d/e", "").finish(), lim),
            "layer test: entry 'a/b/c/d/e': max_depth (components in a name) exceeded: 5 > 4");
  lim = {};
  lim.max_path = 20;
  EXPECT_EQ(unpack_err(TarBuilder().file(std::string(21, 'n'), "").finish(), lim),
            "layer test: entry '" + std::string(21, 'n') + "': max_path (bytes in a name) exceeded: 21 > 20");
  EXPECT_EQ(unpack_err(TarBuilder().symlink("s", std::string(30, 't')).finish(), lim),
            "layer test: entry 's': max_path (bytes in a symlink target) exceeded: 30 > 20");
  lim = {};
  lim.max_xattrs_size = 100;
  // libarchive's pax writer stores each xattr twice (SCHILY. and LIBARCHIVE.):
  // the limit counts what the header carries.
  EXPECT_EQ(unpack_err(TarBuilder().file("x", "", {.xattrs = {{"user.big", std::string(200, 'v')}}}).finish(), lim),
            "layer test: entry 'x': max_xattrs_size (xattrs of one entry) exceeded: 416 > 100");
  // The defaults let a deep but sane tree through.
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "d/";
  auto r = unpack(TarBuilder().file(deep + "f", "x").finish());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(read_all(t(deep + "f")), "x");
}

TEST_F(UnpackTest, BadTars) {
  EXPECT_EQ(unpack_err(std::string(2000, 'z')).find("layer test: read tar"), 0u) << unpack_err(std::string(2000, 'z'));
  std::string tar = ustar("f", '0', std::string(5000, 'x'));
  auto e = unpack_err(tar.substr(0, 3000));
  EXPECT_EQ(e.find("layer test: entry 'f': read data: "), 0u) << e;
  // The empty layer: just the end-of-archive blocks.
  auto r = unpack(ustar_end());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries, 0u);
}

struct FailingSource final : Source {
  std::string data;
  size_t pos = 0;
  Result<size_t> read(std::span<std::byte> buf) override {
    if (pos >= data.size()) return fail_msg("layer test: gzip: invalid deflate block");
    size_t n = std::min(buf.size(), data.size() - pos);
    std::memcpy(buf.data(), data.data() + pos, n);
    pos += n;
    return n;
  }
};

TEST_F(UnpackTest, SourceErrorsComeThroughWhole) {
  FailingSource src;
  src.data = ustar("f", '0', std::string(5000, 'x')).substr(0, 2048);
  auto r = unpack_layer(src, target.get(), "layer test");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "layer test: gzip: invalid deflate block");
}

TEST_F(UnpackTest, CompressedLayerEndToEnd) {
  std::string tar = TarBuilder().dir("usr").file("usr/f", noise(300'000)).finish();
  std::string gz = gzip(tar);
  StringSource raw(gz, 5000);
  LayerStream ls(raw, oci::Compression::gzip, {oci::digest_of(gz), oci::digest_of(tar)}, "layer test");
  auto r = unpack_layer(ls, target.get(), "layer test");
  ASSERT_TRUE(r) << r.error().message();
  auto f = ls.finish();
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(read_all(t("usr/f")), noise(300'000));
}

TEST_F(UnpackTest, NonAsciiNames) {
  std::string tar = TarBuilder().file("caf\xc3\xa9", "utf8").file("raw\xff", "binary").finish();
  auto r = unpack(tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(read_all(t("caf\xc3\xa9")), "utf8");
  EXPECT_EQ(read_all(t("raw\xff")), "binary");
}

} // namespace
} // namespace berth::image
