#!/bin/bash
# fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Builds the libFuzzer targets (scripts/build-san.sh: clang 16, ASan+UBSan),
# replays fuzz/regressions/<target>/ (inputs that once crashed), then fuzzes
# each target for SECONDS (default 30) from fuzz/corpus/<target>/ and the
# inputs earlier runs found (build-san/fuzz/corpus/<target>/, kept between
# runs). Fails if any input crashes, leaks, hangs (>10 s) or takes over 2 GiB;
# the input is written to build-san/fuzz/artifacts/: add it under
# fuzz/regressions/<target>/ once the bug is fixed. FUZZ_JOBS=N runs N
# targets side by side (default 1).
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
shift || true
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/*_fuzz.cpp; do
    n=$(basename "$f" _fuzz.cpp)
    targets+=("${n//_/-}")
  done
fi
scripts/build-san.sh "${targets[@]/#/fuzz-}" || { echo "fuzz: build failed"; exit 1; }

out=build-san/fuzz/artifacts
mkdir -p "$out"
# file:line in reports (llvm-16, scripts/install-deps.sh).
[ -x /usr/lib/llvm-16/bin/llvm-symbolizer ] && export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Leaks inside libseccomp itself are not ours (fuzz/lsan.supp).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp}

fuzz_one() {
  local t=$1 bin=build-san/fuzz/fuzz-$1 log=build-san/fuzz/fuzz-$1.log
  local work=build-san/fuzz/corpus/$t
  mkdir -p "$work"
  local reg=(fuzz/regressions/"$t"/*)
  if [ -e "${reg[0]}" ]; then
    if ! "$bin" -runs=1 "${reg[@]}" >"$log" 2>&1; then
      echo "fuzz-$t: a regression input crashes again (log: $log)"
      tail -20 "$log"
      return 1
    fi
  fi
  local seeds=(fuzz/corpus/"$t")
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict=fuzz/json.dict -artifact_prefix="$out/$t-" "$work" "${seeds[@]}" >"$log" 2>&1
  local rc=$?
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  echo "fuzz-$t: ${secs}s, ${execs:-?} inputs, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) files, exit $rc"
  if [ $rc -ne 0 ]; then
    grep -E 'ERROR:|runtime error:|property does not hold|Test unit written' "$log" | head -5
    echo "  full log: $log"
    return 1
  fi
}

export -f fuzz_one
export secs out
start=$(date +%s)
printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_JOBS:-1}" -I{} bash -c 'fuzz_one "$@"' _ {}
rc=$?
echo "fuzz: ${#targets[@]} targets, $(( ($(date +%s) - start) / 60 )) min wall; $( [ $rc -eq 0 ] && echo 'no crash' || echo FAILED)"
exit $([ $rc -eq 0 ] && echo 0 || echo 1)
