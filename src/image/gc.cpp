#include "image/gc.hpp"

#include "common/file.hpp"
#include "image/bundle.hpp"
#include "image/images.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <set>

namespace berth::image {
namespace {

struct Marks {
  std::set<std::string> blobs;     // "sha256:hex"
  std::set<std::string> snapshots; // diff_id hex
};

// A blob that is gone marks nothing; one that cannot be read or parsed
// stops gc, which would otherwise sweep what that image needs.
Result<std::optional<std::string>> read_for_mark(const Store &s, const oci::Digest &d, size_t max) {
  auto text = s.read_blob(d, max);
  if (text) return std::optional<std::string>(std::move(*text));
  if (text.error().code() == ENOENT) return std::optional<std::string>();
  return ctx(std::move(text).error(), "collect garbage: read " + d.str());
}

Result<> mark_manifest(const Store &s, const oci::Digest &d, Marks &m) {
  m.blobs.insert(d.str());
  ASSIGN_OR_RETURN(auto text, read_for_mark(s, d, 4u << 20));
  if (!text) return {};
  auto man = oci::parse_manifest(*text);
  if (!man) return ctx(std::move(man).error(), "collect garbage: manifest " + d.str());
  m.blobs.insert(man->config.digest.str());
  for (auto &l : man->layers) m.blobs.insert(l.digest.str());
  ASSIGN_OR_RETURN(auto ctext, read_for_mark(s, man->config.digest, 16u << 20));
  if (!ctext) return {};
  auto c = oci::parse_image_config(*ctext);
  if (!c) return ctx(std::move(c).error(), "collect garbage: config " + man->config.digest.str());
  for (auto &id : c->diff_ids) m.snapshots.insert(id.hex);
  return {};
}

Result<> mark_target(const Store &s, const oci::Descriptor &t, Marks &m, int depth = 0) {
  m.blobs.insert(t.digest.str());
  ASSIGN_OR_RETURN(auto text, read_for_mark(s, t.digest, 4u << 20));
  if (!text) return {};
  auto kind = oci::doc_kind(*text, t.media_type);
  if (!kind) return ctx(std::move(kind).error(), "collect garbage: " + t.digest.str());
  if (*kind == oci::DocKind::manifest) return mark_manifest(s, t.digest, m);
  auto idx = oci::parse_index(*text);
  if (!idx) return ctx(std::move(idx).error(), "collect garbage: index " + t.digest.str());
  if (depth > 8) return fail_msg("collect garbage: index " + t.digest.str() + " nests too deep");
  for (auto &d : idx->manifests) TRY(mark_target(s, d, m, depth + 1));
  return {};
}

// Calls f(name) for each entry of dir (relative to the store root).
template <class F> Result<> each_entry(const Store &s, const std::string &dir, F &&f) {
  int fd = ::openat(s.dirfd(), dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    return fail_errno("open " + path_join(s.root(), dir));
  }
  DIR *d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return fail_errno("open " + path_join(s.root(), dir));
  }
  std::vector<std::string> names;
  while (dirent *e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  for (auto &n : names) TRY(f(n));
  return {};
}

uint64_t size_at(const Store &s, const std::string &rel) {
  struct stat st;
  return ::fstatat(s.dirfd(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 ? uint64_t(st.st_size) : 0;
}

} // namespace

Result<GcStats> collect_garbage(const Store &s) {
  ASSIGN_OR_RETURN(UniqueFd lock, s.lock_exclusive());
  Marks m;
  ASSIGN_OR_RETURN(auto names, s.names());
  for (auto &n : names) TRY(mark_target(s, n.target, m));
  ASSIGN_OR_RETURN(auto bundles, list_bundles(s, true));
  for (auto &b : bundles)
    for (auto &id : b.diff_ids) m.snapshots.insert(id.hex);

  GcStats st;
  for (std::string algo : {"sha256", "sha512"}) {
    std::string dir = "blobs/" + algo;
    TRY(each_entry(s, dir, [&](const std::string &n) -> Result<> {
      if (m.blobs.count(algo + ":" + n)) return {};
      std::string rel = dir + "/" + n;
      uint64_t size = size_at(s, rel);
      if (::unlinkat(s.dirfd(), rel.c_str(), 0) < 0 && errno != ENOENT)
        return fail_errno("remove " + path_join(s.root(), rel));
      st.blobs++;
      st.bytes += size;
      return {};
    }));
  }
  TRY(each_entry(s, "snapshots", [&](const std::string &n) -> Result<> {
    if (m.snapshots.count(n)) return {};
    TRY(remove_tree(path_join(s.root(), "snapshots/" + n)));
    (n.starts_with("tmp-") ? st.temps : st.snapshots)++;
    return {};
  }));
  TRY(each_entry(s, "ingest", [&](const std::string &n) -> Result<> {
    TRY_CTX(remove_at(s.dirfd(), "ingest/" + n), "collect garbage in " + s.root());
    st.temps++;
    return {};
  }));
  return st;
}

Result<PruneResult> prune_images(const Store &s, bool all) {
  PruneResult r;
  ASSIGN_OR_RETURN(auto names, s.names());
  ASSIGN_OR_RETURN(auto bundles, list_bundles(s));
  std::set<std::string> in_use;
  for (auto &b : bundles) in_use.insert(b.image.str());
  std::set<std::string> named, seen;
  for (auto &n : names)
    if (!n.name.empty()) named.insert(n.target.digest.str());
  for (auto &n : names) {
    std::string t = n.target.digest.str();
    if (!all && named.count(t)) continue;
    if (!seen.insert(t).second) continue;
    auto img = load_image(s, n.target, oci::host_platform());
    if (img && in_use.count(img->id().str())) continue;
    std::vector<std::string> untag;
    for (auto &o : names)
      if (o.target.digest == n.target.digest && !o.name.empty()) untag.push_back(o.name);
    if (!untag.empty()) TRY(s.remove_names(untag));
    ASSIGN_OR_RETURN(bool removed, s.remove_target(n.target.digest));
    if (removed) r.removed.push_back(img ? img->id().str() : t);
  }
  ASSIGN_OR_RETURN(r.gc, collect_garbage(s));
  return r;
}

} // namespace berth::image
