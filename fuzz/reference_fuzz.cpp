// Image references as users type them (pull, run, tag): oci::Reference.
// What parses prints (str, familiar) as text that parses back to the same.
#include "fuzz.hpp"
#include "oci/reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  std::string_view in = fuzz::text(data, size);
  for (bool default_tag : {true, false}) {
    auto r = oci::Reference::parse(in, default_tag);
    if (!r) {
      FUZZ_CHECK(!r.error().message().empty());
      continue;
    }
    FUZZ_CHECK(!r->domain.empty() && !r->path.empty());
    FUZZ_CHECK(r->name().size() <= 255);
    FUZZ_CHECK(!default_tag || !r->tag.empty() || r->digest);
    auto again = oci::Reference::parse(r->str(), default_tag);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *r);
    auto familiar = oci::Reference::parse(r->familiar(), default_tag);
    FUZZ_CHECK(familiar.has_value());
    FUZZ_CHECK(*familiar == *r);
  }
  return 0;
}
