#!/bin/bash
# tests/sanitizers.sh unit|integration|images|registry [PYTEST ARGS...]
# Runs the unit tests, the integration subset below with a short soak, the
# image tests (berth itself: layers are hostile input) or the registry tests
# (registries' answers are too), against build-san (scripts/build-san.sh:
# ASan + UBSan). Every sanitizer
# report aborts the process that made it (abort_on_error, no recovery) and is
# also written to a file: the part fails if any report was written, even by a
# command whose exit status no test looks at (a cleanup's delete --force).
set -uo pipefail
cd "$(dirname "$0")/.."
reports=$(mktemp -d /tmp/berth-sanitizer-reports.XXXXXX)
trap 'rm -rf "$reports"' EXIT
# file:line in reports (llvm-16, scripts/install-deps.sh).
[ -x /usr/lib/llvm-16/bin/llvm-symbolizer ] && export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer
# LeakSanitizer runs in the unit tests only: at exit it clones a tracer that
# ptraces the process, and a runtime that joined a container's pid namespace
# for its children (exec; create with a pid namespace path) puts that tracer
# in the container's namespace, where the attach never completes (a hang).
# The container's init execs or _exits: no exit-time checks run there.
export ASAN_OPTIONS="abort_on_error=1:halt_on_error=1:detect_leaks=1:log_path=$reports/asan"
[ "${1:-}" = integration ] && ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
export UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"

case ${1:-} in
unit)
  build-san/unit-tests --gtest_brief=1
  rc=$?
  ;;
integration)
  shift
  # The host suite takes ~15 min; under the sanitizers this subset covers
  # every command and the failure paths (errors, hooks, killed runtimes).
  tests=("$@")
  [ ${#tests[@]} -gt 0 ] || tests=(tests/integration/test_lifecycle.py
    tests/integration/test_errors.py tests/integration/test_exec.py
    tests/integration/test_hooks.py tests/integration/test_bounds.py
    tests/integration/test_soak.py)
  BERTH_RUNTIME=build-san/berth-runtime BERTH_PROBE=build/berth-probe \
    BERTH_SOAK_CYCLES=${BERTH_SOAK_CYCLES:-60} /usr/bin/python3 -m pytest -q "${tests[@]}"
  rc=$?
  ;;
images)
  shift
  BERTH=build-san/berth BERTH_RUNTIME=build/berth-runtime /usr/bin/python3 -m pytest -q tests/image "$@"
  rc=$?
  ;;
registry)
  shift
  BERTH=build-san/berth BERTH_RUNTIME=build/berth-runtime /usr/bin/python3 -m pytest -q tests/registry "$@"
  rc=$?
  ;;
*)
  echo "usage: tests/sanitizers.sh unit|integration|images|registry [PYTEST ARGS...]" >&2
  exit 2
  ;;
esac
if [ -n "$(ls -A "$reports")" ]; then
  echo "sanitizer reports:"
  for f in "$reports"/*; do
    echo "--- $f"
    head -60 "$f"
  done
  exit 1
fi
exit $rc
