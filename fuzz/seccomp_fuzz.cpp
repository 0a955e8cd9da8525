// linux.seccomp profile: the JSON reader, then validation and compilation to
// BPF by libseccomp (what create and exec do in the parent).
#include "fuzz.hpp"
#include "linux/seccomp.hpp"
#include "oci/spec_json_reader.hpp"

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  berth::fuzz::quiet();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  using namespace berth::oci::detail;
  auto doc = parse_document(fuzz::text(data, size));
  if (!doc) return 0;
  auto s = read_seccomp(*doc, "linux.seccomp");
  if (!s) return 0;
  std::vector<std::string> warnings;
  (void)linuxf::compile_seccomp(*s, warnings);
  return 0;
}
