#!/bin/bash
# Installs everything, builds, and runs every test: unit tests, the
# integration suite on this host, and the cgroup v2 part inside a VM.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

echo "== unit tests"
build/unit-tests --gtest_brief=1

echo "== integration tests on this host ($(stat -fc %T /sys/fs/cgroup) at /sys/fs/cgroup)"
/usr/bin/python3 -m pytest tests/integration -q

vm=../shared/tools/vm/run.sh
if [ -x "$vm" ]; then
  echo "== cgroup v2 VM"
  "$vm" --timeout 2400 -- tests/vm-suite.sh
else
  echo "== cgroup v2 VM: skipped ($vm not found; see tests/README.md)"
fi
