#include "image/snapshots.hpp"

#include "common/file.hpp"
#include "common/parallel.hpp"
#include "image/stream.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <set>

namespace berth::image {
namespace {

// A temp dir under snapshots/, removed unless released.
struct TempSnapshot {
  const Store &s;
  std::string name;
  bool keep = false;
  ~TempSnapshot() {
    if (!keep && !name.empty()) (void)remove_tree(path_join(s.root(), "snapshots/" + name));
  }
};

} // namespace

SnapshotInfo snapshot_info(const Store &s, const oci::Digest &diff_id) {
  SnapshotInfo info{diff_id};
  auto fd = open_at(s.dirfd(), "snapshots/" + diff_id.hex + "/info.json", O_RDONLY);
  if (!fd) return info;
  auto text = read_regular(fd->get(), "snapshot info", 4096);
  if (!text) return info;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_object()) {
    if (auto it = j.find("size"); it != j.end() && it->is_number_unsigned()) info.size = it->get<uint64_t>();
    if (auto it = j.find("entries"); it != j.end() && it->is_number_unsigned()) info.entries = it->get<uint64_t>();
  }
  return info;
}

Result<SnapshotInfo> unpack_blob(const Store &s, const oci::Descriptor &layer,
                                 const std::optional<oci::Digest> &diff_id, int blob_fd,
                                 const UnpackLimits &limits) {
  if (diff_id && s.has_snapshot(*diff_id)) return snapshot_info(s, *diff_id);
  UniqueFd own;
  if (blob_fd < 0) {
    ASSIGN_OR_RETURN(own, s.open_blob(layer.digest));
    blob_fd = own.get();
  }
  FdSource raw(blob_fd, "layer " + layer.digest.str());
  return unpack_stream(s, layer, diff_id, raw, limits);
}

Result<SnapshotInfo> unpack_stream(const Store &s, const oci::Descriptor &layer,
                                   const std::optional<oci::Digest> &diff_id, Source &raw,
                                   const UnpackLimits &limits) {
  std::string what = "layer " + layer.digest.str();
  ASSIGN_OR_RETURN(auto compression, oci::layer_compression(layer.media_type));

  char tmpl[] = "tmp-XXXXXX";
  TempSnapshot tmp{s, {}};
  {
    std::string dir = path_join(s.root(), "snapshots/");
    std::string full = dir + tmpl;
    if (!::mkdtemp(full.data())) return fail_errno("unpack " + what + ": create a temp dir in " + dir);
    tmp.name = full.substr(dir.size());
  }
  ASSIGN_OR_RETURN(UniqueFd tmpdir, open_at(s.dirfd(), "snapshots/" + tmp.name, O_RDONLY | O_DIRECTORY));
  if (::mkdirat(tmpdir.get(), "fs", 0755) < 0) return fail_errno("unpack " + what + ": mkdir fs");
  ASSIGN_OR_RETURN(UniqueFd fs, open_at(tmpdir.get(), "fs", O_RDONLY | O_DIRECTORY));

  LayerStream stream(raw, compression, LayerDigests{layer.digest, diff_id}, what);
  ASSIGN_OR_RETURN(auto stats, unpack_layer(stream, fs.get(), what, limits));
  TRY(stream.finish());

  SnapshotInfo info{stream.diff_id(), stats.bytes, stats.entries};
  nlohmann::json j = {{"diff_id", info.diff_id.str()}, {"size", info.size}, {"entries", info.entries},
                      {"layer", layer.digest.str()}};
  TRY_CTX(write_file_atomic(tmpdir.get(), "info.json", j.dump(), 0644), "unpack " + what);
  std::string from = "snapshots/" + tmp.name, to = "snapshots/" + info.diff_id.hex;
  if (::renameat(s.dirfd(), from.c_str(), s.dirfd(), to.c_str()) < 0) {
    // Another berth unpacked the same layer meanwhile: theirs is as good.
    if (errno != ENOTEMPTY && errno != EEXIST)
      return fail_errno("unpack " + what + ": rename " + from + " to " + to);
    return info;
  }
  tmp.keep = true;
  return info;
}

Result<std::vector<std::string>> ensure_snapshots(const Store &s, const Image &img, unsigned jobs) {
  size_t n = img.manifest.layers.size();
  std::vector<std::string> dirs(n);
  std::vector<size_t> todo;
  std::set<std::string> seen; // an image may repeat a layer: unpack it once
  for (size_t i = 0; i < n; ++i) {
    dirs[i] = s.snapshot_path(img.config.diff_ids[i]);
    if (!s.has_snapshot(img.config.diff_ids[i]) && seen.insert(img.config.diff_ids[i].hex).second) todo.push_back(i);
  }
  TRY(parallel_for(todo.size(), jobs, [&](size_t k) -> Result<> {
    size_t i = todo[k];
    TRY(unpack_blob(s, img.manifest.layers[i], img.config.diff_ids[i]));
    return {};
  }));
  return dirs;
}

} // namespace berth::image
