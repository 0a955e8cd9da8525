#!/bin/bash
# Installs everything, builds, and runs every test: unit tests, the
# integration suite on this host, and the cgroup v2 part inside a VM.
# Every part runs even when an earlier one failed; the exit status says
# whether all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
scripts/build.sh || exit 1

failed=()
part() {
  local name=$1
  shift
  echo "== $name"
  "$@" || failed+=("$name")
}

part "unit tests" build/unit-tests --gtest_brief=1
part "integration tests on this host (cgroup $(stat -fc %T /sys/fs/cgroup) at /sys/fs/cgroup)" \
  /usr/bin/python3 -m pytest tests/integration -q

vm=../shared/tools/vm/run.sh
if [ -x "$vm" ]; then
  part "cgroup v2 VM" "$vm" --timeout 2400 -- tests/vm-suite.sh
else
  echo "== cgroup v2 VM: skipped ($vm not found; see tests/integration/README.md)"
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all test parts passed"
