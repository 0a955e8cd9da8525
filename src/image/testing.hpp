// Test helpers for src/image/*_test.cpp: temp dirs, tars built in memory
// (libarchive's writer, or raw ustar headers for what it would not write),
// gzip and zstd in memory, sources over strings.
#pragma once

#include "common/file.hpp"
#include "common/unique_fd.hpp"
#include "image/stream.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace berth::image::testing {

// A directory under /tmp, removed (with what is in it) at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/berth-image-test-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { (void)remove_tree(path); }
  std::string sub(const std::string &name) const { return path + "/" + name; }
  // Creates sub-directory name and returns an fd of it.
  UniqueFd mkdir(const std::string &name) const {
    ::mkdir(sub(name).c_str(), 0755);
    return UniqueFd(::open(sub(name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
};

// Reads a string, chunk bytes at most per read: small chunks exercise the
// buffer boundaries.
class StringSource final : public Source {
 public:
  explicit StringSource(std::string s, size_t chunk = 1 << 20) : s_(std::move(s)), chunk_(chunk) {}
  Result<size_t> read(std::span<std::byte> buf) override {
    size_t n = std::min({buf.size(), chunk_, s_.size() - pos_});
    std::memcpy(buf.data(), s_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  size_t pos() const { return pos_; }

 private:
  std::string s_;
  size_t chunk_, pos_ = 0;
};

struct Meta {
  mode_t perm = 0644;
  int64_t uid = 0, gid = 0;
  time_t mtime = 1'600'000'000;
  long mtime_nsec = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// A pax tar built with libarchive's writer (full pax: sub-second mtimes).
class TarBuilder {
 public:
  TarBuilder() : a_(archive_write_new()) {
    archive_write_set_format_pax(a_);
    archive_write_set_bytes_in_last_block(a_, 1);
    archive_write_open(a_, &out_, nullptr, write_cb, nullptr);
  }
  ~TarBuilder() { archive_write_free(a_); }

  TarBuilder &file(const std::string &name, const std::string &data, const Meta &m = {}) {
    auto *e = entry(name, AE_IFREG, m);
    archive_entry_set_size(e, int64_t(data.size()));
    put(e, data);
    return *this;
  }
  TarBuilder &dir(const std::string &name, Meta m = {}) {
    if (m.perm == 0644) m.perm = 0755;
    put(entry(name, AE_IFDIR, m));
    return *this;
  }
  TarBuilder &symlink(const std::string &name, const std::string &target, const Meta &m = {}) {
    auto *e = entry(name, AE_IFLNK, m);
    archive_entry_set_symlink(e, target.c_str());
    put(e);
    return *this;
  }
  TarBuilder &hardlink(const std::string &name, const std::string &target) {
    auto *e = entry(name, AE_IFREG, {});
    archive_entry_set_hardlink(e, target.c_str());
    archive_entry_set_size(e, 0);
    put(e);
    return *this;
  }
  TarBuilder &node(const std::string &name, mode_t type, unsigned maj, unsigned min, const Meta &m = {}) {
    auto *e = entry(name, type, m);
    archive_entry_set_rdevmajor(e, maj);
    archive_entry_set_rdevminor(e, min);
    put(e);
    return *this;
  }
  // A sparse file: size bytes, data ('x'…) only in the given regions.
  TarBuilder &sparse(const std::string &name, int64_t size, const std::vector<std::pair<int64_t, int64_t>> &data) {
    auto *e = entry(name, AE_IFREG, {});
    archive_entry_set_size(e, size);
    for (auto [off, len] : data) archive_entry_sparse_add_entry(e, off, len);
    archive_write_header(a_, e);
    // libarchive's writer takes the whole file and drops the holes itself.
    std::string zeros(1 << 20, '\0');
    int64_t pos = 0;
    for (auto [off, len] : data) {
      for (; pos < off; pos += std::min<int64_t>(off - pos, int64_t(zeros.size())))
        archive_write_data(a_, zeros.data(), size_t(std::min<int64_t>(off - pos, int64_t(zeros.size()))));
      std::string d(size_t(len), 'x');
      archive_write_data(a_, d.data(), d.size());
      pos = off + len;
    }
    for (; pos < size; pos += std::min<int64_t>(size - pos, int64_t(zeros.size())))
      archive_write_data(a_, zeros.data(), size_t(std::min<int64_t>(size - pos, int64_t(zeros.size()))));
    archive_entry_free(e);
    return *this;
  }
  std::string finish() {
    archive_write_close(a_);
    return out_;
  }

 private:
  static la_ssize_t write_cb(struct archive *, void *p, const void *buf, size_t n) {
    static_cast<std::string *>(p)->append(static_cast<const char *>(buf), n);
    return la_ssize_t(n);
  }
  struct archive_entry *entry(const std::string &name, mode_t type, const Meta &m) {
    auto *e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, m.perm);
    archive_entry_set_uid(e, m.uid);
    archive_entry_set_gid(e, m.gid);
    archive_entry_set_mtime(e, m.mtime, m.mtime_nsec);
    for (auto &[k, v] : m.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    return e;
  }
  void put(struct archive_entry *e, const std::string &data = {}) {
    EXPECT_GE(archive_write_header(a_, e), ARCHIVE_WARN) << archive_error_string(a_);
    if (!data.empty()) archive_write_data(a_, data.data(), data.size());
    archive_entry_free(e);
  }
  struct archive *a_;
  std::string out_;
};

// One raw ustar header (+ data, padded): for names libarchive's writer
// would not write as given, and declared sizes with no data behind them.
inline std::string ustar(const std::string &name, char type, const std::string &data = {},
                         const std::string &link = {}, uint64_t declared = UINT64_MAX) {
  char h[512] = {};
  std::snprintf(h, 100, "%s", name.c_str());
  std::snprintf(h + 100, 8, "%07o", 0644);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  uint64_t size = declared == UINT64_MAX ? data.size() : declared;
  std::snprintf(h + 124, 12, "%011llo", (unsigned long long)size);
  std::snprintf(h + 136, 12, "%011o", 1'600'000'000);
  h[156] = type;
  std::snprintf(h + 157, 100, "%s", link.c_str());
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  std::string out(h, 512);
  out += data;
  out.append((512 - data.size() % 512) % 512, '\0');
  return out;
}
inline std::string ustar_end() { return std::string(1024, '\0'); }

inline std::string gzip(const std::string &s, int level = 6) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, uLong(s.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(s.data()));
  z.avail_in = uInt(s.size());
  z.next_out = reinterpret_cast<Bytef *>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string zstd(const std::string &s) {
  std::string out(ZSTD_compressBound(s.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), s.data(), s.size(), 3));
  return out;
}

// Bytes that do not compress much and are not all the same.
inline std::string noise(size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto &c : s) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = char(x % 7 == 0 ? 'a' : x);
  }
  return s;
}

inline std::string read_all(const std::string &path) {
  auto r = read_file(path, 1 << 30);
  return r ? *r : std::string("<unreadable>");
}

} // namespace berth::image::testing
