#include "registry/pull.hpp"

#include "common/file.hpp"
#include "common/parallel.hpp"
#include "image/snapshots.hpp"
#include "image/stream.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

namespace berth::registry {
namespace {

// A blob stored through a writer, checked against its descriptor.
Result<> store_bytes(const image::Store &s, std::string_view bytes, const oci::Descriptor &d, const std::string &what) {
  if (s.has_blob(d.digest)) return {};
  ASSIGN_OR_RETURN(auto w, s.blob_writer(what, d.digest.algo));
  TRY(w.write(bytes.data(), bytes.size()));
  TRY(w.commit(d.digest, static_cast<int64_t>(bytes.size())));
  return {};
}

struct Puller {
  const image::Store &s;
  Client &c;
  const std::string &repo;
  const PullOptions &opts;
  std::atomic<bool> cancel{false}; // a layer failed: the others stop

  void report(size_t i, const oci::Descriptor &d, LayerStatus st, uint64_t done) const {
    if (opts.on_layer) opts.on_layer(LayerEvent{i, d.digest, st, done, static_cast<uint64_t>(d.size)});
  }

  // Downloads layer i into the store; unpacks it on the way unless its
  // snapshot exists.
  Result<> fetch_layer(size_t i, const oci::Descriptor &d, const oci::Digest &diff_id) {
    std::string what = "layer " + d.digest.str();
    ASSIGN_OR_RETURN(auto w, s.blob_writer(what, d.digest.algo));
    bool unpack = !s.has_snapshot(diff_id);
    UniqueFd rd, wr;
    if (unpack) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) < 0) return fail_errno("pull " + what + ": pipe");
      rd = UniqueFd(p[0]);
      wr = UniqueFd(p[1]);
      (void)::fcntl(wr.get(), F_SETPIPE_SZ, 1 << 20); // fewer wake-ups; the default is fine too
    }
    // The unpacker reads the pipe as the download fills it.
    std::optional<Error> unpack_error;
    std::thread unpacker;
    if (unpack) {
      unpacker = std::thread([&, rfd = std::move(rd)] {
        image::FdSource raw(rfd.get(), what);
        // It reads to the end (LayerStream::finish), also past the tar's end.
        auto r = image::unpack_stream(s, d, diff_id, raw, {});
        if (!r) unpack_error = std::move(r).error();
      });
    }
    uint64_t done = 0;
    report(i, d, LayerStatus::downloading, 0);
    auto got = c.get_blob(repo, d, [&](std::span<const std::byte> b) -> Result<> {
      if (cancel) return fail_msg("stopped: another layer failed");
      TRY(w.write(b.data(), b.size()));
      if (unpack) TRY(write_all(wr.get(), std::string_view(reinterpret_cast<const char *>(b.data()), b.size()),
                                "pass " + what + " to the unpacker"));
      done += b.size();
      report(i, d, LayerStatus::downloading, done);
      return {};
    });
    wr.reset(); // EOF for the unpacker (early, when the download failed)
    if (unpacker.joinable()) {
      report(i, d, LayerStatus::unpacking, done);
      unpacker.join();
    }
    // The unpacker's error explains a broken pipe; a download error is
    // the cause of a truncated layer.
    if (!got && unpack_error && got.error().code() == EPIPE) return fail(std::move(*unpack_error));
    if (!got) return fail(std::move(got).error());
    if (unpack_error) return fail(std::move(*unpack_error));
    TRY(w.commit(d.digest, d.size));
    report(i, d, LayerStatus::complete, done);
    return {};
  }

  Result<bool> layers(const oci::Manifest &m, const oci::ImageConfig &cfg) {
    std::vector<size_t> todo;
    std::set<std::string> seen;
    for (size_t i = 0; i < m.layers.size(); ++i) {
      const auto &d = m.layers[i];
      if (s.has_blob(d.digest) && s.has_snapshot(cfg.diff_ids[i])) {
        report(i, d, LayerStatus::exists, 0);
      } else if (seen.insert(d.digest.str()).second) {
        report(i, d, LayerStatus::waiting, 0);
        todo.push_back(i);
      }
    }
    TRY(parallel_for(todo.size(), opts.jobs, [&](size_t k) -> Result<> {
      size_t i = todo[k];
      const auto &d = m.layers[i];
      Result<> r;
      if (!s.has_blob(d.digest)) r = fetch_layer(i, d, cfg.diff_ids[i]);
      else if (auto u = image::unpack_blob(s, d, cfg.diff_ids[i]); !u) r = fail(std::move(u).error());
      if (!r) cancel = true;
      else if (s.has_blob(d.digest)) report(i, d, LayerStatus::complete, static_cast<uint64_t>(d.size));
      return r;
    }));
    return !todo.empty();
  }
};

} // namespace

Result<PullResult> pull(const image::Store &s, Client &c, const oci::Reference &ref, const PullOptions &opts) {
  std::string what = "pull " + ref.str();
  auto fail_ctx = [&](Error e) { return std::unexpected(std::move(e).with(what)); };
  ASSIGN_OR_RETURN(UniqueFd lock, s.lock_shared());
  const std::string &repo = ref.path;
  std::string reference = ref.digest ? ref.digest->str() : ref.tag;

  auto top = c.get_manifest(repo, reference);
  if (!top) return fail_ctx(std::move(top).error());
  if (opts.on_manifest) opts.on_manifest(*top);
  auto kind = oci::doc_kind(top->bytes, top->media_type);
  if (!kind) return fail_ctx(std::move(kind).error().with("manifest " + top->digest.str()));

  Document mdoc;
  oci::Descriptor target;
  if (*kind == oci::DocKind::index) {
    auto idx = oci::parse_index(top->bytes);
    if (!idx) return fail_ctx(std::move(idx).error().with("index " + top->digest.str()));
    auto chosen = oci::select_platform(*idx, opts.platform);
    if (!chosen) return fail_ctx(std::move(chosen).error());
    auto got = c.get_manifest(repo, chosen->digest.str());
    if (!got) return fail_ctx(std::move(got).error());
    if (static_cast<int64_t>(got->bytes.size()) != chosen->size)
      return fail_ctx(Error::msg("the manifest " + chosen->digest.str() + " has " + std::to_string(got->bytes.size()) +
                                 " bytes, the index says " + std::to_string(chosen->size)));
    if (opts.on_manifest) opts.on_manifest(*got);
    mdoc = std::move(*got);
    target = *chosen;
    target.annotations.clear();
  } else if (*kind == oci::DocKind::manifest) {
    mdoc = *top;
    target.digest = top->digest;
    target.size = static_cast<int64_t>(top->bytes.size());
  } else {
    return fail_ctx(Error::msg(top->digest.str() + " is neither a manifest nor an index"));
  }
  auto m = oci::parse_manifest(mdoc.bytes);
  if (!m) return fail_ctx(std::move(m).error().with("manifest " + mdoc.digest.str()));
  if (target.media_type.empty()) target.media_type = m->media_type.empty() ? std::string(oci::media::oci_manifest) : m->media_type;

  // The config: small, fetched first (it names the layers' diff_ids).
  std::string ctext;
  if (s.has_blob(m->config.digest)) {
    auto t = s.read_blob(m->config.digest, 16u << 20);
    if (!t) return fail_ctx(std::move(t).error());
    ctext = std::move(*t);
  } else {
    auto t = c.get_small_blob(repo, m->config);
    if (!t) return fail_ctx(std::move(t).error());
    ctext = std::move(*t);
  }
  auto cfg = oci::parse_image_config(ctext);
  if (!cfg) return fail_ctx(std::move(cfg).error().with("config " + m->config.digest.str()));
  if (cfg->diff_ids.size() != m->layers.size())
    return fail_ctx(Error::msg("the manifest has " + std::to_string(m->layers.size()) +
                               " layers but the config's rootfs.diff_ids has " + std::to_string(cfg->diff_ids.size())));

  Puller p{s, c, repo, opts};
  auto fetched = p.layers(*m, *cfg);
  if (!fetched) return fail_ctx(std::move(fetched).error());
  if (auto r = store_bytes(s, ctext, m->config, "config " + m->config.digest.str()); !r) return fail_ctx(r.error());
  if (auto r = store_bytes(s, mdoc.bytes, target, "manifest " + mdoc.digest.str()); !r) return fail_ctx(r.error());

  PullResult out;
  out.digest = top->digest;
  out.manifest = mdoc.digest;
  out.fetched = *fetched;
  out.name = ref.str();
  std::string repo_digest = ref.name() + "@" + top->digest.str();
  std::vector<std::string> names = {out.name};
  if (auto r = s.set_names(names, target, repo_digest); !r) return fail_ctx(r.error());
  return out;
}

} // namespace berth::registry
