#include "registry/push.hpp"

#include "common/parallel.hpp"
#include "registry/push_plan.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

namespace berth::registry {
namespace {

struct Pusher {
  const image::Store &s;
  Client &c;
  const std::string &repo;
  const PushOptions &opts;
  std::vector<std::string> sources; // repositories to mount from
  std::atomic<bool> cancel{false};  // a blob failed: the others stop

  void report(const oci::Descriptor &d, BlobStatus st, uint64_t done, std::string from = {}) const {
    if (opts.on_blob) opts.on_blob(BlobEvent{d.digest, st, done, static_cast<uint64_t>(d.size), std::move(from)});
  }

  Result<> upload(const oci::Descriptor &d) {
    ASSIGN_OR_RETURN(UniqueFd fd, s.open_blob(d.digest));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return fail_errno("stat " + s.blob_path(d.digest));
    // The manifest's size is what the registry checks the upload against.
    if (st.st_size != d.size)
      return fail_msg("the store's blob " + s.blob_path(d.digest) + " has " + std::to_string(st.st_size) +
                      " bytes, the manifest says " + std::to_string(d.size));
    uint64_t done = 0; // highest offset read: retries rewind, progress does not
    report(d, BlobStatus::uploading, 0);
    auto read_at = [&](uint64_t off, std::span<std::byte> buf) -> Result<size_t> {
      if (cancel) return fail_msg("stopped: another blob failed");
      ssize_t n;
      do n = ::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(off));
      while (n < 0 && errno == EINTR);
      if (n < 0) return fail_errno("read " + s.blob_path(d.digest));
      if (off + n > done) {
        done = off + n;
        report(d, BlobStatus::uploading, done);
      }
      return static_cast<size_t>(n);
    };
    TRY(c.put_blob(repo, d, read_at, opts.chunk));
    report(d, BlobStatus::pushed, static_cast<uint64_t>(d.size));
    return {};
  }

  Result<> blob(const oci::Descriptor &d) {
    if (cancel) return fail_msg("stopped: another blob failed");
    ASSIGN_OR_RETURN(bool has, c.has_blob(repo, d.digest));
    if (has) {
      report(d, BlobStatus::exists, static_cast<uint64_t>(d.size));
      return {};
    }
    for (auto &from : sources) {
      // A refused mount (no such blob there, no pull access to that
      // repository) is not the push's failure: the next source, or the
      // upload, which reports its own.
      auto m = c.mount_blob(repo, d.digest, from);
      if (m && *m) {
        report(d, BlobStatus::mounted, static_cast<uint64_t>(d.size), from);
        return {};
      }
    }
    return upload(d);
  }
};

std::string label(const image::Image &img) {
  if (!img.names.empty()) return img.names.front();
  return img.target.digest.str();
}

// The registry's answer for children of an index the store lacks: those it
// has need not be pushed; the rest are an error naming them.
Result<> check_absent(Client &c, const std::string &repo, const oci::Reference &dest, const PushPlan &plan,
                      const std::string &image) {
  std::string lacking;
  for (auto &d : plan.absent) {
    ASSIGN_OR_RETURN(auto there, c.head_manifest(repo, d.digest.str()));
    if (!there) lacking += (lacking.empty() ? "" : ", ") + d.digest.str();
  }
  if (lacking.empty()) return {};
  return fail_msg("the index of the image " + image + " names manifests that neither the store nor " + dest.name() +
                  " has: " + lacking + " (the image was pulled or loaded for one platform only?)");
}

} // namespace

Result<PushResult> push(const image::Store &s, Client &c, const image::Image &img, const oci::Reference &dest,
                        const PushOptions &opts) {
  // The caller names the push ("push NAME: ..."); the errors here say
  // which step failed on what (blob, repository, registry).
  auto fail_ctx = [](Error e) { return std::unexpected(std::move(e)); };
  // Shared: gc must not remove a blob while it is being read.
  auto lock = s.lock_shared();
  if (!lock) return fail_ctx(std::move(lock).error());
  const std::string &repo = dest.path;
  std::string image = label(img);

  // A digest reference names what is pushed: the image, or the platform's
  // manifest of a multi-platform image.
  oci::Descriptor target = img.target;
  if (dest.digest && *dest.digest != target.digest) {
    if (*dest.digest != img.manifest_digest)
      return fail_ctx(Error::msg("the image " + image + " is " + target.digest.str() + ", not " + dest.digest->str()));
    target = oci::Descriptor{};
    target.digest = img.manifest_digest;
    target.media_type = img.manifest.media_type;
  }

  auto plan = plan_push(s, target, image);
  if (!plan) return fail_ctx(std::move(plan).error());
  if (auto r = check_absent(c, repo, dest, *plan, image); !r) return fail_ctx(std::move(r).error());

  Pusher p{s, c, repo, opts, mount_candidates(img, dest)};
  for (auto &d : plan->blobs) p.report(d, BlobStatus::preparing, 0);
  auto blobs = parallel_for(plan->blobs.size(), opts.jobs, [&](size_t i) -> Result<> {
    auto r = p.blob(plan->blobs[i]);
    if (!r) p.cancel = true;
    return r;
  });
  if (!blobs) return fail_ctx(std::move(blobs).error());

  // Children by digest first: a registry may refuse an index naming
  // manifests it does not have.
  const Document &top = plan->documents.back();
  for (size_t i = 0; i + 1 < plan->documents.size(); ++i) {
    const Document &doc = plan->documents[i];
    if (auto r = c.put_manifest(repo, doc.digest.str(), doc); !r) return fail_ctx(std::move(r).error());
  }
  std::string reference = dest.digest ? dest.digest->str() : dest.tag;
  if (auto r = c.put_manifest(repo, reference, top); !r) return fail_ctx(std::move(r).error());

  PushResult out{top.digest, top.bytes.size()};
  // The image now says where it went: inspect's RepoDigests, and a source
  // of mounts for the next push to this registry.
  if (auto r = s.add_repo_digest(target.digest, dest.name() + "@" + out.digest.str()); !r)
    return fail_ctx(std::move(r).error().with("record the repo digest (the push itself succeeded)"));
  return out;
}

} // namespace berth::registry
