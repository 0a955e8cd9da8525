// Manifests, indexes and image configs as a registry or an OCI layout hands
// them over: every reader on the same input, and a write/read round trip of
// what parses that must give the same document.
#include "fuzz.hpp"
#include "oci/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  std::string_view in = fuzz::text(data, size);
  (void)oci::doc_kind(in);
  (void)oci::doc_kind(in, "application/vnd.oci.image.index.v1+json");
  if (auto m = oci::parse_manifest(in)) {
    std::string out = oci::to_json_string(*m);
    auto again = oci::parse_manifest(out);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(oci::to_json_string(*again) == out);
    auto k = oci::doc_kind(out);
    FUZZ_CHECK(k && *k == oci::DocKind::manifest);
    for (const auto &l : m->layers) (void)oci::layer_compression(l.media_type);
  }
  if (auto x = oci::parse_index(in)) {
    std::string out = oci::to_json_string(*x);
    auto again = oci::parse_index(out);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(oci::to_json_string(*again) == out);
    auto k = oci::doc_kind(out);
    FUZZ_CHECK(k && *k == oci::DocKind::index);
    (void)oci::select_platform(*x, oci::host_platform());
    for (const auto &d : x->manifests)
      if (d.platform) (void)oci::select_platform(*x, *d.platform);
  }
  (void)oci::parse_image_config(in);
  return 0;
}
