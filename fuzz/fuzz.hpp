// Shared by the fuzz targets: the input as text, and a check that aborts
// (a crash libFuzzer reports) when a property of the parsers does not hold.
#pragma once

#include "common/log.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace berth::fuzz {

inline std::string_view text(const uint8_t *data, size_t size) {
  return {reinterpret_cast<const char *>(data), size};
}

// Parsers log warnings (skipped capabilities, syscalls): not wanted here.
inline void quiet() {
  log::set_sink([](log::Level, std::string_view) {});
}

#define FUZZ_CHECK(cond)                                                         \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__,      \
                   __LINE__, #cond);                                             \
      std::abort();                                                              \
    }                                                                            \
  } while (0)

} // namespace berth::fuzz
