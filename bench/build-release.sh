#!/bin/sh
# build-release.sh: configure and build the optimised berth-runtime and berth that
# bench/run.py and bench/unpack.py measure by default (build-release/berth-runtime: static,
# MinSizeRel = -Os with unused sections dropped, no unit tests; -Os measured
# as fast as -O3 here, and a smaller binary maps fewer pages). Records the source revision in build-release/SOURCE, which
# run.py prints in its table header. JOBS=N limits ninja's parallelism.
set -eu
cd "$(dirname "$0")/.."
# the revision as the build starts (others may edit the tree meanwhile)
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel -DBERTH_TESTS=OFF
cmake --build build-release --target berth-runtime berth ${JOBS:+-j "$JOBS"}
echo "$rev built $(date -u +%Y-%m-%dT%H:%MZ)" > build-release/SOURCE
ls -l build-release/berth-runtime build-release/berth
cat build-release/SOURCE
