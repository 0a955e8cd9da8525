#include "image/store.hpp"

#include "common/file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

namespace berth::image {
namespace {

constexpr std::string_view kLayout = R"({"imageLayoutVersion":"1.0.0"})";

Result<> mkdir_at(int dirfd, const char *name, const std::string &root) {
  if (::mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
    return fail_errno("create " + path_join(root, name));
  return {};
}

std::string random_name(std::string_view prefix) {
  static std::random_device rd;
  static const char digits[] = "0123456789abcdef";
  std::string s(prefix);
  for (int i = 0; i < 16; ++i) s += digits[rd() & 15];
  return s;
}

} // namespace

std::string default_root() {
  const char *r = std::getenv("BERTH_ROOT");
  return r && *r ? r : "/var/lib/berth";
}

Result<Store> Store::open(const std::string &root) {
  auto what = "open the image store " + root;
  TRY_CTX(mkdir_all(root, 0700), what);
  ASSIGN_OR_RETURN(UniqueFd dir, open_file(root, O_RDONLY | O_DIRECTORY));
  for (const char *d : {"blobs", "blobs/sha256", "blobs/sha512", "ingest", "snapshots", "bundles"})
    TRY_CTX(mkdir_at(dir.get(), d, root), what);
  auto layout = open_at(dir.get(), "oci-layout", O_RDONLY);
  if (layout) {
    ASSIGN_OR_RETURN(auto text, read_fd(layout->get(), path_join(root, "oci-layout"), 4096));
    if (text.find("\"imageLayoutVersion\"") == std::string::npos || text.find("\"1.") == std::string::npos)
      return fail_msg(what + ": oci-layout is not version 1.x: " + text.substr(0, 200));
  } else {
    TRY_CTX(write_file_durable(dir.get(), "oci-layout", kLayout), what);
  }
  if (::faccessat(dir.get(), "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
    // Under index.lock: another berth may be naming its first image.
    ASSIGN_OR_RETURN(UniqueFd lock, open_at(dir.get(), "index.lock", O_RDWR | O_CREAT, 0600));
    while (::flock(lock.get(), LOCK_EX) < 0)
      if (errno != EINTR) return fail_errno(what + ": lock index.lock");
    if (::faccessat(dir.get(), "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
      TRY_CTX(write_file_durable(dir.get(), "index.json", oci::to_json_string(oci::Index{})), what);
  }
  return Store(root, std::move(dir));
}

static Result<UniqueFd> lock_file(const Store &s, const char *name, int op) {
  ASSIGN_OR_RETURN(UniqueFd fd, open_at(s.dirfd(), name, O_RDWR | O_CREAT, 0600));
  while (::flock(fd.get(), op) < 0)
    if (errno != EINTR) return fail_errno("lock " + path_join(s.root(), name));
  return fd;
}

Result<UniqueFd> Store::lock_shared() const { return lock_file(*this, "lock", LOCK_SH); }
Result<UniqueFd> Store::lock_exclusive() const { return lock_file(*this, "lock", LOCK_EX); }

std::string Store::blob_path(const oci::Digest &d) const {
  return root_ + "/blobs/" + std::string(d.algo_name()) + "/" + d.hex;
}

static std::string blob_rel(const oci::Digest &d) {
  return "blobs/" + std::string(d.algo_name()) + "/" + d.hex;
}

bool Store::has_blob(const oci::Digest &d) const {
  return ::faccessat(dir_.get(), blob_rel(d).c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

Result<UniqueFd> Store::open_blob(const oci::Digest &d) const {
  int fd = ::openat(dir_.get(), blob_rel(d).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return fail_sys(ENOENT, "blob " + d.str() + " is not in the store " + root_);
    return fail_errno("open blob " + blob_path(d));
  }
  return UniqueFd(fd);
}

Result<std::string> Store::read_blob(const oci::Digest &d, size_t max) const {
  ASSIGN_OR_RETURN(UniqueFd fd, open_blob(d));
  ASSIGN_OR_RETURN(auto text, read_regular(fd.get(), "blob " + d.str(), max));
  if (oci::digest_of(text, d.algo) != d)
    return fail_msg("blob " + blob_path(d) + " is damaged: its content does not match its digest");
  return text;
}

Result<BlobWriter> Store::blob_writer(std::string what, oci::DigestAlgo algo) const {
  // O_TMPFILE: a writer killed mid-way leaves nothing behind; the file gets
  // its name only when it is complete and verified.
  int fd = ::openat(dir_.get(), "blobs", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
  std::string tmp;
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
    TRY(mkdir_at(dir_.get(), "ingest", root_));
    tmp = "ingest/" + random_name("");
    fd = ::openat(dir_.get(), tmp.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
  }
  if (fd < 0) return fail_errno("store " + what + ": create a temp file in " + root_);
  return BlobWriter(this, UniqueFd(fd), std::move(tmp), algo, std::move(what));
}

BlobWriter::BlobWriter(const Store *s, UniqueFd fd, std::string tmp, oci::DigestAlgo algo, std::string what)
    : store_(s), fd_(std::move(fd)), tmp_(std::move(tmp)), hash_(algo), what_(std::move(what)) {}

BlobWriter::~BlobWriter() {
  if (store_ && !tmp_.empty()) ::unlinkat(store_->dirfd(), tmp_.c_str(), 0);
}

Result<> BlobWriter::write(const void *data, size_t n) {
  hash_.update(data, n);
  size_ += n;
  return write_all(fd_.get(), std::string_view(static_cast<const char *>(data), n), what_);
}

Result<oci::Digest> BlobWriter::finish(const std::optional<oci::Digest> &expected,
                                       std::optional<int64_t> expected_size) {
  oci::Digest got = hash_.finish();
  if (expected_size && uint64_t(*expected_size) != size_)
    return fail_msg(what_ + ": size mismatch: expected " + std::to_string(*expected_size) + " bytes, got " +
                    std::to_string(size_));
  if (expected && *expected != got)
    return fail_msg(what_ + ": digest mismatch: expected " + expected->str() + ", got " + got.str());
  if (::fsync(fd_.get()) < 0) return fail_errno("fsync " + what_);
  digest_ = got;
  return got;
}

Result<> BlobWriter::publish() {
  std::string dest = blob_rel(*digest_);
  int dir = store_->dirfd();
  int r;
  if (tmp_.empty()) {
    r = ::linkat(AT_FDCWD, ("/proc/self/fd/" + std::to_string(fd_.get())).c_str(), dir, dest.c_str(),
                 AT_SYMLINK_FOLLOW);
  } else {
    r = ::renameat(dir, tmp_.c_str(), dir, dest.c_str());
    if (r == 0) tmp_.clear();
  }
  if (r < 0 && errno != EEXIST) return fail_errno("store " + what_ + " as " + store_->blob_path(*digest_));
  fd_.reset();
  return {};
}

Result<oci::Digest> BlobWriter::commit(const std::optional<oci::Digest> &expected,
                                       std::optional<int64_t> expected_size) {
  ASSIGN_OR_RETURN(oci::Digest d, finish(expected, expected_size));
  TRY(publish());
  return d;
}

Result<oci::Descriptor> Store::put_blob(std::string_view data, std::string_view media_type) const {
  oci::Descriptor d;
  d.media_type = media_type;
  d.size = int64_t(data.size());
  d.digest = oci::digest_of(data);
  if (has_blob(d.digest)) return d;
  ASSIGN_OR_RETURN(BlobWriter w, blob_writer(std::string(media_type) + " " + d.digest.str()));
  TRY(w.write(data.data(), data.size()));
  TRY(w.commit(d.digest));
  return d;
}

Result<> Store::sync_blobs() const {
  for (const char *d : {"blobs/sha256", "blobs/sha512"}) {
    ASSIGN_OR_RETURN(UniqueFd fd, open_at(dir_.get(), d, O_RDONLY | O_DIRECTORY));
    if (::fsync(fd.get()) < 0) return fail_errno("fsync " + path_join(root_, d));
  }
  return {};
}

std::string Store::snapshot_path(const oci::Digest &diff_id) const {
  return root_ + "/snapshots/" + diff_id.hex + "/fs";
}

bool Store::has_snapshot(const oci::Digest &diff_id) const {
  return ::faccessat(dir_.get(), ("snapshots/" + diff_id.hex + "/fs").c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

} // namespace berth::image
