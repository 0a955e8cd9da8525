#include "registry/push_plan.hpp"

#include <algorithm>
#include <set>

namespace berth::registry {
namespace {

// An index of indexes is legal; this deep is not sensible, and a cycle of
// digests cannot be built, but a bound costs nothing.
constexpr int kMaxDepth = 4;

struct Planner {
  const image::Store &s;
  const std::string &image;
  PushPlan plan;
  std::set<std::string> blobs_seen, docs_seen;
  std::vector<std::string> missing; // "sha256:… (the config of the manifest sha256:…)"

  void add_blob(const oci::Descriptor &d, const char *role, const oci::Digest &manifest) {
    if (!blobs_seen.insert(d.digest.str()).second) return;
    if (non_distributable(d)) return; // the registry is not given it: its urls serve it
    if (!s.has_blob(d.digest)) {
      missing.push_back(d.digest.str() + " (" + role + " of the manifest " + manifest.str() + ")");
      return;
    }
    plan.blobs.push_back(d);
  }

  Result<> add_doc(const oci::Descriptor &d, int depth) {
    if (!docs_seen.insert(d.digest.str()).second) return {};
    if (depth > kMaxDepth) return fail_msg("the index " + d.digest.str() + " is nested more than " +
                                           std::to_string(kMaxDepth) + " deep");
    Document doc;
    ASSIGN_OR_RETURN(doc.bytes, s.read_blob(d.digest, kMaxManifest));
    doc.digest = d.digest;
    ASSIGN_OR_RETURN(auto kind, oci::doc_kind(doc.bytes, d.media_type));
    // Content-Type must be the document's own mediaType when it has one
    // (the spec); the descriptor's type, else OCI's, when it has none.
    std::string declared;
    if (kind == oci::DocKind::manifest) {
      auto m = oci::parse_manifest(doc.bytes);
      if (!m) return ctx(std::move(m).error(), "manifest " + d.digest.str());
      declared = m->media_type;
      add_blob(m->config, "the config", d.digest);
      for (auto &l : m->layers) add_blob(l, "a layer", d.digest);
    } else {
      auto idx = oci::parse_index(doc.bytes);
      if (!idx) return ctx(std::move(idx).error(), "index " + d.digest.str());
      declared = idx->media_type;
      for (auto &child : idx->manifests) {
        if (s.has_blob(child.digest)) TRY(add_doc(child, depth + 1));
        else if (docs_seen.insert(child.digest.str()).second) plan.absent.push_back(child);
      }
    }
    doc.media_type = !declared.empty()   ? declared
                     : !d.media_type.empty() ? d.media_type
                     : std::string(kind == oci::DocKind::manifest ? oci::media::oci_manifest : oci::media::oci_index);
    plan.documents.push_back(std::move(doc));
    return {};
  }
};

} // namespace

bool non_distributable(const oci::Descriptor &d) {
  if (d.urls.empty()) return false;
  return d.media_type.find(".foreign.") != std::string::npos ||
         d.media_type.find(".nondistributable.") != std::string::npos;
}

Result<PushPlan> plan_push(const image::Store &s, const oci::Descriptor &target, const std::string &image) {
  Planner p{s, image, {}, {}, {}, {}};
  TRY_CTX(p.add_doc(target, 0), "read the image " + image + " from the store " + s.root());
  if (!p.missing.empty()) {
    std::string list;
    for (auto &m : p.missing) list += (list.empty() ? "" : ", ") + m;
    return fail_msg("the store " + s.root() + " lacks " + (p.missing.size() == 1 ? "a blob" : "blobs") +
                    " of the image " + image + ": " + list + " (damaged, or removed by hand?)");
  }
  return std::move(p.plan);
}

std::vector<std::string> mount_candidates(const image::Image &img, const oci::Reference &dest) {
  std::vector<std::string> out;
  auto consider = [&](const std::string &name) {
    auto r = oci::Reference::parse(name, false);
    if (!r || r->domain != dest.domain || r->path == dest.path) return;
    if (std::find(out.begin(), out.end(), r->path) == out.end()) out.push_back(r->path);
  };
  for (auto &rd : img.repo_digests) consider(rd);
  for (auto &n : img.names) consider(n);
  return out;
}

} // namespace berth::registry
