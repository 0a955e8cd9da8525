"""update (runc's flags and --resources JSON) and events --stats on a running
container: the new limit is what the container's processes then see and feel."""
import json
import subprocess

import pytest
from pathlib import Path

from conftest import CGROUP_ROOT
from helpers import assert_error
from test_resources import MIB, is_v2


def inside(rt, cid, v1_path, v2_path):
    r = rt("exec", cid, "/probe", "read", v2_path if is_v2() else v1_path)
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    assert rep["ok"], rep
    return rep["data"].strip()


def mem_limit(rt, cid):
    return int(inside(rt, cid, "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"))


def test_update_memory_flag_seen_inside(rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    cid = rt.start_sigwait(bundle)
    assert mem_limit(rt, cid) == 64 * MIB
    rt("update", "--memory", "32m", cid)
    assert mem_limit(rt, cid) == 32 * MIB


def test_update_memory_is_felt(rt, bundle):
    """After update, allocating more than the new limit gets the process OOM-killed."""
    bundle.linux["resources"]["memory"] = {"limit": 256 * MIB}
    cid = rt.start_sigwait(bundle)
    ok = rt("exec", cid, "/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1", check=False)
    assert ok.returncode == 0, ok.stderr
    rt("update", "--memory", "32m", cid)
    r = rt("exec", cid, "/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1", check=False)
    assert r.returncode == 128 + 9


def test_update_pids_limit_and_resources_json(rt, bundle):
    bundle.linux["resources"]["pids"] = {"limit": 50}
    cid = rt.start_sigwait(bundle)
    rt("update", "--pids-limit", "20", cid)
    assert inside(rt, cid, "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max") == "20"
    rt("update", "--resources", "-", cid, input=json.dumps({"pids": {"limit": 7}}))
    assert inside(rt, cid, "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max") == "7"


def test_update_cpu_quota_on_host(rt, bundle):
    cid = rt.start_sigwait(bundle)
    rt("update", "--cpu-quota", "50000", "--cpu-period", "100000", cid)
    if is_v2():
        assert (CGROUP_ROOT / bundle.cgroup / "cpu.max").read_text().split() == ["50000", "100000"]
    else:
        assert (CGROUP_ROOT / "cpu" / bundle.cgroup / "cpu.cfs_quota_us").read_text().strip() == "50000"


def test_update_bad_value_is_clear_error(rt, bundle):
    cid = rt.start_sigwait(bundle)
    assert_error(rt("update", "--memory", "12q", cid, check=False), "--memory")
    assert_error(rt("update", "--resources", "-", cid, input="{\"pids\": {\"limit\": \"x\"}}",
                    check=False), "pids.limit")


def test_update_unknown_container(rt):
    assert_error(rt("update", "--memory", "32m", "berth-test-nope", check=False), "berth-test-nope")


def test_events_stats_reports_usage(rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    bundle.linux["resources"]["pids"] = {"limit": 40}
    cid = rt.start_sigwait(bundle)
    rt("exec", cid, "/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done")
    rec = json.loads(rt("events", "--stats", cid).stdout)
    assert rec["type"] == "stats" and rec["id"] == cid
    d = rec["data"]
    assert d["cpu"]["usage"]["total"] > 0
    assert d["memory"]["usage"]["usage"] > 0
    assert d["memory"]["usage"]["limit"] == 64 * MIB
    assert d["pids"]["current"] >= 1 and d["pids"]["limit"] == 40


def test_events_stopped_container_is_error(rt, bundle):
    bundle.args("/bin/true")
    cid = rt.run_detached(bundle)
    rt.wait_status(cid, "stopped")
    assert_error(rt("events", "--stats", cid, check=False), cid)


def test_events_stats_blkio_and_hugetlb_shape(rt, bundle):
    cid = rt.start_sigwait(bundle)
    # Some block I/O of the container's own (a direct read would need a
    # device node; a write that the kernel must flush is enough on v1 and v2).
    d = json.loads(rt("events", "--stats", cid).stdout)["data"]
    assert set(d["blkio"]) >= {"ioServiceBytesRecursive", "ioServicedRecursive"}
    for e in d["blkio"]["ioServiceBytesRecursive"]:
        assert set(e) == {"major", "minor", "op", "value"}
    sizes = [p.name for p in Path("/sys/kernel/mm/hugepages").glob("hugepages-*")]
    if sizes and (is_v2() or (CGROUP_ROOT / "unified/cgroup.controllers").exists()):
        assert "2MB" in d["hugetlb"], d["hugetlb"]
        assert set(d["hugetlb"]["2MB"]) == {"usage", "max", "failcnt"}


def test_events_stream_reports_oom_kill(rt, bundle):
    """The stream shows {"type": "oom"} when the kernel OOM-kills a process
    of the container, and ends when the container stops."""
    bundle.linux["resources"]["memory"] = {"limit": 32 * MIB}
    cid = rt.start_sigwait(bundle)
    ev = rt.popen("events", "--interval", "60s", cid, stdout=subprocess.PIPE, text=True)
    first = ev.stdout.readline()  # the stream is up: the watch is registered
    assert json.loads(first)["type"] == "stats"
    r = rt("exec", cid, "/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1",
           check=False)
    assert r.returncode == 128 + 9, r.stderr
    line = ev.stdout.readline()
    assert json.loads(line) == {"type": "oom", "id": cid}
    rt("kill", cid, "KILL")
    assert ev.wait(20) == 0  # the container stopped: the stream ends


def test_events_stream_interval(rt, bundle):
    cid = rt.start_sigwait(bundle)
    ev = rt.popen("events", "--interval", "100ms", cid, stdout=subprocess.PIPE, text=True)
    recs = [json.loads(ev.stdout.readline()) for _ in range(3)]
    assert all(r["type"] == "stats" and r["id"] == cid for r in recs)
    rt("kill", cid, "KILL")
    assert ev.wait(20) == 0


# runc's update flags -> (v1 controller, v1 file, value), (v2 file, value);
# None: no such file on that version (the flag is skipped there).
UPDATE_FLAGS = [
    (["--memory", "96m", "--memory-reservation", "48m"],
     ("memory", "memory.soft_limit_in_bytes", str(48 * MIB)), ("memory.low", str(48 * MIB))),
    (["--memory", "96m", "--memory-swap", "128m"],
     ("memory", "memory.memsw.limit_in_bytes", str(128 * MIB)), ("memory.swap.max", str(32 * MIB))),
    (["--cpu-shares", "256"], ("cpu", "cpu.shares", "256"), ("cpu.weight", "10")),
    (["--cpu-rt-period", "1000000", "--cpu-rt-runtime", "2000"],
     ("cpu", "cpu.rt_runtime_us", "2000"), None),
    (["--cpuset-cpus", "0"], ("cpuset", "cpuset.cpus", "0"), ("cpuset.cpus", "0")),
    (["--cpuset-mems", "0"], ("cpuset", "cpuset.mems", "0"), ("cpuset.mems", "0")),
    (["--blkio-weight", "300"], ("blkio", "blkio.bfq.weight", "300"), ("io.bfq.weight", "default 300")),
]


@pytest.mark.parametrize("flags,v1,v2", UPDATE_FLAGS, ids=[f[0][-2] for f in UPDATE_FLAGS])
def test_update_flag_written(rt, bundle, flags, v1, v2):
    if is_v2():
        if v2 is None:
            pytest.skip("no cgroup v2 equivalent")
        path, want = CGROUP_ROOT / bundle.cgroup / v2[0], v2[1]
    else:
        path, want = CGROUP_ROOT / v1[0] / bundle.cgroup / v1[1], v1[2]
    cid = rt.start_sigwait(bundle)
    if not path.exists():
        pytest.skip(f"this host has no {path.name}")  # e.g. no RT group scheduling
    rt("update", *flags, cid)
    assert path.read_text().strip() == want
