// A seccomp cache file (<root>/@cache/seccomp-*) as a damaged disk or a
// hand edit may leave it: never a crash, never a program from a file whose
// checksum or key does not match; an entry read back encodes to the same bytes.
#include "fuzz.hpp"
#include "runtime/seccomp_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  const std::string key = "fuzz key";
  std::string_view in = fuzz::text(data, size);
  std::vector<std::string> warnings;
  auto c = runtime::read_seccomp_cache_entry(in, key, warnings);
  if (!c) return 0;
  FUZZ_CHECK(!c->program.empty() && c->program.size() <= 4096);
  FUZZ_CHECK(runtime::seccomp_cache_entry_data(key, *c, warnings) == in);
  return 0;
}
