#!/bin/bash
# Installs everything, builds, and runs every test: unit tests, the
# integration suite on this host (with the soak, concurrency and resource
# bound tests), the image and registry tests, the cgroup v2 part inside a VM, then the same code built with
# AddressSanitizer + UndefinedBehaviorSanitizer (unit tests, an integration
# subset, a short soak) and a short fuzz run of every parser.
# Every part runs even when an earlier one failed; the exit status says
# whether all passed. FUZZ_SECONDS (per target, default 60) and
# BERTH_SOAK_CYCLES (default 200) make the long runs longer.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
scripts/build.sh || exit 1

# The sanitizer build (clang: ~10 min on 2 cores) goes on at low priority
# while the first parts run; its parts wait for it.
mkdir -p build-san
nice -n 10 scripts/build-san.sh >build-san/build.log 2>&1 &
san_build=$!

failed=()
part() {
  local name=$1 t0=$SECONDS
  shift
  echo "== $name"
  "$@" || failed+=("$name")
  echo "== $name: $((SECONDS - t0)) s"
}

part "unit tests" build/unit-tests --gtest_brief=1
part "integration tests on this host (cgroup $(stat -fc %T /sys/fs/cgroup) at /sys/fs/cgroup)" \
  /usr/bin/python3 -m pytest tests/integration -q
part "image tests (store, unpack, archives; skopeo and umoci beside)" /usr/bin/python3 -m pytest tests/image -q
part "registry tests (docker-registry on 127.0.0.1: plain, basic auth, TLS; a fault proxy; skopeo, podman)" \
  /usr/bin/python3 -m pytest tests/registry -q

vm=../shared/tools/vm/run.sh
if [ -x "$vm" ]; then
  part "cgroup v2 VM" "$vm" --timeout 2400 -- tests/vm-suite.sh
else
  echo "== cgroup v2 VM: skipped ($vm not found; see tests/integration/README.md)"
fi

san_built() {
  wait "$san_build" && return 0
  tail -30 build-san/build.log
  return 1
}
part "sanitizer build (clang 16, ASan+UBSan, fuzz targets)" san_built
part "unit tests (ASan+UBSan)" tests/sanitizers.sh unit
part "integration subset and soak (ASan+UBSan runtime)" tests/sanitizers.sh integration
part "image tests (ASan+UBSan berth)" tests/sanitizers.sh images
part "registry tests (ASan+UBSan berth)" tests/sanitizers.sh registry
# 10 targets x 60 s, two at a time (2 cores): ~5 min.
part "fuzz (${FUZZ_SECONDS:-60} s per target)" env FUZZ_JOBS=2 fuzz/run.sh "${FUZZ_SECONDS:-60}"

if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all test parts passed"
