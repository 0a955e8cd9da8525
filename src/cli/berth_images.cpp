#include "cli/berth_images.hpp"

#include "cli/berth_common.hpp"
#include "cli/format.hpp"
#include "common/file.hpp"
#include "image/archive.hpp"
#include "image/bundle.hpp"
#include "image/gc.hpp"
#include "image/images.hpp"
#include "image/import.hpp"
#include "image/snapshots.hpp"
#include "oci/reference.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <set>

namespace berth::cli {
namespace {

using json = nlohmann::json;
using namespace berth::image;

// "docker.io/library/busybox:latest" -> {"busybox", "latest"}.
std::pair<std::string, std::string> repo_tag(const std::string &name) {
  auto r = oci::Reference::parse(name);
  if (!r) return {name, "<none>"};
  return {r->familiar_name(), r->tag.empty() ? "<none>" : r->tag};
}

uint64_t image_size(const Store &s, const Image &img) {
  uint64_t total = 0;
  for (size_t i = 0; i < img.config.diff_ids.size(); ++i) {
    auto info = snapshot_info(s, img.config.diff_ids[i]);
    total += info.size ? info.size : uint64_t(std::max<int64_t>(0, img.manifest.layers[i].size));
  }
  return total;
}

// The normalised name of a user-given reference, or an error naming it.
Result<std::string> full_name(const std::string &s, bool default_tag = true) {
  ASSIGN_OR_RETURN(auto r, oci::Reference::parse(s, default_tag));
  return r.str();
}

std::string id_text(const oci::Digest &d, bool no_trunc) { return no_trunc ? d.str() : short_id(d); }

// The store's entry for exactly this name (normalised), if there is one:
// found without reading the image, whatever its platform or state.
Result<std::optional<NamedImage>> named_entry(const Store &s, const std::string &name) {
  auto full = full_name(name);
  if (!full) return std::optional<NamedImage>();
  ASSIGN_OR_RETURN(auto entries, s.names());
  for (auto &e : entries)
    if (e.name == *full) return std::optional<NamedImage>(e);
  return std::optional<NamedImage>();
}


} // namespace

void ImageCommands::add_to(Parser &p, bool top) {
  auto fmt = [&](Command &c) -> Command & {
    return c.flag("--format FORMAT", "output: table, json, or a Go template ({{.ID}})", format);
  };
  auto ls_flags = [&](Command &c) -> Command & {
    return fmt(c).flag("-q,--quiet", "print image ids only", quiet)
        .flag("-a,--all", "all images (there are no intermediate ones: the same list)", all)
        .flag("--digests", "show digests", digests)
        .flag("--no-trunc", "do not truncate ids", no_trunc)
        .list("-f,--filter FILTER", "dangling=true|false, reference=PATTERN", filters)
        .arg("REPOSITORY[:TAG]", arg1, false);
  };
  run_[&ls_flags(p.add(top ? "images" : "ls", "list images"))] = Op::ls;
  if (!top) {
    run_[&ls_flags(p.add("list", "list images (ls)"))] = Op::ls;
    auto &inspect = fmt(p.add("inspect", "show images' details as JSON"))
                        .flag("--platform PLATFORM", "os/arch[/variant] of a multi-platform image", platform)
                        .many_args("IMAGE", args);
    run_[&inspect] = Op::inspect;
    auto &prune = p.add("prune", "remove untagged images, unused blobs and snapshots")
                      .flag("-a,--all", "remove every image no bundle uses", all)
                      .flag("-f,--force", "do not ask (berth never asks)", force);
    run_[&prune] = Op::prune;
  }
  auto &rm = p.add(top ? "rmi" : "rm", "remove images (untag; delete when no name is left)")
                 .flag("-f,--force", "remove an image a bundle uses, or with several names by id", force)
                 .flag("--no-prune", "keep the blobs and snapshots (image prune removes them later)", no_prune)
                 .many_args("IMAGE", args);
  run_[&rm] = Op::rm;
  auto &tag = p.add("tag", "give an image another name").arg("SOURCE", arg1).arg("TARGET", arg2);
  run_[&tag] = Op::tag;
  auto &save = p.add("save", "write images to a tar archive (docker-archive: also an OCI layout)")
                   .flag("-o,--output FILE", "write to FILE (default: standard output)", output)
                   .flag("--format FORMAT", "docker-archive or oci-archive", save_format,
                         {"docker-archive", "oci-archive"})
                   .many_args("IMAGE", args);
  run_[&save] = Op::save;
  auto &load = p.add("load", "load images from a tar archive (docker-archive or oci-archive)")
                   .flag("-i,--input FILE", "read from FILE (default: standard input)", input)
                   .flag("-q,--quiet", "print nothing", quiet);
  run_[&load] = Op::load;
  auto &imp = p.add("import", "make an image of a root filesystem (tar, compressed or not, or a directory)")
                  .list("-c,--change INSTRUCTION", "apply a Dockerfile instruction (CMD, ENV, ...)", changes)
                  .flag("-m,--message TEXT", "the history entry's comment", message)
                  .flag("--platform PLATFORM", "os/arch[/variant] to record (default: this machine's)", platform)
                  .arg("FILE|DIR|-", arg1)
                  .arg("REPOSITORY[:TAG]", arg2, false);
  run_[&imp] = Op::import;
  auto &hist = fmt(p.add("history", "show the history of an image"))
                   .flag("-H,--human", "human sizes and dates (default true)", human)
                   .flag("--no-trunc", "do not truncate", no_trunc)
                   .flag("-q,--quiet", "print image ids only", quiet)
                   .arg("IMAGE", arg1);
  run_[&hist] = Op::history;
  if (top) {
    auto &bundle = p.add("bundle", "write an OCI runtime bundle of an image (berth-runtime run --bundle DIR)")
                       .flag("--copy", "copy the layers into DIR/rootfs instead of mounting an overlay", copy)
                       .flag("--platform PLATFORM", "os/arch[/variant] of a multi-platform image", platform)
                       .flag("--remove", "unmount and remove the bundle DIR (berth bundle --remove DIR)", remove)
                       .arg("IMAGE", arg1)
                       .arg("DIR", arg2, false);
    run_[&bundle] = Op::bundle;
  }
}

int ImageCommands::run(const Command *c, const std::string &root) {
  auto store = Store::open(root);
  if (!store) return report(store.error());
  const Store &s = *store;
  auto plat = platform_of(platform);
  if (!plat) return report(plat.error());
  std::time_t now = std::time(nullptr);

  switch (run_.at(c)) {
  case Op::ls: {
    auto images = list_images(s, *plat);
    if (!images) return report(images.error());
    std::optional<bool> dangling;
    std::vector<std::string> patterns;
    for (auto &f : filters) {
      if (f == "dangling=true") dangling = true;
      else if (f == "dangling=false") dangling = false;
      else if (f.starts_with("reference=")) patterns.push_back(f.substr(10));
      else return report(Error::msg("--filter " + f + ": unknown filter (dangling=true|false, reference=PATTERN)"));
    }
    std::optional<oci::Reference> want;
    if (!arg1.empty()) {
      auto r = oci::Reference::parse(arg1, false);
      if (!r) return report(r.error().with("images"));
      want = *r;
    }
    std::vector<json> rows;
    std::set<std::string> ids;
    for (auto &img : *images) {
      std::vector<std::string> names = img.names;
      if (names.empty()) names.push_back("");
      for (auto &n : names) {
        if (dangling && *dangling != n.empty()) continue;
        auto [repo, t] = n.empty() ? std::pair<std::string, std::string>{"<none>", "<none>"} : repo_tag(n);
        if (want) {
          auto r = oci::Reference::parse(n);
          if (!r || r->name() != want->name() || (!want->tag.empty() && r->tag != want->tag)) continue;
        }
        bool match = patterns.empty();
        for (auto &pat : patterns)
          match = match || fnmatch(pat.c_str(), (repo + ":" + t).c_str(), 0) == 0 ||
                  fnmatch(pat.c_str(), repo.c_str(), 0) == 0;
        if (!match) continue;
        if (quiet) {
          if (ids.insert(img.id().str()).second) std::printf("%s\n", id_text(img.id(), no_trunc).c_str());
          continue;
        }
        std::time_t created = parse_rfc3339(img.config.created);
        uint64_t size = img.problem.empty() ? image_size(s, img) : 0;
        std::string digest = img.target.digest.str();
        rows.push_back({{"Repository", repo},
                        {"Tag", t},
                        {"ID", id_text(img.id(), no_trunc)},
                        {"Digest", digest},
                        {"CreatedAt", img.config.created},
                        {"CreatedSince", human_since(created, now)},
                        {"Size", img.problem.empty() ? human_size(size) : "N/A"},
                        {"VirtualSize", img.problem.empty() ? human_size(size) : "N/A"},
                        {"Containers", "N/A"},
                        {"SharedSize", "N/A"},
                        {"UniqueSize", "N/A"}});
      }
    }
    if (quiet) return 0;
    std::string table = digests ? "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                                : "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
    json headers = {{"Repository", "REPOSITORY"}, {"Tag", "TAG"},       {"ID", "IMAGE ID"},
                    {"Digest", "DIGEST"},         {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"},
                    {"Size", "SIZE"}};
    auto r = print_rows(rows, format, table, headers);
    return r ? 0 : report(r.error());
  }

  case Op::inspect: {
    if (args.empty()) return report(Error::msg("image inspect: give at least one IMAGE"));
    json out = json::array();
    int status = 0;
    for (auto &a : args) {
      auto img = find_image(s, a, *plat);
      if (!img) {
        status = report(img.error());
        continue;
      }
      json tags = json::array(), digests = json::array();
      for (auto &n : img->names)
        if (n.find('@') == std::string::npos) tags.push_back(familiar(n));
      for (auto &d : img->repo_digests) digests.push_back(familiar(d));
      json layers = json::array();
      for (auto &d : img->config.diff_ids) layers.push_back(d.str());
      const json &raw = img->config.raw;
      json cfg = raw.contains("config") && raw["config"].is_object() ? raw["config"] : json::object();
      json o = {{"Id", img->id().str()},
                {"RepoTags", tags},
                {"RepoDigests", digests},
                {"Parent", ""},
                {"Comment", img->config.history.empty() ? "" : img->config.history.back().comment},
                {"Created", img->config.created},
                {"Author", img->config.author},
                {"Config", cfg},
                {"Architecture", img->config.architecture},
                {"Os", img->config.os},
                {"Size", image_size(s, *img)},
                {"RootFS", {{"Type", "layers"}, {"Layers", layers}}},
                {"Metadata", {{"LastTagTime", img->stored}}},
                {"Descriptor", oci::to_json(img->target)},
                {"ManifestDigest", img->manifest_digest.str()}};
      if (!img->config.variant.empty()) o["Variant"] = img->config.variant;
      if (format.empty() || format == "json") {
        out.push_back(std::move(o));
      } else {
        auto line = render(format, o);
        if (!line) return report(line.error());
        std::printf("%s\n", line->c_str());
      }
    }
    if (format.empty() || format == "json") std::printf("%s\n", out.dump(4).c_str());
    return status;
  }

  case Op::tag: {
    auto target = full_name(arg2);
    if (!target) return report(target.error().with("tag"));
    if (oci::Reference::parse(*target)->digest)
      return report(Error::msg("tag " + arg2 + ": a tag cannot name a digest"));
    auto lock = s.lock_shared(); // gc must not sweep the image meanwhile
    if (!lock) return report(lock.error());
    // By name: any target, of any platform; else by id.
    auto entry = named_entry(s, arg1);
    if (!entry) return report(entry.error());
    oci::Descriptor source;
    if (*entry) {
      source = (*entry)->target;
    } else {
      auto img = find_image(s, arg1, *plat);
      if (!img) return report(img.error().with("tag"));
      source = img->target;
    }
    std::string t = *target;
    auto r = s.set_names(std::span(&t, 1), source);
    return r ? 0 : report(r.error().with("tag"));
  }

  case Op::rm: {
    if (args.empty()) return report(Error::msg("rmi: give at least one IMAGE"));
    auto bundles = list_bundles(s);
    if (!bundles) return report(bundles.error());
    int status = 0;
    bool removed_any = false;
    for (auto &a : args) {
      // By name: untag that name (an image of any platform, or one whose
      // blobs are damaged). By id: every name (with -f if several).
      oci::Descriptor target;
      std::vector<std::string> untag, names;
      std::optional<oci::Digest> id;
      auto entry = named_entry(s, a);
      if (!entry) return report(entry.error());
      auto all_names = s.names();
      if (!all_names) return report(all_names.error());
      if (*entry) {
        target = (*entry)->target;
        untag.push_back((*entry)->name);
        if (auto img = load_image(s, target, *plat)) id = img->id();
      } else {
        auto img = find_image(s, a, *plat);
        if (!img) {
          status = report(img.error());
          continue;
        }
        target = img->target;
        id = img->id();
        untag = img->names;
        if (untag.size() > 1 && !force) {
          status = report(Error::msg("rmi " + a + ": image " + short_id(*id) +
                                     " has several names; remove them one by one, or use -f"));
          continue;
        }
      }
      for (auto &n : *all_names)
        if (n.target.digest == target.digest && !n.name.empty()) names.push_back(n.name);
      bool last = untag.size() >= names.size();
      if (last && !force && id) {
        bool used = false;
        for (auto &b : *bundles) used = used || b.image == *id;
        if (used) {
          status = report(Error::msg("rmi " + a + ": image " + short_id(*id) +
                                     " is used by a bundle (berth bundle --remove DIR first, or use -f)"));
          continue;
        }
      }
      auto r = s.remove_names(untag);
      if (!r) return report(r.error());
      for (auto &n : untag) std::printf("Untagged: %s\n", familiar(n).c_str());
      if (last) {
        auto t = s.remove_target(target.digest);
        if (!t) return report(t.error());
        if (*t) {
          std::printf("Deleted: %s\n", (id ? *id : target.digest).str().c_str());
          removed_any = true;
        }
      }
    }
    if (removed_any && !no_prune) {
      auto g = collect_garbage(s);
      if (!g) return report(g.error());
    }
    return status;
  }

  case Op::prune: {
    auto r = prune_images(s, all);
    if (!r) return report(r.error());
    if (!r->removed.empty()) {
      std::printf("Deleted Images:\n");
      for (auto &id : r->removed) std::printf("deleted: %s\n", id.c_str());
      std::printf("\n");
    }
    std::printf("Total reclaimed space: %s\n", human_size(r->gc.bytes).c_str());
    return 0;
  }

  case Op::save: {
    if (args.empty()) return report(Error::msg("save: give at least one IMAGE"));
    std::vector<SaveItem> items;
    for (auto &a : args) {
      auto img = find_image(s, a, *plat);
      if (!img) return report(img.error().with("save"));
      SaveItem item{*img, {}};
      auto by_name = full_name(a);
      if (by_name && std::find(img->names.begin(), img->names.end(), *by_name) != img->names.end())
        item.names.push_back(*by_name);
      else
        item.names = img->names;
      items.push_back(std::move(item));
    }
    auto fmt = save_format == "oci-archive" ? ArchiveFormat::oci : ArchiveFormat::docker;
    if (output.empty()) {
      if (::isatty(1)) return report(Error::msg("save: refusing to write an archive to a terminal; use -o FILE or redirect"));
      auto r = save_archive(s, items, fmt, 1, "standard output");
      return r ? 0 : report(r.error().with("save"));
    }
    // Into a temp file beside it, renamed when complete: no half archive.
    std::string tmp = output + ".berth-tmp" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return report(Error::last("save: create " + tmp));
    UniqueFd out(fd);
    auto r = save_archive(s, items, fmt, out.get(), output);
    if (r && ::fsync(out.get()) < 0) r = fail_errno("save: fsync " + tmp);
    if (r && ::rename(tmp.c_str(), output.c_str()) < 0) r = fail_errno("save: rename " + tmp + " to " + output);
    if (!r) {
      ::unlink(tmp.c_str());
      return report(r.error().with("save"));
    }
    return 0;
  }

  case Op::load: {
    UniqueFd in;
    std::string what = "standard input";
    if (!input.empty()) {
      int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return report(Error::last("load: open " + input));
      in.reset(fd);
      what = input;
    } else if (::isatty(0)) {
      return report(Error::msg("load: standard input is a terminal; use -i FILE or redirect an archive"));
    }
    auto r = load_archive(s, in ? in.get() : 0, "load " + what);
    if (!r) return report(r.error());
    if (!quiet) {
      for (auto &n : r->names) std::printf("Loaded image: %s\n", familiar(n).c_str());
      for (auto &id : r->untagged) std::printf("Loaded image ID: %s\n", id.str().c_str());
    }
    return 0;
  }

  case Op::import: {
    ImportOptions o;
    o.changes = changes;
    o.message = message;
    o.platform = *plat;
    if (!arg2.empty()) {
      auto n = full_name(arg2);
      if (!n) return report(n.error().with("import"));
      o.names.push_back(*n);
    }
    Result<oci::Digest> id = fail_msg("");
    struct stat st;
    if (arg1 == "-") {
      id = import_tar(s, 0, "standard input", o);
    } else if (::stat(arg1.c_str(), &st) < 0) {
      return report(Error::last("import: " + arg1));
    } else if (S_ISDIR(st.st_mode)) {
      id = import_dir(s, arg1, o);
    } else {
      int fd = ::open(arg1.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return report(Error::last("import: open " + arg1));
      UniqueFd in(fd);
      id = import_tar(s, in.get(), arg1, o);
    }
    if (!id) return report(id.error().with("import " + arg1));
    std::printf("%s\n", id->str().c_str());
    return 0;
  }

  case Op::history: {
    auto img = find_image(s, arg1, *plat);
    if (!img) return report(img.error());
    std::vector<json> rows;
    size_t layer = img->config.diff_ids.size();
    auto &h = img->config.history;
    for (size_t i = h.size(); i-- > 0;) {
      uint64_t size = 0;
      if (!h[i].empty_layer && layer > 0) {
        --layer;
        auto info = snapshot_info(s, img->config.diff_ids[layer]);
        size = info.size ? info.size : uint64_t(img->manifest.layers[layer].size);
      }
      std::string id = i + 1 == h.size() ? id_text(img->id(), no_trunc) : "<missing>";
      if (quiet) {
        std::printf("%s\n", id.c_str());
        continue;
      }
      std::string by = h[i].created_by;
      if (!no_trunc && by.size() > 45) by = by.substr(0, 44) + "…";
      std::time_t created = parse_rfc3339(h[i].created);
      rows.push_back({{"ID", id},
                      {"CreatedAt", h[i].created},
                      {"CreatedSince", human ? human_since(created, now) : h[i].created},
                      {"CreatedBy", by},
                      {"Size", human ? human_size(size) : std::to_string(size)},
                      {"Comment", h[i].comment}});
    }
    if (quiet) return 0;
    json headers = {{"ID", "IMAGE"}, {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"},
                    {"CreatedBy", "CREATED BY"}, {"Size", "SIZE"}, {"Comment", "COMMENT"}};
    auto r = print_rows(rows, format, "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", headers);
    return r ? 0 : report(r.error());
  }

  case Op::bundle: {
    if (remove) {
      if (!arg2.empty()) return report(Error::msg("bundle --remove takes one argument, the bundle DIR"));
      auto r = remove_bundle(s, arg1);
      return r ? 0 : report(r.error());
    }
    if (arg2.empty()) return report(Error::msg("bundle: missing argument DIR (berth bundle IMAGE DIR)"));
    auto img = find_image(s, arg1, *plat);
    if (!img) return report(img.error().with("bundle"));
    auto r = make_bundle(s, *img, arg2, copy);
    if (!r) return report(r.error());
    if (!copy && !r->overlay) std::fprintf(stderr, "berth: bundle %s: copied the layers (%s)\n", arg2.c_str(), r->why_copy.c_str());
    return 0;
  }
  }
  return 1;
}

} // namespace berth::cli
