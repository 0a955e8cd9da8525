// load: stage every file of the archive under ingest/, hashed as it is
// written; check the images it describes against what was staged; unpack
// their layers from the staged files; then move the blobs into the store and
// name the images. Any failure before the naming leaves the store as it was.
#include "image/archive.hpp"

#include "common/file.hpp"
#include "common/parallel.hpp"
#include "common/strings.hpp"
#include "image/snapshots.hpp"
#include "oci/reference.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <set>

namespace berth::image {
namespace {

using json = nlohmann::json;

struct Staged {
  std::string file; // under the staging dir
  oci::Digest digest;
  uint64_t size = 0;
};

// "./a//b" -> "a/b"
std::string clean(std::string_view p) {
  std::string out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view c = p.substr(i, j - i);
    if (!c.empty() && c != ".") {
      if (!out.empty()) out += '/';
      out += c;
    }
    i = j + 1;
  }
  return out;
}

// The archive path a symlink in dir pointing at target names ("a", "../b/x"
// -> "b/x"); ".." stops at the top.
std::string resolve_link(const std::string &dir, std::string_view target) {
  std::vector<std::string> parts;
  const std::string path = clean(dir) + "/" + std::string(target); // split's views point into it
  for (auto c : split(path, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.emplace_back(c);
    }
  }
  std::string out;
  for (auto &p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

struct Staging {
  const Store &s;
  std::string what;
  std::string dir; // relative to the store root: ingest/load-XXXXXX
  UniqueFd dirfd;
  std::map<std::string, Staged> files;
  std::map<std::string, std::string> links; // symlinks of old docker archives
  std::map<std::string, std::string> docs;  // manifest.json, index.json, repositories

  ~Staging() {
    if (!dir.empty()) (void)remove_tree(path_join(s.root(), dir));
  }

  Result<> open_dir() {
    std::string full = path_join(s.root(), "ingest/load-XXXXXX");
    if (!::mkdtemp(full.data())) return fail_errno(what + ": create a staging dir in " + s.root() + "/ingest");
    dir = full.substr(s.root().size() + 1);
    ASSIGN_OR_RETURN(dirfd, open_file(full, O_RDONLY | O_DIRECTORY));
    return {};
  }

  const Staged *find(std::string path) const {
    for (int hops = 0; hops < 16; ++hops) {
      if (auto f = files.find(path); f != files.end()) return &f->second;
      auto l = links.find(path);
      if (l == links.end()) return nullptr;
      path = l->second;
    }
    return nullptr;
  }

  Result<UniqueFd> open(const Staged &f) const { return open_at(dirfd.get(), f.file, O_RDONLY); }

  Result<std::string> read(const Staged &f, size_t max, const std::string &name) const {
    ASSIGN_OR_RETURN(UniqueFd fd, open(f));
    return read_regular(fd.get(), what + ": " + name, max);
  }
};

Result<> stage_archive(Staging &st, int fd, const LoadLimits &limits) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_zstd(a.get());
  if (archive_read_open_fd(a.get(), fd, 256 << 10) != ARCHIVE_OK)
    return fail_msg(st.what + ": not a tar archive: " + archive_error_string(a.get()));
  std::vector<char> buf(256 << 10);
  uint64_t count = 0;
  for (;;) {
    archive_entry *e;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return fail_msg(st.what + ": read the archive: " + archive_error_string(a.get()));
    if (++count > limits.max_files)
      return fail_msg(st.what + ": more than " + std::to_string(limits.max_files) + " entries");
    const char *raw = archive_entry_pathname(e);
    std::string name = clean(raw ? raw : "");
    auto type = archive_entry_filetype(e);
    if (type == AE_IFLNK) {
      const char *t = archive_entry_symlink(e);
      std::string base = name.rfind('/') == std::string::npos ? "" : name.substr(0, name.rfind('/'));
      std::string target = t ? resolve_link(t[0] == '/' ? "" : base, t) : "";
      st.links[name] = target;
      continue;
    }
    if (archive_entry_hardlink(e)) {
      st.links[name] = clean(archive_entry_hardlink(e));
      continue;
    }
    if (type != AE_IFREG) continue;
    bool doc = name == "manifest.json" || name == "index.json" || name == "repositories" || name == "oci-layout";
    if (doc) {
      std::string text;
      for (;;) {
        la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n < 0) return fail_msg(st.what + ": read " + name + ": " + archive_error_string(a.get()));
        if (n == 0) break;
        text.append(buf.data(), size_t(n));
        if (text.size() > limits.max_document)
          return fail_msg(st.what + ": " + name + " is larger than " + std::to_string(limits.max_document) + " bytes");
      }
      st.docs[name] = std::move(text);
      continue;
    }
    // A blob of an OCI layout names its digest: hash with that algorithm.
    std::optional<oci::Digest> named;
    if (name.starts_with("blobs/")) {
      std::string_view rest = std::string_view(name).substr(6);
      auto slash = rest.find('/');
      if (slash != std::string_view::npos) {
        auto d = oci::Digest::parse(std::string(rest.substr(0, slash)) + ":" + std::string(rest.substr(slash + 1)));
        if (d) named = *d;
      }
    }
    Staged f{"f" + std::to_string(count), {}, 0};
    ASSIGN_OR_RETURN(UniqueFd out, open_at(st.dirfd.get(), f.file, O_WRONLY | O_CREAT | O_EXCL, 0644));
    oci::Hasher h(named ? named->algo : oci::DigestAlgo::sha256);
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) return fail_msg(st.what + ": read " + name + ": " + archive_error_string(a.get()));
      if (n == 0) break;
      h.update(buf.data(), size_t(n));
      f.size += uint64_t(n);
      TRY(write_all(out.get(), std::string_view(buf.data(), size_t(n)), st.what + ": stage " + name));
    }
    f.digest = h.finish();
    if (named && *named != f.digest)
      return fail_msg(st.what + ": " + name + ": content does not match its name (it hashes to " + f.digest.str() + ")");
    st.files[name] = std::move(f);
  }
  return {};
}

// One image the archive describes, checked, ready to be stored.
struct Planned {
  oci::Descriptor target;          // manifest or index (docker: made from manifest.json)
  std::string manifest_json;       // docker: the manifest to store
  std::vector<std::string> names;  // full references
  std::optional<oci::Manifest> run; // the manifest for this platform, to unpack
  std::vector<oci::Digest> diff_ids;
  oci::Digest id;
};

Result<std::string> full_name(const std::string &name, const std::string &what) {
  auto r = oci::Reference::parse(name);
  if (!r) return ctx(std::move(r).error(), what);
  if (r->digest) return fail_msg(what + ": '" + name + "' names a digest, which is not a tag");
  return r->str();
}

Result<oci::ImageConfig> read_config(const Staging &st, const Staged &f, const std::string &name) {
  ASSIGN_OR_RETURN(auto text, st.read(f, 16u << 20, name));
  auto c = oci::parse_image_config(text);
  if (!c) return ctx(std::move(c).error(), st.what + ": config " + name);
  return c;
}

Result<std::string> layer_media_type(const Staging &st, const Staged &f, const std::string &name) {
  ASSIGN_OR_RETURN(UniqueFd fd, st.open(f));
  unsigned char head[4] = {};
  ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
  if (n < 0) return fail_errno(st.what + ": read " + name);
  switch (oci::sniff_compression(head, size_t(n))) {
    case oci::Compression::gzip: return std::string(oci::media::oci_layer_gzip);
    case oci::Compression::zstd: return std::string(oci::media::oci_layer_zstd);
    default: return std::string(oci::media::oci_layer);
  }
}

Result<std::vector<Planned>> plan_docker(const Staging &st, const LoadLimits &) {
  auto j = json::parse(st.docs.at("manifest.json"), nullptr, false);
  std::string what = st.what + ": manifest.json";
  if (!j.is_array()) return fail_msg(what + ": expected an array of images");
  std::vector<Planned> out;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string at = what + "[" + std::to_string(i) + "]";
    auto &item = j[i];
    if (!item.is_object() || !item["Config"].is_string() || !item["Layers"].is_array())
      return fail_msg(at + ": expected an object with Config and Layers");
    std::string cname = clean(item["Config"].get<std::string>());
    const Staged *cf = st.find(cname);
    if (!cf) return fail_msg(at + ": Config " + cname + " is not in the archive");
    ASSIGN_OR_RETURN(auto config, read_config(st, *cf, cname));
    Planned p;
    oci::Manifest m;
    m.media_type = oci::media::oci_manifest;
    m.config = {std::string(oci::media::oci_config), cf->digest, int64_t(cf->size)};
    for (auto &l : item["Layers"]) {
      if (!l.is_string()) return fail_msg(at + ".Layers: expected strings");
      std::string lname = clean(l.get<std::string>());
      const Staged *lf = st.find(lname);
      if (!lf) return fail_msg(at + ": layer " + lname + " is not in the archive");
      ASSIGN_OR_RETURN(auto mt, layer_media_type(st, *lf, lname));
      m.layers.push_back({mt, lf->digest, int64_t(lf->size)});
    }
    if (m.layers.size() != config.diff_ids.size())
      return fail_msg(at + ": " + std::to_string(m.layers.size()) + " layers, but the config's rootfs.diff_ids has " +
                      std::to_string(config.diff_ids.size()));
    if (item.contains("RepoTags") && item["RepoTags"].is_array())
      for (auto &t : item["RepoTags"]) {
        if (!t.is_string()) return fail_msg(at + ".RepoTags: expected strings");
        ASSIGN_OR_RETURN(auto n, full_name(t.get<std::string>(), at + ".RepoTags"));
        p.names.push_back(n);
      }
    p.manifest_json = oci::to_json_string(m);
    p.target = {std::string(oci::media::oci_manifest), oci::digest_of(p.manifest_json), int64_t(p.manifest_json.size())};
    p.diff_ids = config.diff_ids;
    p.id = m.config.digest;
    p.run = std::move(m);
    out.push_back(std::move(p));
  }
  return out;
}

// The staged blob of a descriptor, checked against its size.
Result<const Staged *> blob_of(const Staging &st, const oci::Descriptor &d, const std::string &at) {
  const Staged *f = st.find("blobs/" + std::string(d.digest.algo_name()) + "/" + d.digest.hex);
  if (!f) return fail_msg(at + ": blob " + d.digest.str() + " is not in the archive");
  if (int64_t(f->size) != d.size)
    return fail_msg(at + ": blob " + d.digest.str() + " has " + std::to_string(f->size) + " bytes, its descriptor says " +
                    std::to_string(d.size));
  return f;
}

// Checks a manifest and what it names; returns it with its config's diff_ids.
Result<std::pair<oci::Manifest, std::vector<oci::Digest>>> check_manifest(const Staging &st, const oci::Descriptor &d,
                                                                          const std::string &at, size_t max) {
  ASSIGN_OR_RETURN(const Staged *f, blob_of(st, d, at));
  ASSIGN_OR_RETURN(auto text, st.read(*f, max, d.digest.str()));
  auto m = oci::parse_manifest(text);
  if (!m) return ctx(std::move(m).error(), at + ": manifest " + d.digest.str());
  ASSIGN_OR_RETURN(const Staged *cf, blob_of(st, m->config, at + ": config"));
  ASSIGN_OR_RETURN(auto config, read_config(st, *cf, m->config.digest.str()));
  for (auto &l : m->layers) {
    TRY(blob_of(st, l, at + ": layer"));
    TRY_CTX(oci::layer_compression(l.media_type), at + ": layer " + l.digest.str());
  }
  if (m->layers.size() != config.diff_ids.size())
    return fail_msg(at + ": manifest " + d.digest.str() + " has " + std::to_string(m->layers.size()) +
                    " layers, but its config's rootfs.diff_ids has " + std::to_string(config.diff_ids.size()));
  return std::pair{std::move(*m), config.diff_ids};
}

Result<std::vector<Planned>> plan_oci(const Staging &st, const LoadLimits &limits) {
  std::string what = st.what + ": index.json";
  auto idx = oci::parse_index(st.docs.at("index.json"));
  if (!idx) return ctx(std::move(idx).error(), what);
  std::vector<Planned> out;
  for (size_t i = 0; i < idx->manifests.size(); ++i) {
    auto &d = idx->manifests[i];
    std::string at = what + ": manifests[" + std::to_string(i) + "]";
    Planned p;
    p.target = d;
    p.target.annotations.clear();
    // docker 25+ writes the full name here and only the tag in ref.name.
    std::string name;
    if (auto it = d.annotations.find("io.containerd.image.name"); it != d.annotations.end()) name = it->second;
    else if (auto it = d.annotations.find(std::string(kRefNameAnnotation)); it != d.annotations.end()) {
      // A bare tag ("latest") names no repository: the image stays untagged.
      if (it->second.find_first_of("/:") != std::string::npos) name = it->second;
    }
    if (!name.empty()) {
      ASSIGN_OR_RETURN(auto n, full_name(name, at));
      p.names.push_back(n);
    }
    ASSIGN_OR_RETURN(const Staged *f, blob_of(st, d, at));
    ASSIGN_OR_RETURN(auto text, st.read(*f, limits.max_document, d.digest.str()));
    ASSIGN_OR_RETURN(auto kind, oci::doc_kind(text, d.media_type));
    oci::Descriptor run_desc = d;
    if (kind == oci::DocKind::index) {
      auto sub = oci::parse_index(text);
      if (!sub) return ctx(std::move(sub).error(), at + ": index " + d.digest.str());
      // Only the platforms the archive carries (skopeo copies one by default).
      oci::Index present = *sub;
      std::erase_if(present.manifests, [&](auto &m) { return !st.find("blobs/" + std::string(m.digest.algo_name()) + "/" + m.digest.hex); });
      if (present.manifests.empty()) return fail_msg(at + ": index " + d.digest.str() + " has none of its manifests in the archive");
      for (auto &m : present.manifests) TRY(check_manifest(st, m, at, limits.max_document));
      auto chosen = oci::select_platform(present, oci::host_platform());
      if (!chosen) {
        out.push_back(std::move(p)); // stored, not for this machine: nothing to unpack
        continue;
      }
      run_desc = *chosen;
    }
    ASSIGN_OR_RETURN(auto checked, check_manifest(st, run_desc, at, limits.max_document));
    p.id = checked.first.config.digest;
    p.run = std::move(checked.first);
    p.diff_ids = std::move(checked.second);
    out.push_back(std::move(p));
  }
  return out;
}

// Names from manifest.json's RepoTags for the images of an OCI layout that
// has none of its own (matched by config digest).
Result<> names_from_docker(const Staging &st, std::vector<Planned> &plan) {
  auto j = json::parse(st.docs.at("manifest.json"), nullptr, false);
  if (!j.is_array()) return {};
  for (auto &item : j) {
    if (!item.is_object() || !item["Config"].is_string() || !item["RepoTags"].is_array()) continue;
    const Staged *cf = st.find(clean(item["Config"].get<std::string>()));
    if (!cf) continue;
    for (auto &p : plan) {
      if (!p.run || !p.names.empty() || p.id != cf->digest) continue;
      for (auto &t : item["RepoTags"]) {
        if (!t.is_string()) continue;
        ASSIGN_OR_RETURN(auto n, full_name(t.get<std::string>(), st.what + ": manifest.json RepoTags"));
        p.names.push_back(n);
      }
    }
  }
  return {};
}

// Every blob a planned image reaches, by digest.
void reach(const Staging &st, const oci::Descriptor &d, std::set<std::string> &out, size_t max, int depth = 0) {
  auto *f = st.find("blobs/" + std::string(d.digest.algo_name()) + "/" + d.digest.hex);
  if (!f || depth > 8 || !out.insert(d.digest.str()).second) return;
  auto text = st.read(*f, max, d.digest.str());
  if (!text) return;
  auto kind = oci::doc_kind(*text, d.media_type);
  if (!kind) return;
  if (*kind == oci::DocKind::index) {
    if (auto idx = oci::parse_index(*text))
      for (auto &m : idx->manifests) reach(st, m, out, max, depth + 1);
  } else if (auto m = oci::parse_manifest(*text)) {
    out.insert(m->config.digest.str());
    for (auto &l : m->layers) out.insert(l.digest.str());
  }
}

} // namespace

Result<Loaded> load_archive(const Store &s, int fd, const std::string &what, const LoadLimits &limits) {
  ASSIGN_OR_RETURN(UniqueFd lock, s.lock_shared());
  Staging st{s, what, {}, {}, {}, {}, {}};
  TRY(st.open_dir());
  TRY(stage_archive(st, fd, limits));

  // An OCI layout first: docker 25+ and berth write one beside
  // manifest.json, and its manifests keep their digests.
  std::vector<Planned> plan;
  if (st.docs.count("index.json")) {
    ASSIGN_OR_RETURN(plan, plan_oci(st, limits));
    if (st.docs.count("manifest.json")) TRY(names_from_docker(st, plan));
  } else if (st.docs.count("manifest.json")) {
    ASSIGN_OR_RETURN(plan, plan_docker(st, limits));
  } else {
    return fail_msg(what + ": neither a docker archive (no manifest.json) nor an OCI layout (no index.json)");
  }
  if (plan.empty()) return fail_msg(what + ": the archive names no image");

  // Unpack every layer for this platform from the staged files, each once.
  struct Job {
    oci::Descriptor layer;
    oci::Digest diff_id;
    const Staged *file;
  };
  std::vector<Job> jobs;
  std::set<std::string> seen;
  for (auto &p : plan) {
    if (!p.run) continue;
    for (size_t i = 0; i < p.run->layers.size(); ++i) {
      auto &l = p.run->layers[i];
      if (s.has_snapshot(p.diff_ids[i]) || !seen.insert(p.diff_ids[i].hex).second) continue;
      const Staged *f = st.find("blobs/" + std::string(l.digest.algo_name()) + "/" + l.digest.hex);
      if (!f) // docker-archive: by the layer's own path
        for (auto &[name, sf] : st.files)
          if (sf.digest == l.digest) f = &sf;
      jobs.push_back({l, p.diff_ids[i], f});
    }
  }
  // A bad layer leaves nothing of itself; the good layers' snapshots of a
  // bad archive stay unnamed until gc (they may be shared with another
  // berth's load meanwhile: only gc, under the exclusive lock, removes).
  TRY(parallel_for(jobs.size(), 0, [&](size_t k) -> Result<> {
    auto &j = jobs[k];
    ASSIGN_OR_RETURN(UniqueFd bfd, st.open(*j.file));
    TRY(unpack_blob(s, j.layer, j.diff_id, bfd.get()));
    return {};
  }));

  // Into the store: the blobs the images reach, then the generated
  // manifests, then (after an fsync of blobs/) the names.
  std::set<std::string> used;
  for (auto &p : plan) {
    reach(st, p.target, used, limits.max_document);
    if (p.run) {
      used.insert(p.run->config.digest.str());
      for (auto &l : p.run->layers) used.insert(l.digest.str());
    }
  }
  for (auto &[name, f] : st.files) {
    if (!used.count(f.digest.str()) || s.has_blob(f.digest)) continue;
    std::string to = "blobs/" + std::string(f.digest.algo_name()) + "/" + f.digest.hex;
    ASSIGN_OR_RETURN(UniqueFd bfd, st.open(f));
    if (::fsync(bfd.get()) < 0) return fail_errno(what + ": fsync " + name);
    if (::renameat(st.dirfd.get(), f.file.c_str(), s.dirfd(), to.c_str()) < 0)
      return fail_errno(what + ": move " + name + " into " + s.blob_path(f.digest));
  }
  Loaded out;
  for (auto &p : plan) {
    if (!p.manifest_json.empty()) TRY(s.put_blob(p.manifest_json, oci::media::oci_manifest));
    std::vector<std::string> names = p.names;
    if (names.empty()) names.push_back("");
    TRY(s.set_names(names, p.target));
    out.names.insert(out.names.end(), p.names.begin(), p.names.end());
    out.ids.push_back(p.run ? p.id : p.target.digest);
    if (p.names.empty()) out.untagged.push_back(out.ids.back());
  }
  return out;
}

} // namespace berth::image
