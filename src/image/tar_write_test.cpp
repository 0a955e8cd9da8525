#include "image/tar_write.hpp"
#include "image/testing.hpp"
#include "image/unpack.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <sstream>

namespace berth::image {
namespace {

using namespace testing;

// Everything about a tree that a tar round trip must keep, one line a file.
void describe(const std::string &root, const std::string &rel, std::map<std::string, std::string> &out,
              std::map<ino_t, std::string> &inodes) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  std::unique_ptr<DIR, int (*)(DIR *)> d(::opendir(dir.c_str()), ::closedir);
  ASSERT_TRUE(d) << dir;
  std::vector<std::string> names;
  while (dirent *e = ::readdir(d.get()))
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.emplace_back(e->d_name);
  std::sort(names.begin(), names.end());
  for (auto &n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n, p = root + "/" + r;
    struct stat st;
    ASSERT_EQ(::lstat(p.c_str(), &st), 0);
    std::ostringstream s;
    // mtimes to the second, as docker's tars have them; a whiteout's
    // (the tar has only its name) is not kept.
    s << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid;
    if (!S_ISCHR(st.st_mode) || st.st_rdev != 0) s << " mtime " << st.st_mtim.tv_sec;
    if (S_ISREG(st.st_mode)) {
      s << " size " << st.st_size << " data " << oci::digest_of(read_all(p)).hex.substr(0, 12);
      if (st.st_nlink > 1) {
        auto [it, fresh] = inodes.emplace(st.st_ino, r);
        s << " links " << st.st_nlink << " group " << it->second;
      }
    }
    if (S_ISLNK(st.st_mode)) {
      char buf[4096] = {};
      (void)::readlink(p.c_str(), buf, sizeof buf - 1);
      s << " -> " << buf;
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) s << " dev " << major(st.st_rdev) << "," << minor(st.st_rdev);
    char keys[4096];
    ssize_t k = ::llistxattr(p.c_str(), keys, sizeof keys);
    std::vector<std::string> ks;
    for (ssize_t i = 0; i < k; i += ssize_t(ks.back().size()) + 1) ks.emplace_back(keys + i);
    std::sort(ks.begin(), ks.end());
    for (auto &key : ks) {
      char v[256];
      ssize_t vn = ::lgetxattr(p.c_str(), key.c_str(), v, sizeof v);
      s << " xattr " << key << "=" << std::string(v, size_t(std::max<ssize_t>(vn, 0)));
    }
    out[r] = s.str();
    if (S_ISDIR(st.st_mode)) describe(root, r, out, inodes);
  }
}

std::map<std::string, std::string> describe(const std::string &root) {
  std::map<std::string, std::string> out;
  std::map<ino_t, std::string> inodes;
  describe(root, "", out, inodes);
  return out;
}

struct TarWriteTest : ::testing::Test {
  TempDir tmp;
  UniqueFd src = tmp.mkdir("src"), dst = tmp.mkdir("dst");
  std::string s(const std::string &p) const { return tmp.sub("src/" + p); }

  std::string tar_of(int dirfd) {
    UniqueFd out(::open(tmp.path.c_str(), O_RDWR | O_TMPFILE | O_CLOEXEC, 0600));
    auto r = write_tree_tar(dirfd, out.get(), "tree");
    EXPECT_TRUE(r) << r.error().message();
    ::lseek(out.get(), 0, SEEK_SET);
    auto data = read_fd(out.get(), "tar", 1 << 30);
    return data ? *data : std::string();
  }

  void build_tree() {
    auto times = [&](const std::string &p, time_t sec, long nsec) {
      struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
      ASSERT_EQ(::utimensat(AT_FDCWD, s(p).c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << p;
    };
    ASSERT_EQ(::mkdir(s("bin").c_str(), 0755), 0);
    ASSERT_TRUE(write_path_atomic(s("bin/ping"), "ELF", 0755));
    ASSERT_EQ(::chown(s("bin/ping").c_str(), 1000, 1000), 0);
    ASSERT_EQ(::chmod(s("bin/ping").c_str(), 04755), 0);
    vfs_cap_data c{};
    c.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
    c.data[0].permitted = 1u << 10;
    ASSERT_EQ(::setxattr(s("bin/ping").c_str(), "security.capability", &c, XATTR_CAPS_SZ_2, 0), 0);
    ASSERT_EQ(::setxattr(s("bin/ping").c_str(), "user.note", "hi", 2, 0), 0);
    ASSERT_EQ(::link(s("bin/ping").c_str(), s("bin/ping6").c_str()), 0);
    ASSERT_EQ(::symlink("ping", s("bin/p").c_str()), 0);
    ASSERT_EQ(::lchown(s("bin/p").c_str(), 3, 4), 0);
    ASSERT_EQ(::mkdir(s("tmp").c_str(), 01777), 0);
    ASSERT_EQ(::chmod(s("tmp").c_str(), 01777), 0);
    ASSERT_EQ(::mkdir(s("dev").c_str(), 0755), 0);
    ASSERT_EQ(::mknod(s("dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::mknod(s("dev/loop0").c_str(), S_IFBLK | 0660, makedev(7, 0)), 0);
    ASSERT_EQ(::mkfifo(s("dev/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::mkdir(s("etc").c_str(), 0755), 0);
    ASSERT_EQ(::mknod(s("etc/gone").c_str(), S_IFCHR, makedev(0, 0)), 0); // a whiteout
    ASSERT_EQ(::setxattr(s("etc").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    ASSERT_TRUE(write_path_atomic(s("etc/" + std::string(150, 'l')), "long name", 0640));
    ASSERT_EQ(::setxattr(s("etc").c_str(), "user.d", "dir", 3, 0), 0);
    ASSERT_TRUE(write_path_atomic(s("big"), noise(3 << 20), 0600));
    for (auto p : {"bin/ping", "bin/p", "dev/null", "dev/fifo", "etc/gone", "big"}) times(p, 1'234'567'890, 42);
    for (auto p : {"bin", "tmp", "dev", "etc"}) times(p, 1'500'000'000, 7);
  }
};

TEST_F(TarWriteTest, TreeRoundTrips) {
  build_tree();
  std::string tar = tar_of(src.get());
  StringSource in(tar, 10000);
  auto r = unpack_layer(in, dst.get(), "round trip");
  ASSERT_TRUE(r) << r.error().message();
  auto want = describe(tmp.sub("src")), got = describe(tmp.sub("dst"));
  EXPECT_EQ(want.size(), 13u);
  for (auto &[path, line] : want) EXPECT_EQ(got[path], line) << path;
  EXPECT_EQ(got.size(), want.size());
  EXPECT_NE(want["bin/ping6"].find("group bin/ping"), std::string::npos) << want["bin/ping6"];
  EXPECT_NE(got["etc"].find("trusted.overlay.opaque=y"), std::string::npos) << got["etc"];
}

TEST_F(TarWriteTest, WhiteoutsAndOverlayXattrsInTheTar) {
  build_tree();
  ASSERT_EQ(::setxattr(s("big").c_str(), "trusted.overlay.redirect", "/x", 2, 0), 0);
  std::string tar = tar_of(src.get());
  EXPECT_NE(tar.find("etc/.wh.gone"), std::string::npos);
  EXPECT_NE(tar.find("etc/.wh..wh..opq"), std::string::npos);
  EXPECT_EQ(tar.find("trusted.overlay"), std::string::npos);
}

TEST_F(TarWriteTest, SameTreeSameBytes) {
  build_tree();
  std::string a = tar_of(src.get()), b = tar_of(src.get());
  EXPECT_GT(a.size(), size_t(3 << 20));
  EXPECT_EQ(oci::digest_of(a), oci::digest_of(b));
}

TEST_F(TarWriteTest, WriteErrorsNameTheTar) {
  build_tree();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::close(p[0]);
  ::signal(SIGPIPE, SIG_IGN);
  auto r = write_tree_tar(src.get(), p[1], "tree");
  ::close(p[1]);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "write tree: Broken pipe");
}

TEST(TarWriter, FilesAndDirs) {
  TempDir tmp;
  UniqueFd out(::open(tmp.path.c_str(), O_RDWR | O_TMPFILE | O_CLOEXEC, 0600));
  ASSERT_TRUE(write_file_atomic(UniqueFd(::open(tmp.path.c_str(), O_RDONLY | O_DIRECTORY)).get(), "blob", "blob data"));
  UniqueFd blob(::open(tmp.sub("blob").c_str(), O_RDONLY | O_CLOEXEC));
  {
    TarWriter w(out.get(), "archive");
    ASSERT_TRUE(w.add_dir("blobs"));
    ASSERT_TRUE(w.add_data("index.json", "{}"));
    ASSERT_TRUE(w.add_file("blobs/one", blob.get(), 9));
    auto short_file = w.add_file("blobs/two", blob.get(), 100); // at its end already
    ASSERT_FALSE(short_file);
    EXPECT_EQ(short_file.error().message(), "archive: 'blobs/two': shorter than its size");
    ASSERT_TRUE(w.close());
    EXPECT_FALSE(w.close());
  }
  ::lseek(out.get(), 0, SEEK_SET);
  auto data = read_fd(out.get(), "tar");
  ASSERT_TRUE(data);
  struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  ASSERT_EQ(archive_read_open_memory(a, data->data(), data->size()), ARCHIVE_OK);
  std::vector<std::string> got;
  struct archive_entry *e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string line = archive_entry_pathname(e);
    char buf[64] = {};
    la_ssize_t n = archive_read_data(a, buf, sizeof buf - 1);
    line += " " + std::to_string(archive_entry_perm(e)) + " " + std::string(buf, size_t(std::max<la_ssize_t>(n, 0)));
    got.push_back(line);
  }
  archive_read_free(a);
  ASSERT_GE(got.size(), 3u);
  EXPECT_EQ(got[0], "blobs/ " + std::to_string(0755) + " ");
  EXPECT_EQ(got[1], "index.json " + std::to_string(0644) + " {}");
  EXPECT_EQ(got[2], "blobs/one " + std::to_string(0644) + " blob data");
}

} // namespace
} // namespace berth::image
