// The names of the store: index.json, an OCI image index whose descriptors
// carry the full reference in org.opencontainers.image.ref.name.
#include "image/store.hpp"

#include "common/file.hpp"
#include "common/strings.hpp"

#include <sys/file.h>

#include <algorithm>
#include <ctime>

namespace berth::image {
std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

std::string ref_name(const oci::Descriptor &d) {
  auto it = d.annotations.find(std::string(kRefNameAnnotation));
  return it == d.annotations.end() ? std::string() : it->second;
}

Result<oci::Index> read_index(const Store &s) {
  ASSIGN_OR_RETURN(UniqueFd fd, open_at(s.dirfd(), "index.json", O_RDONLY));
  ASSIGN_OR_RETURN(auto text, read_regular(fd.get(), path_join(s.root(), "index.json")));
  auto idx = oci::parse_index(text);
  if (!idx) return ctx(std::move(idx).error(), "read " + path_join(s.root(), "index.json"));
  return idx;
}

} // namespace

template <class F> Result<> Store::update_index(F &&change) const {
  ASSIGN_OR_RETURN(UniqueFd fd, open_at(dir_.get(), "index.lock", O_RDWR | O_CREAT, 0600));
  while (::flock(fd.get(), LOCK_EX) < 0)
    if (errno != EINTR) return fail_errno("lock " + path_join(root_, "index.lock"));
  ASSIGN_OR_RETURN(oci::Index idx, read_index(*this));
  if (!change(idx.manifests)) return {};
  return write_file_durable(dir_.get(), "index.json", oci::to_json_string(idx));
}

Result<std::vector<NamedImage>> Store::names() const {
  ASSIGN_OR_RETURN(oci::Index idx, read_index(*this));
  std::vector<NamedImage> out;
  for (auto &d : idx.manifests) {
    NamedImage n{ref_name(d), d, {}};
    if (auto it = d.annotations.find(std::string(kStoredAnnotation)); it != d.annotations.end())
      n.stored = it->second;
    if (auto it = d.annotations.find(std::string(kRepoDigestAnnotation)); it != d.annotations.end())
      for (auto part : split(it->second, ','))
        if (!part.empty()) n.repo_digests.emplace_back(part);
    out.push_back(std::move(n));
  }
  return out;
}

Result<> Store::set_names(std::span<const std::string> names, const oci::Descriptor &target,
                          std::string_view repo_digest) const {
  // Blobs first: the name must never point at a blob a crash could lose.
  if (!has_blob(target.digest)) return fail_msg("name " + target.digest.str() + ": it is not in the store " + root_);
  TRY(sync_blobs());
  std::string stored = now_rfc3339();
  return update_index([&](std::vector<oci::Descriptor> &ds) {
    for (const auto &name : names) {
      if (name.empty()) {
        // An untagged image: one entry, kept only while no name has it.
        bool named = std::any_of(ds.begin(), ds.end(), [&](auto &d) { return d.digest == target.digest; });
        if (named) continue;
      } else {
        // The image the name leaves stays, untagged, if that was its last
        // name (docker's dangling image).
        for (auto &d : ds) {
          if (ref_name(d) != name || d.digest == target.digest) continue;
          auto other = d.digest;
          bool still_named = std::count_if(ds.begin(), ds.end(), [&](auto &x) { return x.digest == other; }) > 1;
          if (still_named) {
            d.digest.hex.clear(); // marked, erased below
          } else {
            d.annotations.erase(std::string(kRefNameAnnotation));
          }
        }
        std::erase_if(ds, [&](auto &d) { return d.digest.hex.empty() || ref_name(d) == name; });
      }
      oci::Descriptor d = target;
      d.annotations.erase(std::string(kRefNameAnnotation));
      if (!name.empty()) d.annotations[std::string(kRefNameAnnotation)] = name;
      d.annotations[std::string(kStoredAnnotation)] = stored;
      d.annotations.erase(std::string(kRepoDigestAnnotation));
      if (!repo_digest.empty()) d.annotations[std::string(kRepoDigestAnnotation)] = repo_digest;
      ds.push_back(std::move(d));
      // A name given to an untagged image replaces the untagged entry.
      if (!name.empty())
        std::erase_if(ds, [&](auto &x) { return x.digest == target.digest && ref_name(x).empty(); });
    }
    return true;
  });
}

Result<> Store::add_repo_digest(const oci::Digest &target, std::string_view repo_digest) const {
  std::string_view repo = repo_digest.substr(0, repo_digest.find('@'));
  const std::string key(kRepoDigestAnnotation);
  return update_index([&](std::vector<oci::Descriptor> &ds) {
    bool changed = false;
    for (auto &d : ds) {
      if (d.digest != target) continue;
      std::string list;
      for (auto part : split(d.annotations.count(key) ? std::string_view(d.annotations[key]) : "", ','))
        if (!part.empty() && part.substr(0, part.find('@')) != repo) list += std::string(part) + ",";
      list += repo_digest;
      changed = changed || d.annotations[key] != list;
      d.annotations[key] = list;
    }
    return changed;
  });
}

Result<std::vector<bool>> Store::remove_names(std::span<const std::string> names) const {
  std::vector<bool> found(names.size());
  TRY(update_index([&](std::vector<oci::Descriptor> &ds) {
    bool any = false;
    for (size_t i = 0; i < names.size(); ++i) {
      found[i] = std::erase_if(ds, [&](auto &d) { return ref_name(d) == names[i]; }) > 0;
      any = any || found[i];
    }
    return any;
  }));
  return found;
}

Result<bool> Store::remove_target(const oci::Digest &digest) const {
  bool removed = false;
  TRY(update_index([&](std::vector<oci::Descriptor> &ds) {
    // A name given meanwhile (tag, load) keeps the image.
    if (std::any_of(ds.begin(), ds.end(), [&](auto &d) { return d.digest == digest && !ref_name(d).empty(); }))
      return false;
    removed = true; // no entry of it is left
    return std::erase_if(ds, [&](auto &d) { return d.digest == digest; }) > 0;
  }));
  return removed;
}

} // namespace berth::image
