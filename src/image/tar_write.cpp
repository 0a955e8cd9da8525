// Tars written with libarchive (pax restricted: plain ustar headers, pax
// extended ones only where needed: long names, big ids, xattrs; mtimes to
// the second), its bytes going straight to an fd.
#include "image/tar_write.hpp"

#include "common/file.hpp"
#include "common/unique_fd.hpp"
#include "image/fsops.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

namespace berth::image {

struct TarWriter::Out {
  int fd;
  std::string what;
  std::optional<Error> err;
  bool discard = false; // after an error: free() must not write the trailer
};

namespace {

using Out = TarWriter::Out;
constexpr int dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

la_ssize_t write_cb(struct archive *a, void *p, const void *buf, size_t n) {
  auto *o = static_cast<Out *>(p);
  if (o->discard) return la_ssize_t(n);
  auto r = write_all(o->fd, {static_cast<const char *>(buf), n}, o->what);
  if (!r) {
    o->err = std::move(r).error();
    archive_set_error(a, EIO, "write failed");
    return -1;
  }
  return la_ssize_t(n);
}

struct archive *new_archive(Out *o) {
  struct archive *a = archive_write_new();
  if (!a) return nullptr;
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1); // no padding past the end blocks
  if (archive_write_open(a, o, nullptr, write_cb, nullptr) != ARCHIVE_OK) {
    archive_write_free(a);
    return nullptr;
  }
  return a;
}

std::unexpected<Error> archive_fail(struct archive *a, Out &o, const std::string &doing) {
  if (o.err) return std::unexpected(*o.err);
  const char *m = archive_error_string(a);
  return fail_msg(o.what + ": " + doing + ": " + (m ? m : "unknown libarchive error"));
}

struct EntryFree {
  void operator()(struct archive_entry *e) const { archive_entry_free(e); }
};
using Entry = std::unique_ptr<struct archive_entry, EntryFree>;

Entry plain_entry(const std::string &name, mode_t type, mode_t perm, int64_t size) {
  Entry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), type);
  archive_entry_set_perm(e.get(), perm);
  archive_entry_set_size(e.get(), size);
  archive_entry_set_mtime(e.get(), 0, 0);
  return e;
}

// Writes size bytes of fd as the current entry's data (fewer if the file
// ends early: libarchive pads the entry).
Result<> copy_in(struct archive *a, Out &o, int fd, uint64_t size, const std::string &name) {
  std::vector<char> buf(256 << 10);
  while (size > 0) {
    ssize_t n = ::read(fd, buf.data(), std::min<uint64_t>(buf.size(), size));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(o.what + ": read '" + name + "'");
    }
    if (n == 0) return fail_msg(o.what + ": '" + name + "': shorter than its size");
    if (archive_write_data(a, buf.data(), size_t(n)) != n) return archive_fail(a, o, "write '" + name + "'");
    size -= uint64_t(n);
  }
  return {};
}

// The tree walk of write_tree_tar.
class TreeWriter {
 public:
  TreeWriter(struct archive *a, Out &o) : a_(a), o_(o), names_(64 << 10), value_(64 << 10) {}

  Result<> dir(UniqueFd d, const std::string &prefix, size_t depth) {
    if (depth > 4096) return fail_msg(o_.what + ": '" + prefix + "': too deep");
    if (is_opaque(d.get())) TRY(header(plain_entry(prefix + ".wh..wh..opq", AE_IFREG, 0644, 0), prefix));
    std::vector<std::string> names;
    {
      int dup = ::openat(d.get(), ".", dir_flags);
      if (dup < 0) return fail_errno(o_.what + ": open '" + prefix + "'");
      DIR *dp = ::fdopendir(dup);
      if (!dp) {
        ::close(dup);
        return fail_errno(o_.what + ": opendir '" + prefix + "'");
      }
      while (dirent *e = ::readdir(dp))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.emplace_back(e->d_name);
      ::closedir(dp);
    }
    std::sort(names.begin(), names.end());
    for (const auto &n : names) TRY(entry(d.get(), n, prefix + n, depth));
    return {};
  }

 private:
  static bool is_opaque(int fd) {
    char v[2];
    return ::fgetxattr(fd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
  }

  Result<> header(Entry e, const std::string &name) {
    if (archive_write_header(a_, e.get()) < ARCHIVE_WARN) return archive_fail(a_, o_, "write header of '" + name + "'");
    return {};
  }

  Result<> entry(int dfd, const std::string &name, const std::string &rel, size_t depth) {
    auto bad = [&](const std::string &doing) { return fail_errno(o_.what + ": " + doing + " '" + rel + "'"); };
    struct stat st;
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return bad("stat");
    mode_t type = st.st_mode & S_IFMT;
    if (type == S_IFSOCK) return {}; // tar has no sockets
    if (type == S_IFCHR && st.st_rdev == 0) {
      auto slash = rel.rfind('/');
      std::string wh = (slash == std::string::npos ? "" : rel.substr(0, slash + 1)) + ".wh." + name;
      return header(plain_entry(wh, AE_IFREG, 0644, 0), wh);
    }
    Entry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), rel.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), st.st_mode & 07777);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    UniqueFd fd;
    if (type == S_IFREG || type == S_IFDIR) {
      fd.reset(::openat(dfd, name.c_str(), (type == S_IFDIR ? dir_flags : O_RDONLY | O_NOFOLLOW | O_CLOEXEC)));
      if (!fd) return bad("open");
    }
    TRY(xattrs(e.get(), fd.get(), dfd, name, rel));
    if (type != S_IFDIR && st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (auto it = links_.find(key); it != links_.end()) {
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        return header(std::move(e), rel);
      }
      links_.emplace(key, rel);
    }
    if (type == S_IFLNK) {
      char target[PATH_MAX + 1];
      ssize_t n = ::readlinkat(dfd, name.c_str(), target, sizeof target);
      if (n < 0) return bad("readlink");
      if (size_t(n) >= sizeof target) return fail_msg(o_.what + ": readlink '" + rel + "': target too long");
      target[n] = 0;
      archive_entry_set_symlink(e.get(), target);
    } else if (type == S_IFCHR || type == S_IFBLK) {
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
    }
    if (type == S_IFREG) archive_entry_set_size(e.get(), st.st_size);
    TRY(header(std::move(e), rel));
    if (type == S_IFREG) return copy_in(a_, o_, fd.get(), uint64_t(st.st_size), rel);
    if (type == S_IFDIR) return dir(std::move(fd), rel + "/", depth + 1);
    return {};
  }

  // The xattrs of the file (fd when open, else name in dfd), overlayfs' own
  // left out.
  Result<> xattrs(struct archive_entry *e, int fd, int dfd, const std::string &name, const std::string &rel) {
    std::string p = fd >= 0 ? std::string() : fsops::proc_path(dfd, name.c_str());
    ssize_t n = fd >= 0 ? ::flistxattr(fd, names_.data(), names_.size())
                        : ::llistxattr(p.c_str(), names_.data(), names_.size());
    if (n < 0) {
      if (errno == ENOTSUP) return {};
      return fail_errno(o_.what + ": list xattrs of '" + rel + "'");
    }
    std::vector<std::string> keys;
    for (ssize_t i = 0; i < n;) {
      keys.emplace_back(names_.data() + i);
      i += ssize_t(keys.back().size()) + 1;
    }
    std::sort(keys.begin(), keys.end()); // the same bytes for the same tree
    for (const auto &key : keys) {
      if (fsops::is_overlay_xattr(key)) continue;
      ssize_t v = fd >= 0 ? ::fgetxattr(fd, key.c_str(), value_.data(), value_.size())
                          : ::lgetxattr(p.c_str(), key.c_str(), value_.data(), value_.size());
      if (v < 0) {
        if (errno == ENODATA) continue;
        return fail_errno(o_.what + ": get xattr " + key + " of '" + rel + "'");
      }
      archive_entry_xattr_add_entry(e, key.c_str(), value_.data(), size_t(v));
    }
    return {};
  }

  struct archive *a_;
  Out &o_;
  std::vector<char> names_, value_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

} // namespace

Result<> write_tree_tar(int dirfd, int out, const std::string &what) {
  Out o{out, what};
  std::unique_ptr<struct archive, int (*)(struct archive *)> a(new_archive(&o), archive_write_free);
  if (!a) return fail_msg(what + ": cannot start the tar writer");
  UniqueFd root(::openat(dirfd, ".", dir_flags));
  if (!root) return fail_errno(what + ": open the directory");
  auto r = TreeWriter(a.get(), o).dir(std::move(root), "", 0);
  if (!r) {
    o.discard = true;
    return r;
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return archive_fail(a.get(), o, "finish the tar");
  return {};
}

TarWriter::TarWriter(int out, std::string what) : out_(std::make_unique<Out>(Out{out, what})), what_(std::move(what)) {
  a_ = new_archive(out_.get());
}

TarWriter::~TarWriter() {
  if (!a_) return;
  out_->discard = true; // close() was not called: leave the output as it is
  archive_write_free(static_cast<struct archive *>(a_));
}

Result<> TarWriter::add_dir(const std::string &name) {
  if (!a_) return fail_msg(what_ + ": the tar writer is closed");
  auto *a = static_cast<struct archive *>(a_);
  if (archive_write_header(a, plain_entry(name, AE_IFDIR, 0755, 0).get()) < ARCHIVE_WARN)
    return archive_fail(a, *out_, "write header of '" + name + "'");
  return {};
}

Result<> TarWriter::add_data(const std::string &name, std::string_view data) {
  if (!a_) return fail_msg(what_ + ": the tar writer is closed");
  auto *a = static_cast<struct archive *>(a_);
  if (archive_write_header(a, plain_entry(name, AE_IFREG, 0644, int64_t(data.size())).get()) < ARCHIVE_WARN)
    return archive_fail(a, *out_, "write header of '" + name + "'");
  if (!data.empty() && archive_write_data(a, data.data(), data.size()) != la_ssize_t(data.size()))
    return archive_fail(a, *out_, "write '" + name + "'");
  return {};
}

Result<> TarWriter::add_file(const std::string &name, int fd, uint64_t size) {
  if (!a_) return fail_msg(what_ + ": the tar writer is closed");
  auto *a = static_cast<struct archive *>(a_);
  if (archive_write_header(a, plain_entry(name, AE_IFREG, 0644, int64_t(size)).get()) < ARCHIVE_WARN)
    return archive_fail(a, *out_, "write header of '" + name + "'");
  return copy_in(a, *out_, fd, size, name);
}

Result<> TarWriter::close() {
  if (!a_) return fail_msg(what_ + ": the tar writer is closed");
  auto *a = static_cast<struct archive *>(std::exchange(a_, nullptr));
  int r = archive_write_close(a);
  Result<> res;
  if (r != ARCHIVE_OK) res = archive_fail(a, *out_, "finish the tar");
  archive_write_free(a);
  return res;
}

} // namespace berth::image
