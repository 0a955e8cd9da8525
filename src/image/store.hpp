// The image store under one root (default /var/lib/berth, --root or
// BERTH_ROOT to change it). It is an OCI image layout, so skopeo and umoci
// read it as one ("oci:/var/lib/berth:docker.io/library/busybox:latest"):
//
//   oci-layout, index.json  names: one descriptor per name, the full
//                           reference in org.opencontainers.image.ref.name
//                           (none: an untagged image)
//   blobs/<algo>/<hex>      content by digest, verified while written,
//                           shared by every image that has it
//   ingest/                 blobs being written (temp files)
//   snapshots/<hex>/fs      each layer unpacked once, keyed by its diff_id,
//                           in overlayfs form; snapshots/tmp-* being unpacked
//   bundles/<hex>.json      bundles made from images (keep them in use)
//   lock, index.lock        flock(2) locks, see below
//
// Crash safety: a blob is written to ingest/, fsynced, and renamed into
// blobs/; index.json is replaced (temp, fsync, rename, fsync of the dir) only
// after every blob it names is in blobs/ and the directory is fsynced. So a
// name never points at a missing blob, whenever the writer is killed; what a
// killed writer leaves in ingest/ and snapshots/tmp-* is removed by gc().
//
// Locks: writers (load, import, pull, bundle) hold `lock` shared for their
// whole run; gc() holds it exclusive, so it never removes a blob that a
// writer has stored but not yet named. index.json is changed under
// `index.lock`, exclusive, read-modify-write.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "oci/digest.hpp"
#include "oci/image.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace berth::image {

inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
// When the name was last set (RFC 3339 UTC): inspect's Metadata.LastTagTime.
inline constexpr std::string_view kStoredAnnotation = "io.berth.image.stored";
// Where an image came from or went to: "REPO@DIGEST" of the registry's
// manifest or index (inspect's RepoDigests), comma-separated, one per
// repository; set by pull and push.
inline constexpr std::string_view kRepoDigestAnnotation = "io.berth.image.repo-digest";

// The default root: $BERTH_ROOT, else /var/lib/berth.
std::string default_root();

// Now as image configs and the index write times: "2024-05-01T10:00:00Z".
std::string now_rfc3339();

class Store;

// A blob being written: bytes in, verified digest out. Dropped without
// commit, its temp file is removed.
class BlobWriter {
 public:
  BlobWriter(BlobWriter &&) noexcept = default;
  BlobWriter &operator=(BlobWriter &&) noexcept = default;
  ~BlobWriter();
  Result<> write(const void *data, size_t n);
  // Checks the digest (and size) when expected is given and fsyncs the
  // blob: then it can be read back through fd() (import unpacks it before
  // it is stored); publish() moves it into the store (or drops it, if the
  // store has it already). commit() is both.
  Result<oci::Digest> finish(const std::optional<oci::Digest> &expected = {},
                             std::optional<int64_t> expected_size = {});
  Result<> publish();
  Result<oci::Digest> commit(const std::optional<oci::Digest> &expected = {},
                             std::optional<int64_t> expected_size = {});
  uint64_t size() const { return size_; }
  int fd() const { return fd_.get(); }

 private:
  friend class Store;
  BlobWriter(const Store *s, UniqueFd fd, std::string tmp, oci::DigestAlgo algo, std::string what);
  const Store *store_ = nullptr;
  UniqueFd fd_;
  std::string tmp_; // name under ingest/
  oci::Hasher hash_;
  std::string what_;
  uint64_t size_ = 0;
  std::optional<oci::Digest> digest_; // after finish()
};

struct NamedImage {
  std::string name;        // full reference; empty for an untagged image
  oci::Descriptor target;  // a manifest or an index
  std::string stored;      // kStoredAnnotation
  std::vector<std::string> repo_digests; // kRepoDigestAnnotation
};

struct GcStats {
  uint64_t blobs = 0, snapshots = 0, temps = 0, bytes = 0;
};

class Store {
 public:
  // Creates the layout when missing. Refuses a root that is not a directory
  // or holds an oci-layout of another version.
  static Result<Store> open(const std::string &root);

  const std::string &root() const { return root_; }
  int dirfd() const { return dir_.get(); }

  // --- locks (see above); released when the fd is dropped
  Result<UniqueFd> lock_shared() const;
  Result<UniqueFd> lock_exclusive() const;

  // --- blobs
  bool has_blob(const oci::Digest &d) const;
  Result<UniqueFd> open_blob(const oci::Digest &d) const;
  // A small document (manifest, index, config), checked against its
  // digest as it is read; refused above max bytes.
  Result<std::string> read_blob(const oci::Digest &d, size_t max = 4u << 20) const;
  Result<BlobWriter> blob_writer(std::string what, oci::DigestAlgo algo = oci::DigestAlgo::sha256) const;
  // Stores data; returns a descriptor of it with media_type.
  Result<oci::Descriptor> put_blob(std::string_view data, std::string_view media_type) const;
  // fsyncs blobs/<algo>/: call before naming what was just written.
  Result<> sync_blobs() const;
  std::string blob_path(const oci::Digest &d) const;

  // --- names (index.json)
  Result<std::vector<NamedImage>> names() const;
  // Points name (full reference, or "" to add an untagged image) at
  // target, which must be in the store; the image the name pointed at
  // before stays, untagged, if that was its last name. Several at once: one
  // rewrite. repo_digest: kRepoDigestAnnotation of the new entries (none
  // when empty: a tag does not carry where the image came from).
  Result<> set_names(std::span<const std::string> names, const oci::Descriptor &target,
                     std::string_view repo_digest = {}) const;
  // Adds "REPO@DIGEST" to every entry of target (replacing one of the same
  // repository): push records where the image went.
  Result<> add_repo_digest(const oci::Digest &target, std::string_view repo_digest) const;
  // Removes these names; false for a name that was not there.
  Result<std::vector<bool>> remove_names(std::span<const std::string> names) const;
  // Removes the untagged entry of digest, unless a name points at it
  // (given meanwhile by another berth); true if no entry of it is left.
  Result<bool> remove_target(const oci::Digest &digest) const;

  // --- snapshots
  std::string snapshot_path(const oci::Digest &diff_id) const; // .../snapshots/<hex>/fs
  bool has_snapshot(const oci::Digest &diff_id) const;

 private:
  Store(std::string root, UniqueFd dir) : root_(std::move(root)), dir_(std::move(dir)) {}
  template <class F> Result<> update_index(F &&change) const;
  std::string root_;
  UniqueFd dir_;
  friend class BlobWriter;
};

} // namespace berth::image
