// config.json: oci::parse_spec, then what create resolves from the process in
// the parent (capabilities, rlimits, scheduling, seccomp compiled by libseccomp).
#include "fuzz.hpp"
#include "oci/spec_json.hpp"
#include "runtime/process_plan.hpp"

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  berth::fuzz::quiet();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  auto spec = oci::parse_spec(fuzz::text(data, size));
  if (!spec) {
    FUZZ_CHECK(!spec.error().message().empty());
    return 0;
  }
  if (spec->process) {
    const auto &lx = spec->linux_;
    (void)runtime::plan_process(*spec->process, lx ? lx->seccomp : std::nullopt,
                                lx ? lx->personality : std::nullopt, "");
  }
  return 0;
}
