#include "image/import.hpp"

#include "common/file.hpp"
#include "image/changes.hpp"
#include "image/snapshots.hpp"
#include "image/tar_write.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <thread>

namespace berth::image {
namespace {

using json = nlohmann::json;

// Copies fd into w until EOF.
Result<> copy_in(int fd, BlobWriter &w, const std::string &what) {
  std::vector<char> buf(256 << 10);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + what);
    }
    if (n == 0) return {};
    TRY(w.write(buf.data(), size_t(n)));
  }
}

// The layer is in w: unpack it (learning its diff_id), store it, and make
// the config and manifest that name it.
Result<oci::Digest> finish_import(const Store &s, BlobWriter &w, const std::string &what, const ImportOptions &o) {
  // Checked before anything is stored: a bad --change leaves nothing.
  json cfg = json::object();
  for (auto &c : o.changes) TRY(apply_change(cfg, c));
  ASSIGN_OR_RETURN(oci::Digest digest, w.finish());
  unsigned char head[4] = {};
  ssize_t n = ::pread(w.fd(), head, sizeof head, 0);
  if (n < 0) return fail_errno("read " + what);
  oci::Descriptor layer;
  switch (oci::sniff_compression(head, size_t(n))) {
    case oci::Compression::gzip: layer.media_type = oci::media::oci_layer_gzip; break;
    case oci::Compression::zstd: layer.media_type = oci::media::oci_layer_zstd; break;
    default: layer.media_type = oci::media::oci_layer;
  }
  layer.digest = digest;
  layer.size = int64_t(w.size());
  ASSIGN_OR_RETURN(UniqueFd rd, open_file("/proc/self/fd/" + std::to_string(w.fd()), O_RDONLY));
  ASSIGN_OR_RETURN(auto info, unpack_blob(s, layer, std::nullopt, rd.get()));
  TRY(w.publish());

  std::string now = now_rfc3339();
  json config = {{"created", now},
                 {"architecture", o.platform.architecture},
                 {"os", o.platform.os},
                 {"config", cfg},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {info.diff_id.str()}}}},
                 {"history", json::array({{{"created", now}, {"created_by", "berth import"}}})}};
  if (!o.platform.variant.empty()) config["variant"] = o.platform.variant;
  if (!o.message.empty()) config["history"][0]["comment"] = o.message;
  ASSIGN_OR_RETURN(auto cdesc, s.put_blob(config.dump(), oci::media::oci_config));
  oci::Manifest m;
  m.media_type = oci::media::oci_manifest;
  m.config = cdesc;
  m.layers.push_back(layer);
  ASSIGN_OR_RETURN(auto mdesc, s.put_blob(oci::to_json_string(m), oci::media::oci_manifest));
  std::vector<std::string> names = o.names;
  if (names.empty()) names.push_back("");
  TRY(s.set_names(names, mdesc));
  return cdesc.digest;
}

} // namespace

Result<oci::Digest> import_tar(const Store &s, int fd, const std::string &what, const ImportOptions &o) {
  ASSIGN_OR_RETURN(UniqueFd lock, s.lock_shared());
  ASSIGN_OR_RETURN(BlobWriter w, s.blob_writer("import of " + what));
  TRY(copy_in(fd, w, what));
  return finish_import(s, w, what, o);
}

Result<oci::Digest> import_dir(const Store &s, const std::string &dir, const ImportOptions &o) {
  ASSIGN_OR_RETURN(UniqueFd lock, s.lock_shared());
  ASSIGN_OR_RETURN(UniqueFd src, open_file(dir, O_RDONLY | O_DIRECTORY));
  ASSIGN_OR_RETURN(BlobWriter w, s.blob_writer("import of " + dir));
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return fail_errno("import " + dir + ": pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  Result<> tarred;
  std::thread writer([&] {
    tarred = write_tree_tar(src.get(), wr.get(), dir);
    wr.reset(); // EOF for the reader
  });
  auto copied = copy_in(rd.get(), w, "the tar of " + dir);
  rd.reset(); // a writer blocked on a full pipe gets EPIPE
  writer.join();
  TRY(tarred);
  TRY(copied);
  return finish_import(s, w, dir, o);
}

} // namespace berth::image
