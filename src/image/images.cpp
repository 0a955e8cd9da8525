#include "image/images.hpp"

#include "oci/reference.hpp"

#include <algorithm>
#include <map>

namespace berth::image {

std::string short_id(const oci::Digest &d) { return d.hex.substr(0, 12); }

Result<Image> load_image(const Store &s, const oci::Descriptor &target, const oci::Platform &platform) {
  Image img;
  img.target = target;
  ASSIGN_OR_RETURN(auto text, s.read_blob(target.digest));
  ASSIGN_OR_RETURN(auto kind, oci::doc_kind(text, target.media_type));
  std::string what = "image " + target.digest.str();
  if (kind == oci::DocKind::index) {
    auto idx = oci::parse_index(text);
    if (!idx) return ctx(std::move(idx).error(), what);
    // Only the platforms whose manifests were stored can be chosen.
    oci::Index present = *idx;
    std::erase_if(present.manifests, [&](auto &d) { return !s.has_blob(d.digest); });
    auto chosen = oci::select_platform(present, platform);
    if (!chosen) return ctx(std::move(chosen).error(), what);
    img.manifest_digest = chosen->digest;
    ASSIGN_OR_RETURN(text, s.read_blob(chosen->digest));
  } else {
    img.manifest_digest = target.digest;
  }
  auto m = oci::parse_manifest(text);
  if (!m) return ctx(std::move(m).error(), what + ": manifest " + img.manifest_digest.str());
  img.manifest = std::move(*m);
  auto ctext = s.read_blob(img.manifest.config.digest, 16u << 20);
  if (!ctext) return ctx(std::move(ctext).error(), what + ": config");
  auto c = oci::parse_image_config(*ctext);
  if (!c) return ctx(std::move(c).error(), what + ": config " + img.manifest.config.digest.str());
  img.config = std::move(*c);
  if (img.config.diff_ids.size() != img.manifest.layers.size())
    return fail_msg(what + ": the manifest has " + std::to_string(img.manifest.layers.size()) +
                    " layers but the config's rootfs.diff_ids has " + std::to_string(img.config.diff_ids.size()));
  return img;
}

namespace {

void add_unique(std::vector<std::string> &v, const std::string &s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

void add_name(Image &img, const NamedImage &e) {
  if (!e.name.empty()) img.names.push_back(e.name);
  if (e.name.find('@') != std::string::npos) add_unique(img.repo_digests, e.name);
  for (auto &d : e.repo_digests) add_unique(img.repo_digests, d);
}

} // namespace

Result<std::vector<Image>> list_images(const Store &s, const oci::Platform &platform) {
  ASSIGN_OR_RETURN(auto entries, s.names());
  std::vector<Image> out;
  std::map<std::string, size_t> by_target;
  for (auto &e : entries) {
    auto it = by_target.find(e.target.digest.str());
    if (it == by_target.end()) {
      auto img = load_image(s, e.target, platform);
      if (!img) {
        Image broken;
        broken.target = e.target;
        broken.manifest.config.digest = e.target.digest;
        broken.problem = img.error().message();
        img = std::move(broken);
      }
      it = by_target.emplace(e.target.digest.str(), out.size()).first;
      out.push_back(std::move(*img));
    }
    Image &img = out[it->second];
    add_name(img, e);
    img.stored = std::max(img.stored, e.stored);
  }
  return out;
}

Result<Image> find_image(const Store &s, std::string_view name_or_id, const oci::Platform &platform) {
  std::string want(name_or_id);
  // A name first: "busybox" is a name even though it could be an id prefix.
  // Its error (no manifest for the platform, a damaged blob) is the answer.
  if (auto ref = oci::Reference::parse(want)) {
    ASSIGN_OR_RETURN(auto entries, s.names());
    for (auto &e : entries) {
      auto r = e.name.empty() ? Result<oci::Reference>(fail_msg("")) : oci::Reference::parse(e.name);
      if (!r) continue;
      // By digest: the image's own, or the index it was pulled through.
      bool match = ref->digest ? (r->name() == ref->name() && e.target.digest == *ref->digest) ||
                                     std::count(e.repo_digests.begin(), e.repo_digests.end(), ref->str()) > 0
                               : e.name == ref->str();
      if (!match) continue;
      auto img = load_image(s, e.target, platform);
      if (!img) return ctx(std::move(img).error(), "image " + want);
      for (auto &other : entries)
        if (other.target.digest == e.target.digest) add_name(*img, other);
      img->stored = e.stored;
      return img;
    }
  }
  ASSIGN_OR_RETURN(auto images, list_images(s, platform));
  // An id: "sha256:<hex>", or a hex prefix of the config or target digest.
  std::string hex = want.starts_with("sha256:") ? want.substr(7) : want;
  bool is_hex = !hex.empty() && std::all_of(hex.begin(), hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (is_hex) {
    const Image *found = nullptr;
    for (auto &img : images) {
      if (!img.problem.empty()) continue;
      if (!img.id().hex.starts_with(hex) && !img.target.digest.hex.starts_with(hex)) continue;
      if (found && found->id() != img.id())
        return fail_msg("image id prefix '" + want + "' is ambiguous: it matches " + short_id(found->id()) +
                        " and " + short_id(img.id()));
      found = &img;
    }
    if (found) return *found;
  }
  return fail_sys(ENOENT, "no such image: " + want);
}

} // namespace berth::image
