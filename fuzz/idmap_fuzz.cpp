// User namespace id maps: linux.uidMappings/gidMappings (and a mount's) read
// from JSON, then formatted for /proc/<pid>/uid_map; time namespace offsets.
#include "fuzz.hpp"
#include "linux/idmap.hpp"
#include "oci/spec_json_reader.hpp"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  using namespace berth::oci::detail;
  auto doc = parse_document(fuzz::text(data, size));
  if (!doc) return 0;
  auto o = Obj::of(*doc, "linux");
  if (!o) return 0;
  for (const char *key : {"uidMappings", "gidMappings"}) {
    auto maps = read_id_mappings(*o, key);
    if (!maps) continue;
    std::string s = linuxf::format_id_map(*maps);
    FUZZ_CHECK(size_t(std::count(s.begin(), s.end(), '\n')) == maps->size());
  }
  // The whole linux object too: timeOffsets and the userns checks.
  auto lx = read_linux(*doc, "linux");
  if (lx) (void)linuxf::format_time_offsets(lx->time_offsets);
  return 0;
}
