// state.json under --root (a corrupt or hand-edited file): the record, the
// hooks stored in it, and a write/read round trip that must give the same.
#include "fuzz.hpp"
#include "runtime/hooks.hpp"
#include "runtime/state_store.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  std::string_view in = fuzz::text(data, size);
  (void)runtime::hooks_from_json(std::string(in));
  auto r = runtime::record_from_json(in, "state");
  if (!r) return 0;
  (void)runtime::hooks_from_json(r->hooks);
  auto again = runtime::record_from_json(runtime::record_to_json(*r), "state");
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(runtime::record_to_json(*again) == runtime::record_to_json(*r));
  return 0;
}
