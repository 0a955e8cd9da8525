#include "image/unpack_entry.hpp"

#include "common/syscalls.hpp"
#include "common/file.hpp"
#include "image/fsops.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

namespace berth::image::detail {

namespace {

bool is_within(const std::string &p, const std::string &dir) {
  return p == dir || (p.size() > dir.size() && p.starts_with(dir) && p[dir.size()] == '/');
}

void entry_times(struct archive_entry *e, struct timespec ts[2]) {
  ts[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  ts[0] = archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)} : ts[1];
}

// Runs create (a *at call returning < 0 with errno); on EEXIST replaces
// what is there and tries once more.
template <class F> Result<> create_excl(F create, const std::function<Result<>()> &replace, const char *what) {
  if (create() == 0) return {};
  if (errno != EEXIST) return fail_errno(what);
  TRY(replace());
  if (create() < 0) return fail_errno(what);
  return {};
}

} // namespace

Result<> EntryWriter::replace(int pfd, const std::string &name, bool new_is_dir, bool *keep_dir) {
  struct stat st;
  if (::fstatat(pfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return {};
    return fail_errno("stat the existing entry");
  }
  // As tar and containerd: a directory stays when a directory comes again
  // (its metadata is updated); anything else is replaced.
  if (S_ISDIR(st.st_mode) && new_is_dir) {
    if (keep_dir) *keep_dir = true;
    return {};
  }
  stale_ = true;
  TRY_CTX(remove_at(pfd, name), "replace the existing entry");
  return {};
}

Result<uint64_t> EntryWriter::write(struct archive_entry *e, const CleanName &n) {
  if (n.path.empty()) return 0; // the root itself: not changed (containerd skips it too)
  TRY(settle_dirs(n.parent));
  ASSIGN_OR_RETURN(int pfd, parents_.open(n.parent));
  // A directory already settled (or never listed) keeps its mtime.
  bool keep = !n.parent.empty() && (open_dirs_.empty() || open_dirs_.back().path != n.parent);
  struct stat pst;
  if (keep && ::fstat(pfd, &pst) < 0) return fail_errno("stat parent directory");
  Result<uint64_t> r = n.base.starts_with(".wh.") ? whiteout(e, n, pfd) : create(e, n, pfd);
  if (r && keep) {
    struct timespec ts[2] = {pst.st_atim, pst.st_mtim};
    if (::futimens(pfd, ts) < 0) r = fail_errno("restore the times of the parent directory");
  }
  if (stale_) {
    parents_.invalidate();
    stale_ = false;
  }
  return r;
}

Result<uint64_t> EntryWriter::whiteout(struct archive_entry *e, const CleanName &n, int pfd) {
  std::string_view rest = std::string_view(n.base).substr(4);
  if (rest == ".wh..opq") {
    // The directory hides what lower layers have in it.
    if (::fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
      return fail_errno("set trusted.overlay.opaque on the directory");
    return 0;
  }
  if (rest.starts_with(".wh.")) return 0; // aufs' own (.wh..wh.plnk, .wh..wh.aufs)
  if (rest.empty() || rest == "." || rest == "..") return fail_msg("invalid whiteout name");
  std::string name(rest);
  stale_ = true;
  TRY_CTX(remove_at(pfd, name), "whiteout: remove the entry it hides");
  if (::mknodat(pfd, name.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0)
    return fail_errno("whiteout: create the 0/0 character device '" + name + "'");
  fsops::Target t{-1, pfd, name.c_str(), S_IFCHR};
  TRY(fsops::set_owner(t, uid_t(archive_entry_uid(e)), gid_t(archive_entry_gid(e))));
  return 0;
}

Result<uint64_t> EntryWriter::create(struct archive_entry *e, const CleanName &n, int pfd) {
  const char *name = n.base.c_str();
  auto repl = [&] { return replace(pfd, n.base, false); };
  if (const char *hl = archive_entry_hardlink(e)) {
    auto t = clean_name(hl);
    if (!t) return ctx(std::move(t).error(), "hardlink target '" + std::string(hl) + "'");
    if (t->path.empty()) return fail_msg("hardlink to the root directory");
    ASSIGN_OR_RETURN(UniqueFd tdir, parents_.find(t->parent));
    // Flags 0: a symlink target is linked itself, never followed.
    TRY(create_excl([&] { return ::linkat(tdir.get(), t->base.c_str(), pfd, name, 0); }, repl,
                    ("hardlink to '" + t->path + "'").c_str()));
    return 0;
  }
  mode_t type = archive_entry_filetype(e);
  switch (type) {
  case AE_IFREG: {
    int fd = -1;
    TRY(create_excl(
        [&] {
          fd = ::openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
          return fd < 0 ? -1 : 0;
        },
        repl, "create"));
    UniqueFd f(fd);
    ASSIGN_OR_RETURN(uint64_t bytes, write_data(f.get(), archive_entry_size(e)));
    TRY(metadata(e, f.get(), pfd, n.base, S_IFREG, true));
    return bytes;
  }
  case AE_IFDIR: {
    if (::mkdirat(pfd, name, 0700) < 0) {
      if (errno != EEXIST) return fail_errno("mkdir");
      bool keep = false;
      TRY(replace(pfd, n.base, true, &keep));
      if (!keep && ::mkdirat(pfd, name, 0700) < 0) return fail_errno("mkdir");
    }
    UniqueFd d(::openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) return fail_errno("open the directory");
    TRY(metadata(e, d.get(), pfd, n.base, S_IFDIR, false));
    // Its mtime once its content is written (settle_dirs).
    Pending p{n.path, {}};
    entry_times(e, p.times);
    open_dirs_.push_back(std::move(p));
    return 0;
  }
  case AE_IFLNK: {
    const char *target = archive_entry_symlink(e);
    if (!target) target = archive_entry_symlink_utf8(e);
    if (!target) return fail_msg("symlink without a target");
    // Stored as given: it is resolved inside the container, later.
    TRY(create_excl([&] { return ::symlinkat(target, pfd, name); }, repl, "create symlink"));
    TRY(metadata(e, -1, pfd, n.base, S_IFLNK, true));
    return 0;
  }
  case AE_IFCHR:
  case AE_IFBLK:
  case AE_IFIFO: {
    dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
    TRY(create_excl([&] { return ::mknodat(pfd, name, type | 0600, dev); }, repl,
                    type == AE_IFIFO ? "create fifo" : "create device node"));
    TRY(metadata(e, -1, pfd, n.base, type, true));
    return 0;
  }
  case AE_IFSOCK: return 0; // a socket is nothing without its process (docker skips them too)
  default: return fail_msg("unsupported entry type " + std::to_string(type));
  }
}

Result<uint64_t> EntryWriter::write_data(int fd, int64_t size) {
  uint64_t written = 0;
  int64_t end = 0;
  for (;;) {
    const void *buf;
    size_t len;
    la_int64_t off;
    int r = archive_read_data_block(a_, &buf, &len, &off);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return fail_msg(std::string("read data: ") + archive_error_string(a_));
    // Blocks come with their offsets: a sparse file's holes are skipped
    // (never written), so they stay holes.
    const char *p = static_cast<const char *>(buf);
    while (len > 0) {
      ssize_t w = ::pwrite(fd, p, len, off);
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail_errno("write data");
      }
      p += w;
      len -= size_t(w);
      off += w;
      written += uint64_t(w);
    }
    end = std::max<int64_t>(end, off);
  }
  if (end != size && ::ftruncate(fd, size) < 0) return fail_errno("set the size of a sparse file");
  return written;
}

Result<> EntryWriter::metadata(struct archive_entry *e, int fd, int pfd, const std::string &name, mode_t type,
                               bool times) {
  fsops::Target t{fd, pfd, name.c_str(), type};
  la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  if (uid < 0 || uid >= 0xffffffffll || gid < 0 || gid >= 0xffffffffll)
    return fail_msg("invalid owner " + std::to_string(uid) + ":" + std::to_string(gid));
  // chown first: it clears setuid/setgid and security.capability.
  TRY(fsops::set_owner(t, uid_t(uid), gid_t(gid)));
  TRY(fsops::set_mode(t, archive_entry_perm(e) & 07777));
  archive_entry_xattr_reset(e);
  const char *key;
  const void *value;
  size_t size;
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    // A pax record with an empty value deletes the key (POSIX); docker,
    // containerd and umoci (Go's archive/tar) read it so, and so does berth.
    if (fsops::is_overlay_xattr(key) || size == 0) continue;
    TRY(fsops::set_xattr(t, key, value, size));
  }
  if (times) {
    struct timespec ts[2];
    entry_times(e, ts);
    TRY(fsops::set_times(t, ts));
  }
  return {};
}

Result<> EntryWriter::settle_dirs(const std::string &parent) {
  while (!open_dirs_.empty() && !is_within(parent, open_dirs_.back().path)) {
    TRY(apply_times(open_dirs_.back()));
    open_dirs_.pop_back();
  }
  return {};
}

Result<> EntryWriter::apply_times(const Pending &p) {
  // Resolved again, following no symlink: a later entry may have replaced it.
  int fd = sys::openat2(root_, p.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                        RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return {};
    return fail_errno("open directory '" + p.path + "' to set its times");
  }
  UniqueFd d(fd);
  if (::futimens(d.get(), p.times) < 0) return fail_errno("set times of directory '" + p.path + "'");
  return {};
}

Result<> EntryWriter::finish() {
  while (!open_dirs_.empty()) {
    TRY(apply_times(open_dirs_.back()));
    open_dirs_.pop_back();
  }
  return {};
}

} // namespace berth::image::detail
