#include "cli/berth_push.hpp"

#include "cli/berth_common.hpp"
#include "cli/progress.hpp"
#include "common/file.hpp"
#include "image/images.hpp"
#include "image/store.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"
#include "registry/credentials.hpp"
#include "registry/push.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace berth::cli {
namespace {

using namespace berth::registry;

// "4194304", "4m", "512k", "1g" (KiB, MiB, GiB).
Result<uint64_t> parse_size(const std::string &s) {
  if (s.empty()) return uint64_t{0};
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (v > (UINT64_MAX - 9) / 10) return fail_msg("--chunk-size " + s + ": too large");
    v = v * 10 + uint64_t(s[i] - '0');
  }
  int shift = -1;
  if (i + 1 == s.size()) {
    switch (s[i] | 0x20) {
    case 'k': shift = 10; break;
    case 'm': shift = 20; break;
    case 'g': shift = 30; break;
    }
  }
  if (i == 0 || (i < s.size() && shift < 0))
    return fail_msg("--chunk-size " + s + ": not a number of bytes (4194304, 512k, 4m, 1g)");
  if (shift > 0) {
    if (v > (UINT64_MAX >> shift)) return fail_msg("--chunk-size " + s + ": too large");
    v <<= shift;
  }
  return v;
}

// The image to push: by name or id, as every command finds images; a name
// whose image has no manifest for this machine (a multi-platform index
// loaded without it) is still pushed whole.
Result<image::Image> source_image(const image::Store &s, const std::string &name) {
  auto img = image::find_image(s, name, oci::host_platform());
  if (img) return img;
  auto ref = oci::Reference::parse(name);
  if (!ref) return img;
  ASSIGN_OR_RETURN(auto entries, s.names());
  const image::NamedImage *entry = nullptr;
  for (auto &e : entries)
    if (e.name == ref->str()) entry = &e;
  if (!entry) return img;
  image::Image whole;
  whole.target = entry->target;
  for (auto &e : entries) {
    if (e.target.digest != entry->target.digest) continue;
    if (!e.name.empty()) whole.names.push_back(e.name);
    whole.repo_digests.insert(whole.repo_digests.end(), e.repo_digests.begin(), e.repo_digests.end());
  }
  return whole;
}

std::string status_text(BlobStatus st) {
  switch (st) {
  case BlobStatus::preparing: return "Preparing";
  case BlobStatus::exists: return "Layer already exists";
  case BlobStatus::mounted: return "Mounted from ";
  case BlobStatus::uploading: return "Pushing";
  case BlobStatus::pushed: return "Pushed";
  }
  return "";
}

} // namespace

void add_push_flags(Command &c, PushArgs &a) {
  add_registry_flags(c, a.reg)
      .flag("--digestfile FILE", "write the digest of the pushed manifest to FILE", a.digestfile)
      .flag("--chunk-size BYTES", "upload blobs in chunks of BYTES (k, m, g suffixes; default: whole)", a.chunk_size)
      .flag("-q,--quiet", "print only the digest", a.quiet)
      .arg("NAME[:TAG]", a.name)
      .arg("DESTINATION", a.destination, false);
}

int push_command(const PushArgs &a, const std::string &root) {
  std::string what = "push " + a.name;
  auto usage = [&](const Error &e) { return report(e.with(what)), 125; };
  // Everything the user gave is checked before the store is opened (which
  // creates it): a bad flag or reference changes nothing.
  auto dest = oci::Reference::parse(a.destination.empty() ? a.name : a.destination);
  if (!dest) return usage(dest.error());
  // As docker: a registry names what is pushed by its digest; a digest
  // given here could only disagree with it.
  if (dest->digest)
    return usage(Error::msg(dest->str() + ": push to a tag, not a digest (the digest is the manifest's own)"));
  auto chunk = parse_size(a.chunk_size);
  if (!chunk) return usage(chunk.error());
  auto copts = client_options(a.reg);
  if (!copts) return usage(copts.error());

  auto store = image::Store::open(root);
  if (!store) return report(store.error().with(what));
  auto img = source_image(*store, a.name);
  if (!img) return report(img.error().with(what));
  auto http = Http::create();
  if (!http) return report(http.error().with(what));
  auto client = Client::open(*http, dest->domain, std::move(*copts));
  if (!client) return report(client.error().with(what));

  PushOptions o;
  o.chunk = *chunk;
  Progress progress(stdout, a.quiet);
  progress.line("The push refers to repository [" + dest->name() + "]");
  o.on_blob = [&](const BlobEvent &e) {
    progress.update(image::short_id(e.digest), status_text(e.status) + e.from, e.done, e.total);
  };
  auto r = registry::push(*store, *client, *img, *dest, o);
  progress.finish();
  if (!r) return report(r.error().with(what));

  if (a.quiet) std::printf("%s\n", r->digest.str().c_str());
  else if (!dest->tag.empty() && !dest->digest)
    std::printf("%s: digest: %s size: %llu\n", dest->tag.c_str(), r->digest.str().c_str(),
                static_cast<unsigned long long>(r->size));
  else std::printf("digest: %s size: %llu\n", r->digest.str().c_str(), static_cast<unsigned long long>(r->size));
  std::fflush(stdout);
  if (!a.digestfile.empty()) {
    // As podman writes it: the digest alone, no newline.
    auto w = write_path_atomic(a.digestfile, r->digest.str());
    if (!w) return report(w.error().with(what + ": --digestfile"));
  }
  return 0;
}

} // namespace berth::cli
