#!/bin/sh
# Configures and builds berth with AddressSanitizer + UndefinedBehaviorSanitizer
# into ./build-san (clang 16, warnings are errors): berth-runtime and
# unit-tests for the sanitizer test parts, and the libFuzzer targets (fuzz/),
# all against the same instrumented libraries. See README.md, "Tests".
# Usage: scripts/build-san.sh [TARGET...]
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build-san -G Ninja -DBERTH_WERROR=ON -DBERTH_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
# Arguments: targets to build (default: all).
if [ $# -gt 0 ]; then
  cmake --build build-san --target "$@"
else
  cmake --build build-san
fi
