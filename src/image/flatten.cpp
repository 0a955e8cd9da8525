// flatten_layers: each layer snapshot walked fd-relative (no symlink ever
// followed), its entries applied to the target as overlayfs would show
// them. Recursion is as deep as the trees (unpack bounds them by
// max_depth) and holds two fds per level.
#include "image/flatten.hpp"

#include "common/unique_fd.hpp"
#include "common/file.hpp"
#include "image/fsops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace berth::image {

namespace {

constexpr size_t max_depth = 4096;
constexpr int dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

bool is_opaque(int dirfd) {
  char v[2];
  ssize_t n = ::fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

// Copies [0, size) of in to out keeping holes: SEEK_DATA/SEEK_HOLE find the
// data, copy_file_range copies it (reflinks where the filesystem can),
// read/write where it cannot.
Result<> copy_data(int in, int out, off_t size) {
  off_t off = 0;
  std::vector<char> buf;
  while (off < size) {
    off_t data = ::lseek(in, off, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break; // a hole to the end
      data = off;                // no SEEK_DATA: all of it is data
    }
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0 || hole > size) hole = size;
    off_t pos = data;
    while (pos < hole) {
      size_t want = size_t(hole - pos);
      ssize_t n;
      if (buf.empty()) {
        loff_t ip = pos, op = pos;
        n = ::copy_file_range(in, &ip, out, &op, want, 0);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return fail_errno("copy_file_range");
          buf.resize(256 << 10); // from here on read/write
          continue;
        }
      } else {
        n = ::pread(in, buf.data(), std::min(buf.size(), want), pos);
        if (n < 0) {
          if (errno == EINTR) continue;
          return fail_errno("read");
        }
        for (ssize_t w = 0; w < n;) {
          ssize_t k = ::pwrite(out, buf.data() + w, size_t(n - w), pos + w);
          if (k < 0 && errno == EINTR) continue;
          if (k < 0) return fail_errno("write");
          w += k;
        }
      }
      if (n == 0) break; // the file shrank under us
      pos += n;
    }
    off = hole;
  }
  if (::ftruncate(out, size) < 0) return fail_errno("set size");
  return {};
}

class Flattener {
 public:
  explicit Flattener(int target) : target_(target), names_(64 << 10), value_(64 << 10) {}

  Result<> layer(int layer) {
    links_.clear();
    UniqueFd src(::openat(layer, ".", dir_flags));
    if (!src) return fail_errno("open the layer directory");
    if (is_opaque(src.get())) TRY(empty(target_, ""));
    return dir(std::move(src), target_, "", 0);
  }

 private:
  // Removes everything in the directory dst (path names it in errors).
  Result<> empty(int dst, const std::string &path) {
    UniqueFd d(::openat(dst, ".", dir_flags));
    if (!d) return fail_errno("open '" + path + "'");
    DIR *dp = ::fdopendir(d.release());
    if (!dp) return fail_errno("opendir '" + path + "'");
    std::unique_ptr<DIR, int (*)(DIR *)> guard(dp, ::closedir);
    while (dirent *e = ::readdir(dp)) {
      if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
      TRY_CTX(remove_at(::dirfd(dp), e->d_name), "empty opaque directory '" + path + "'");
    }
    return {};
  }

  // The layer directory src (taken) applied onto dst.
  Result<> dir(UniqueFd src, int dst, const std::string &path, size_t depth) {
    if (depth > max_depth) return fail_msg("'" + path + "': deeper than " + std::to_string(max_depth));
    DIR *dp = ::fdopendir(src.get());
    if (!dp) return fail_errno("opendir '" + path + "'");
    src.release();
    std::unique_ptr<DIR, int (*)(DIR *)> guard(dp, ::closedir);
    int sfd = ::dirfd(dp);
    errno = 0;
    while (dirent *e = ::readdir(dp)) {
      const char *name = e->d_name;
      if (std::strcmp(name, ".") && std::strcmp(name, "..")) {
        std::string rel = path.empty() ? std::string(name) : path + "/" + name;
        auto r = entry(sfd, dst, name, rel, depth);
        if (!r) return ctx(std::move(r).error(), "'" + rel + "'");
      }
      errno = 0;
    }
    if (errno != 0) return fail_errno("readdir '" + path + "'");
    return {};
  }

  Result<> entry(int sfd, int dst, const char *name, const std::string &rel, size_t depth) {
    struct stat st;
    if (::fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return fail_errno("stat");
    mode_t type = st.st_mode & S_IFMT;
    if (type == S_IFCHR && st.st_rdev == 0) return remove_at(dst, name); // a whiteout
    if (type == S_IFDIR) return subdir(sfd, dst, name, rel, st, depth);

    // Anything else replaces what is there (a directory with its content).
    TRY(remove_at(dst, name));
    if (st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (auto it = links_.find(key); it != links_.end()) {
        if (::linkat(target_, it->second.c_str(), dst, name, 0) < 0)
          return fail_errno("hardlink to '" + it->second + "'");
        return {};
      }
      links_.emplace(key, rel);
    }
    fsops::Target t{-1, dst, name, type};
    UniqueFd in, out;
    if (type == S_IFREG) {
      in.reset(::openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!in) return fail_errno("open");
      out.reset(::openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) return fail_errno("create");
      TRY(copy_data(in.get(), out.get(), st.st_size));
      t.fd = out.get();
    } else if (type == S_IFLNK) {
      char target[PATH_MAX + 1];
      ssize_t n = ::readlinkat(sfd, name, target, sizeof target);
      if (n < 0) return fail_errno("readlink");
      if (size_t(n) >= sizeof target) return fail_msg("readlink: target too long");
      target[n] = 0;
      if (::symlinkat(target, dst, name) < 0) return fail_errno("create symlink");
    } else {
      if (::mknodat(dst, name, type | 0600, st.st_rdev) < 0) return fail_errno("mknod");
    }
    TRY(meta(in.get(), sfd, name, t, st));
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    return fsops::set_times(t, ts);
  }

  Result<> subdir(int sfd, int dst, const char *name, const std::string &rel, const struct stat &st,
                  size_t depth) {
    UniqueFd s(::openat(sfd, name, dir_flags));
    if (!s) return fail_errno("open");
    struct stat dst_st;
    bool exists = ::fstatat(dst, name, &dst_st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !S_ISDIR(dst_st.st_mode)) {
      TRY(remove_at(dst, name));
      exists = false;
    }
    if (!exists && ::mkdirat(dst, name, 0700) < 0) return fail_errno("mkdir");
    UniqueFd d(::openat(dst, name, dir_flags));
    if (!d) return fail_errno("open in the target");
    // Opaque: the lower layers' content is hidden, this layer's stays.
    if (exists && is_opaque(s.get())) TRY(empty(d.get(), rel));
    fsops::Target t{d.get(), dst, name, S_IFDIR};
    TRY(meta(s.get(), sfd, name, t, st));
    TRY(dir(std::move(s), d.get(), rel, depth + 1));
    // After the content, which changed it.
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    return fsops::set_times(t, ts);
  }

  // Owner, mode, xattrs (never overlayfs' own) of src (sfd_or_in: its fd
  // when open, else name in sfd) onto t.
  Result<> meta(int in, int sfd, const char *name, const fsops::Target &t, const struct stat &st) {
    TRY(fsops::set_owner(t, st.st_uid, st.st_gid));
    TRY(fsops::set_mode(t, st.st_mode & 07777));
    std::string p = in >= 0 ? std::string() : fsops::proc_path(sfd, name);
    ssize_t n = in >= 0 ? ::flistxattr(in, names_.data(), names_.size())
                        : ::llistxattr(p.c_str(), names_.data(), names_.size());
    if (n < 0) {
      if (errno == ENOTSUP) return {};
      return fail_errno("list xattrs");
    }
    for (ssize_t i = 0; i < n;) {
      std::string key(names_.data() + i);
      i += ssize_t(key.size()) + 1;
      if (fsops::is_overlay_xattr(key)) continue;
      ssize_t v = in >= 0 ? ::fgetxattr(in, key.c_str(), value_.data(), value_.size())
                          : ::lgetxattr(p.c_str(), key.c_str(), value_.data(), value_.size());
      if (v < 0) {
        if (errno == ENODATA) continue;
        return fail_errno("get xattr " + key);
      }
      TRY(fsops::set_xattr(t, key, value_.data(), size_t(v)));
    }
    return {};
  }

  int target_;
  std::vector<char> names_, value_; // XATTR_LIST_MAX, XATTR_SIZE_MAX
  // Files with more than one link in this layer: the first copy's path.
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

} // namespace

Result<> flatten_layers(std::span<const int> layers, int target) {
  Flattener f(target);
  for (size_t i = 0; i < layers.size(); ++i) TRY_CTX(f.layer(layers[i]), "flatten layer " + std::to_string(i));
  return {};
}

} // namespace berth::image
