#!/bin/bash
# The main job: install, build, and run a real container — a busybox-static
# rootfs with a 64 MiB memory limit and a pids limit of 32 — which reports
# what it sees from inside.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
bundle=$(mktemp -d /tmp/berth-demo.XXXXXX)
root=$(mktemp -d /run/berth-demo-root.XXXXXX)
trap 'rm -rf "$bundle" "$root"' EXIT
scripts/make-bundle.sh "$bundle"
/usr/bin/python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["sh", "-c",
  "echo \"hello from $(hostname), pid $$ in its own pid namespace\"; "
  "echo \"memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)\"; "
  "echo \"pids limit:   $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)\"; "
  "echo \"capabilities: $(grep CapEff /proc/self/status)\""]
c["linux"]["cgroupsPath"] = "/berth-demo-%d" % __import__("os").getpid()
c["linux"].setdefault("resources", {})
c["linux"]["resources"]["memory"] = {"limit": 64 << 20}
c["linux"]["resources"]["pids"] = {"limit": 32}
json.dump(c, open(p, "w"), indent=2)
PY
echo "+ berth-runtime run --bundle $bundle demo"
build/berth-runtime --root "$root" run --bundle "$bundle" demo
