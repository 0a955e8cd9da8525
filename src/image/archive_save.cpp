// save: an OCI layout in a tar, plus docker's manifest.json for the docker
// format (what docker 25+ writes), so either kind of reader takes it.
#include "image/archive.hpp"

#include "image/tar_write.hpp"
#include "oci/reference.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <set>

namespace berth::image {

Result<> save_archive(const Store &s, const std::vector<SaveItem> &items, ArchiveFormat format, int out,
                      const std::string &what) {
  ASSIGN_OR_RETURN(UniqueFd lock, s.lock_shared());
  TarWriter tar(out, what);
  std::set<std::string> written;
  auto add_blob = [&](const oci::Digest &d) -> Result<> {
    if (!written.insert(d.str()).second) return {};
    ASSIGN_OR_RETURN(UniqueFd fd, s.open_blob(d));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return fail_errno("stat " + s.blob_path(d));
    return tar.add_file("blobs/" + std::string(d.algo_name()) + "/" + d.hex, fd.get(), uint64_t(st.st_size));
  };
  TRY(tar.add_dir("blobs"));
  TRY(tar.add_dir("blobs/sha256"));

  oci::Index index;
  nlohmann::json manifest_json = nlohmann::json::array();
  for (auto &item : items) {
    const Image &img = item.image;
    // The platform's manifest: docker saves one platform too.
    ASSIGN_OR_RETURN(auto mtext, s.read_blob(img.manifest_digest));
    TRY(add_blob(img.manifest.config.digest));
    for (auto &l : img.manifest.layers) TRY(add_blob(l.digest));
    TRY(add_blob(img.manifest_digest));

    oci::Descriptor d{std::string(oci::media::oci_manifest), img.manifest_digest, int64_t(mtext.size())};
    if (!img.manifest.media_type.empty()) d.media_type = img.manifest.media_type;
    nlohmann::json tags = nlohmann::json::array();
    auto add_entry = [&](const std::string &name) {
      oci::Descriptor e = d;
      if (!name.empty()) {
        auto ref = oci::Reference::parse(name);
        if (format == ArchiveFormat::docker) {
          e.annotations["io.containerd.image.name"] = name;
          if (ref && !ref->tag.empty()) e.annotations[std::string(kRefNameAnnotation)] = ref->tag;
        } else {
          e.annotations[std::string(kRefNameAnnotation)] = name;
        }
        if (ref && !ref->tag.empty()) tags.push_back(ref->familiar());
      }
      index.manifests.push_back(std::move(e));
    };
    if (item.names.empty()) add_entry("");
    for (auto &n : item.names) add_entry(n);
    if (format == ArchiveFormat::docker) {
      nlohmann::json layers = nlohmann::json::array();
      for (auto &l : img.manifest.layers) layers.push_back("blobs/" + std::string(l.digest.algo_name()) + "/" + l.digest.hex);
      manifest_json.push_back({{"Config", "blobs/" + std::string(img.id().algo_name()) + "/" + img.id().hex},
                               {"RepoTags", tags},
                               {"Layers", layers}});
    }
  }
  TRY(tar.add_data("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  TRY(tar.add_data("index.json", oci::to_json_string(index)));
  if (format == ArchiveFormat::docker) TRY(tar.add_data("manifest.json", manifest_json.dump()));
  return tar.close();
}

} // namespace berth::image
