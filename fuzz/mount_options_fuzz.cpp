// mounts[].options: a list of words (the input split at ',' and newlines).
#include "fuzz.hpp"
#include "linux/mount_options.hpp"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace berth;
  std::vector<std::string> words(1);
  for (char c : fuzz::text(data, size)) {
    if (c == ',' || c == '\n') words.emplace_back();
    else words.back() += c;
  }
  auto m = linuxf::parse_mount_options(words);
  for (auto &w : words) (void)linuxf::propagation_flag(w);
  // Every word is understood or passed on to the filesystem, never lost.
  FUZZ_CHECK(m.data.size() <= size);
  return 0;
}
