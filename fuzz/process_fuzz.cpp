// exec --process FILE: oci::parse_process, then plan_process (names of
// capabilities and rlimits, scheduling, user) as exec resolves it.
#include "fuzz.hpp"
#include "oci/spec_json.hpp"
#include "runtime/process_plan.hpp"

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  berth::fuzz::quiet();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  auto p = oci::parse_process(fuzz::text(data, size));
  if (!p) {
    FUZZ_CHECK(!p.error().message().empty());
    return 0;
  }
  (void)runtime::plan_process(*p, std::nullopt, std::nullopt, "");
  return 0;
}
