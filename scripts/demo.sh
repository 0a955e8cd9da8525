#!/bin/bash
# The main job: install, build, and run a real container. A busybox-static
# root filesystem becomes an image (berth import), the image an OCI bundle
# (berth bundle: an overlay of its layer), and berth-runtime runs it with a
# 64 MiB memory limit and a pids limit of 32; it reports what it sees from
# inside. The image store is a throw-away one, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
root=$(mktemp -d /run/berth-demo-root.XXXXXX)
bundle=$work/bundle
berth() { build/berth --root "$work/store" "$@"; }
cleanup() {
  if [ -e "$bundle/config.json" ]; then berth bundle --remove "$bundle" || true; fi
  rm -rf "$work" "$root"
}
trap cleanup EXIT
scripts/make-bundle.sh "$work/busybox" >/dev/null
echo "+ berth import $work/busybox/rootfs demo/busybox:1"
berth import --change 'CMD ["sh"]' -m "busybox-static from Debian" "$work/busybox/rootfs" demo/busybox:1
berth images
echo "+ berth bundle demo/busybox:1 $bundle"
berth bundle demo/busybox:1 "$bundle"
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
