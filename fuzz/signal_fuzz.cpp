// kill's SIGNAL argument: a name, SIG-name, number or SIGRTMIN+n. Every
// accepted signal has a name that parses back to it.
#include "fuzz.hpp"
#include "linux/signals.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  auto sig = linuxf::parse_signal(fuzz::text(data, size));
  if (!sig) return 0;
  FUZZ_CHECK(*sig > 0);
  auto back = linuxf::parse_signal(linuxf::signal_name(*sig));
  FUZZ_CHECK(back && *back == *sig);
  return 0;
}
