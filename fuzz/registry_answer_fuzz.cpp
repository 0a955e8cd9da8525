// What a registry answers that berth reads before trusting anything: the
// WWW-Authenticate challenges of a 401 and the error bodies of 4xx/5xx.
#include "fuzz.hpp"
#include "registry/auth.hpp"
#include "registry/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  std::string in(fuzz::text(data, size));
  for (auto &c : registry::parse_challenges(in)) {
    FUZZ_CHECK(!c.scheme.empty());
    for (auto &[k, v] : c.params) FUZZ_CHECK(!k.empty());
  }
  std::string text = registry::error_body_text(in);
  FUZZ_CHECK(text.size() <= 2 * in.size() + 16);
  registry::Response r;
  r.status = 400 + static_cast<long>(size % 200);
  r.body = in;
  FUZZ_CHECK(!registry::status_error(r, "fuzz", size % 2).message().empty());
  return 0;
}
