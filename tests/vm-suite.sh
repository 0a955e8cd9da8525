#!/bin/bash
# Runs inside the cgroup v2 VM (../shared/tools/vm/run.sh): the tests whose
# behaviour depends on the cgroup layout. The VM emulates its CPU (10-30x
# slower), so this is the cgroup-relevant subset, not the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "cgroup layout: $(stat -fc %T /sys/fs/cgroup); controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
build/unit-tests --gtest_brief=1 --gtest_filter='Cgroup*'
# The soak with a small count: cgroup v2 removal after killed runtimes.
BERTH_SOAK_CYCLES=${BERTH_SOAK_CYCLES:-15} exec /usr/bin/python3 -m pytest -q tests/integration/test_resources.py \
  tests/integration/test_resource_table.py tests/integration/test_update_events.py \
  tests/integration/test_lifecycle.py tests/integration/test_pause.py tests/integration/test_devices.py \
  tests/integration/test_exec.py tests/integration/test_rootless.py tests/integration/test_soak.py \
  tests/integration/test_hardening.py::test_host_block_device_cannot_be_opened
