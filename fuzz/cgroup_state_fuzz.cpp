// The cgroup part of state.json (cgroups::load_manager): it decides which
// directories delete removes, so only clean paths below a mount may pass.
// A loaded manager serialises to something that loads again.
#include "cgroups/manager.hpp"
#include "fuzz.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  auto m = cgroups::load_manager(std::string(fuzz::text(data, size)));
  if (!m) return 0;
  std::string j = (*m)->to_json();
  auto again = cgroups::load_manager(j);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK((*again)->to_json() == j);
  return 0;
}
