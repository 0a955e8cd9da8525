// update --resources FILE (containerd's LinuxResources JSON), and the v1 -> v2
// value conversions applied to what it holds.
#include "cgroups/convert.hpp"
#include "fuzz.hpp"
#include "oci/spec_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  auto r = oci::parse_resources(fuzz::text(data, size));
  if (!r) return 0;
  if (r->cpu && r->cpu->shares) FUZZ_CHECK(cgroups::cpu_shares_to_weight(*r->cpu->shares) <= 10000);
  if (r->block_io && r->block_io->weight)
    FUZZ_CHECK(cgroups::blkio_weight_to_io_weight(*r->block_io->weight) <= 10000);
  if (r->memory && r->memory->swap && r->memory->limit)
    (void)cgroups::memory_swap_to_v2(*r->memory->swap, *r->memory->limit);
  return 0;
}
