#include "image/bundle.hpp"

#include "common/file.hpp"
#include "image/flatten.hpp"
#include "image/snapshots.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdlib>
#include <cstring>

namespace berth::image {
namespace {

// The absolute, symlink-free path of dir, which may not exist yet.
Result<std::string> absolute_dir(const std::string &dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  auto slash = d.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : d.substr(0, slash));
  std::string base = slash == std::string::npos ? d : d.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") return fail_msg("bundle dir '" + dir + "': give a directory name");
  char buf[PATH_MAX];
  if (!::realpath(parent.c_str(), buf)) return fail_errno("bundle dir '" + dir + "': resolve " + parent);
  return path_join(buf, base);
}

std::string record_file(const std::string &abs_dir) { return oci::digest_of(abs_dir).hex + ".json"; }
std::string record_name(const std::string &abs_dir) { return "bundles/" + record_file(abs_dir); }

Result<BundleRecord> read_record(const Store &s, const std::string &rel) {
  ASSIGN_OR_RETURN(UniqueFd fd, open_at(s.dirfd(), rel, O_RDONLY));
  ASSIGN_OR_RETURN(auto text, read_regular(fd.get(), path_join(s.root(), rel), 1u << 20));
  auto j = nlohmann::json::parse(text, nullptr, false);
  BundleRecord r;
  auto bad = [&] { return fail_msg("bundle record " + path_join(s.root(), rel) + " is damaged"); };
  if (!j.is_object() || !j["dir"].is_string() || !j["image"].is_string() || !j["diff_ids"].is_array()) return bad();
  r.dir = j["dir"].get<std::string>();
  auto id = oci::Digest::parse(j["image"].get<std::string>());
  if (!id) return bad();
  r.image = *id;
  for (auto &d : j["diff_ids"]) {
    if (!d.is_string()) return bad();
    auto dd = oci::Digest::parse(d.get<std::string>());
    if (!dd) return bad();
    r.diff_ids.push_back(*dd);
  }
  r.overlay = j.value("overlay", false);
  return r;
}

// Removes what make_bundle made unless released.
// Empties DIR again (it was empty or made here) unless released.
struct BundleUndo {
  std::string dir;
  bool created_dir = false, mounted = false;
  bool done = false;
  mode_t given_mode = 0; // DIR existed (empty) with this mode: made again
  ~BundleUndo() {
    if (done) return;
    if (mounted) ::umount2((dir + "/rootfs").c_str(), MNT_DETACH);
    if (created_dir) (void)remove_tree(dir);
    if (given_mode) ::mkdir(dir.c_str(), given_mode);
  }
};

Result<> mount_overlay(const std::vector<std::string> &lowers, const std::string &dir) {
  std::string opts = "lowerdir=";
  for (size_t i = lowers.size(); i-- > 0;) {
    opts += lowers[i];
    if (i) opts += ':';
  }
  opts += ",upperdir=" + dir + "/.berth/upper,workdir=" + dir + "/.berth/work";
  if (opts.size() >= 4096)
    return fail_msg("the overlay mount options are longer than a page (" + std::to_string(lowers.size()) + " layers)");
  std::string target = dir + "/rootfs";
  if (::mount("overlay", target.c_str(), "overlay", 0, opts.c_str()) < 0)
    return fail_errno("mount overlay on " + target);
  return {};
}

} // namespace

Result<BundleResult> make_bundle(const Store &s, const Image &img, const std::string &dir_in, bool copy) {
  ASSIGN_OR_RETURN(std::string dir, absolute_dir(dir_in));
  std::string what = "make bundle " + dir;
  ASSIGN_OR_RETURN(UniqueFd lock, s.lock_shared());
  BundleUndo undo{dir};
  struct stat st;
  if (::lstat(dir.c_str(), &st) == 0) {
    // Only an empty dir: `bundle --remove` removes all of DIR.
    undo.done = true;
    if (!S_ISDIR(st.st_mode)) return fail_sys(ENOTDIR, what);
    ASSIGN_OR_RETURN(UniqueFd d, open_file(dir, O_RDONLY | O_DIRECTORY));
    DIR *dp = ::fdopendir(d.release());
    if (!dp) return fail_errno(what + ": read the directory");
    bool empty = true;
    while (dirent *e = ::readdir(dp))
      empty = empty && (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0);
    ::closedir(dp);
    if (!empty) return fail_sys(ENOTEMPTY, what + ": the directory must be empty or not exist");
    undo.done = false;
    undo.given_mode = st.st_mode & 07777;
  } else {
    if (::mkdir(dir.c_str(), 0711) < 0) return fail_errno(what + ": mkdir");
  }
  undo.created_dir = true;
  ASSIGN_OR_RETURN(auto lowers, ensure_snapshots(s, img));
  if (::mkdir((dir + "/rootfs").c_str(), 0755) < 0) return fail_errno(what + ": mkdir rootfs");

  BundleResult res;
  if (!copy && lowers.empty()) res.why_copy = "the image has no layers";
  if (!copy && !lowers.empty()) {
    for (const char *d : {"/.berth", "/.berth/upper", "/.berth/work"})
      if (::mkdir((dir + d).c_str(), 0700) < 0) return fail_errno(what + ": mkdir " + d);
    auto m = mount_overlay(lowers, dir);
    if (m) {
      res.overlay = true;
      undo.mounted = true;
    } else {
      res.why_copy = m.error().message();
      TRY_CTX(remove_tree(dir + "/.berth"), what);
    }
  }
  ASSIGN_OR_RETURN(UniqueFd rootfd, open_file(dir + "/rootfs", O_RDONLY | O_DIRECTORY));
  if (!res.overlay) {
    std::vector<UniqueFd> fds;
    std::vector<int> raw;
    for (auto &l : lowers) {
      ASSIGN_OR_RETURN(UniqueFd fd, open_file(l, O_RDONLY | O_DIRECTORY));
      raw.push_back(fd.get());
      fds.push_back(std::move(fd));
    }
    TRY_CTX(flatten_layers(raw, rootfd.get()), what + ": copy the layers into rootfs");
  }
  ASSIGN_OR_RETURN(auto config, bundle_config(img, rootfd.get()));
  TRY_CTX(write_path_atomic(dir + "/config.json", config, 0644), what);

  nlohmann::json rec = {{"dir", dir}, {"image", img.id().str()}, {"overlay", res.overlay}};
  rec["diff_ids"] = nlohmann::json::array();
  for (auto &d : img.config.diff_ids) rec["diff_ids"].push_back(d.str());
  ASSIGN_OR_RETURN(UniqueFd records, open_at(s.dirfd(), "bundles", O_RDONLY | O_DIRECTORY));
  TRY_CTX(write_file_durable(records.get(), record_file(dir), rec.dump(), 0600), what + ": record it in the store");
  undo.done = true;
  return res;
}

Result<> remove_bundle(const Store &s, const std::string &dir_in) {
  ASSIGN_OR_RETURN(std::string dir, absolute_dir(dir_in));
  std::string rel = record_name(dir);
  auto rec = read_record(s, rel);
  if (!rec) {
    if (rec.error().code() == ENOENT)
      return fail_sys(ENOENT, "remove bundle " + dir + ": not a bundle made by berth with the store " + s.root());
    return fail(rec.error());
  }
  std::string rootfs = dir + "/rootfs";
  if (::umount2(rootfs.c_str(), 0) < 0 && errno != EINVAL && errno != ENOENT)
    return fail_errno("remove bundle " + dir + ": unmount " + rootfs);
  TRY_CTX(remove_tree(dir), "remove bundle " + dir);
  if (::unlinkat(s.dirfd(), rel.c_str(), 0) < 0 && errno != ENOENT)
    return fail_errno("remove bundle " + dir + ": remove its record");
  return {};
}

Result<std::vector<BundleRecord>> list_bundles(const Store &s, bool strict) {
  std::vector<BundleRecord> out;
  ASSIGN_OR_RETURN(UniqueFd dfd, open_at(s.dirfd(), "bundles", O_RDONLY | O_DIRECTORY));
  DIR *d = ::fdopendir(dfd.release());
  if (!d) return fail_errno("list " + path_join(s.root(), "bundles"));
  std::vector<std::string> names;
  while (dirent *e = ::readdir(d))
    if (std::string_view(e->d_name).ends_with(".json")) names.push_back(e->d_name);
  ::closedir(d);
  for (auto &n : names) {
    auto r = read_record(s, "bundles/" + n);
    if (!r) {
      if (strict) return ctx(std::move(r).error(), "list bundles");
      continue;
    }
    if (::access((r->dir + "/config.json").c_str(), F_OK) < 0 && errno == ENOENT) {
      ::unlinkat(s.dirfd(), ("bundles/" + n).c_str(), 0); // removed by hand
      continue;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

} // namespace berth::image
