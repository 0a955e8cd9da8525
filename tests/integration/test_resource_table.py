"""Every linux.resources field lands in the cgroup file runc would write, on
cgroup v1 (this host, hybrid) and v2 (the VM), with runc's v1->v2
conversions. One case per field; a field the host cannot have (no such
controller, no block device) is skipped with the reason."""
import json
from pathlib import Path

import pytest

from conftest import CGROUP_ROOT

MIB = 1024 * 1024
V2 = (CGROUP_ROOT / "cgroup.controllers").exists()
UNIFIED = CGROUP_ROOT / "unified"  # hybrid hosts: cgroup2 with some controllers


def block_device():
    """major:minor of a real block device, or None (the VM has none)."""
    for d in sorted(Path("/sys/block").glob("*")):
        if d.name.startswith(("loop", "ram")) or not (d / "dev").exists():
            continue
        return tuple(int(x) for x in (d / "dev").read_text().split(":"))
    return None


DEV = block_device()
DEVS = f"{DEV[0]}:{DEV[1]}" if DEV else None
DEVJ = {"major": DEV[0], "minor": DEV[1]} if DEV else {}

# (id, resources, v1 checks, v2 checks); a check is (controller, file,
# expected): expected is the whole content, or a line that must be present
# when it starts with "~". A `None` checks list: the field has no meaning
# there and is ignored (as runc does).
CASES = [
    ("memory.limit", {"memory": {"limit": 64 * MIB}},
     [("memory", "memory.limit_in_bytes", str(64 * MIB))],
     [("", "memory.max", str(64 * MIB))]),
    ("memory.reservation", {"memory": {"reservation": 32 * MIB}},
     [("memory", "memory.soft_limit_in_bytes", str(32 * MIB))],
     [("", "memory.low", str(32 * MIB))]),
    ("memory.swap", {"memory": {"limit": 64 * MIB, "swap": 96 * MIB}},
     [("memory", "memory.memsw.limit_in_bytes", str(96 * MIB))],
     [("", "memory.swap.max", str(32 * MIB))]),  # v2 swap excludes memory
    ("memory.swappiness", {"memory": {"swappiness": 7}},
     [("memory", "memory.swappiness", "7")], None),
    ("memory.disableOOMKiller", {"memory": {"disableOOMKiller": True}},
     [("memory", "memory.oom_control", "~oom_kill_disable 1")], None),
    ("memory.kernelTCP", {"memory": {"kernelTCP": 16 * MIB}},
     [("memory", "memory.kmem.tcp.limit_in_bytes", str(16 * MIB))], None),
    ("cpu.shares", {"cpu": {"shares": 512}},
     [("cpu", "cpu.shares", "512")],
     [("", "cpu.weight", "20")]),  # 1 + (512-2)*9999/262142
    ("cpu.quota+period", {"cpu": {"quota": 20000, "period": 50000}},
     [("cpu", "cpu.cfs_quota_us", "20000"), ("cpu", "cpu.cfs_period_us", "50000")],
     [("", "cpu.max", "20000 50000")]),
    ("cpu.burst", {"cpu": {"quota": 20000, "period": 100000, "burst": 10000}},
     [("cpu", "cpu.cfs_burst_us", "10000")],
     [("", "cpu.max.burst", "10000")]),
    ("cpu.idle", {"cpu": {"idle": 1}},
     [("cpu", "cpu.idle", "1")],
     [("", "cpu.idle", "1")]),
    ("cpu.realtimeRuntime", {"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 1000}},
     [("cpu", "cpu.rt_runtime_us", "1000"), ("cpu", "cpu.rt_period_us", "1000000")],
     None),  # v2: refused, see test_realtime_refused_on_v2
    ("cpu.cpus", {"cpu": {"cpus": "0"}},
     [("cpuset", "cpuset.cpus", "0")],
     [("", "cpuset.cpus", "0")]),
    ("cpu.mems", {"cpu": {"mems": "0"}},
     [("cpuset", "cpuset.mems", "0")],
     [("", "cpuset.mems", "0")]),
    ("pids.limit", {"pids": {"limit": 42}},
     [("pids", "pids.max", "42")],
     [("", "pids.max", "42")]),
    ("blockIO.throttleReadBpsDevice",
     {"blockIO": {"throttleReadBpsDevice": [{**DEVJ, "rate": MIB}]}},
     [("blkio", "blkio.throttle.read_bps_device", f"~{DEVS} {MIB}")],
     [("", "io.max", f"~{DEVS} rbps={MIB} wbps=max riops=max wiops=max")]),
    ("blockIO.throttleWriteIOPSDevice",
     {"blockIO": {"throttleWriteIOPSDevice": [{**DEVJ, "rate": 100}]}},
     [("blkio", "blkio.throttle.write_iops_device", f"~{DEVS} 100")],
     [("", "io.max", f"~{DEVS} rbps=max wbps=max riops=max wiops=100")]),
    ("hugepageLimits", {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MIB}]},
     [("hugetlb", "hugetlb.2MB.limit_in_bytes", str(4 * MIB))],
     [("", "hugetlb.2MB.max", str(4 * MIB))]),
    ("memory.kernel", {"memory": {"kernel": 64 * MIB}},
     [], None),  # gone from recent kernels: accepted and skipped, as runc
    ("memory.useHierarchy", {"memory": {"useHierarchy": True}},
     [("memory", "memory.use_hierarchy", "1")], None),
    ("memory.checkBeforeUpdate", {"memory": {"limit": 64 * MIB, "checkBeforeUpdate": True}},
     [("memory", "memory.limit_in_bytes", str(64 * MIB))],
     [("", "memory.max", str(64 * MIB))]),
    ("blockIO.throttleWriteBpsDevice",
     {"blockIO": {"throttleWriteBpsDevice": [{**DEVJ, "rate": 2 * MIB}]}},
     [("blkio", "blkio.throttle.write_bps_device", f"~{DEVS} {2 * MIB}")],
     [("", "io.max", f"~{DEVS} rbps=max wbps={2 * MIB} riops=max wiops=max")]),
    ("blockIO.throttleReadIOPSDevice",
     {"blockIO": {"throttleReadIOPSDevice": [{**DEVJ, "rate": 50}]}},
     [("blkio", "blkio.throttle.read_iops_device", f"~{DEVS} 50")],
     [("", "io.max", f"~{DEVS} rbps=max wbps=max riops=50 wiops=max")]),
    ("blockIO.weight", {"blockIO": {"weight": 300}},
     [("blkio", "blkio.bfq.weight", "300")],
     [("", "io.weight", "default 2930")]),  # 1 + (300-10)*9999/990
    ("blockIO.leafWeight", {"blockIO": {"leafWeight": 300}},
     [("blkio", "blkio.leaf_weight", "300")], None),
    ("network.classID", {"network": {"classID": 42}},
     [("net_cls", "net_cls.classid", "42")], None),
    ("network.priorities", {"network": {"priorities": [{"name": "lo", "priority": 3}]}},
     [("net_prio", "net_prio.ifpriomap", "~lo 3")], None),
    ("rdma", {"rdma": {"mlx_berth_test": {"hcaHandles": 3}}},
     [("rdma", "rdma.max", "~mlx_berth_test hca_handle=3 hca_object=max")],
     [("", "rdma.max", "~mlx_berth_test hca_handle=3 hca_object=max")]),
    ("unified", {"unified": {"pids.max": "17"}},
     None,  # v1 without a unified pids controller: refused, see below
     [("", "pids.max", "17")]),
]


def cgroup_file(bundle, controller, name):
    """The file in this container's cgroup; on a hybrid host a controller
    missing from v1 is looked for in the unified mount, as the driver does."""
    if V2:
        return CGROUP_ROOT / bundle.cgroup / name
    d = CGROUP_ROOT / controller
    if not d.is_dir() and (UNIFIED / "cgroup.controllers").exists() and \
            controller in (UNIFIED / "cgroup.controllers").read_text().split():
        d = UNIFIED
    return d / bundle.cgroup / name


def hybrid_unified(controller):
    """On a hybrid host, is `controller` only in the unified hierarchy?"""
    uni = UNIFIED / "cgroup.controllers"
    return not V2 and not (CGROUP_ROOT / controller).is_dir() and uni.exists() \
        and controller in uni.read_text().split()


def host_has(controller, name, token):
    """None, or why this host cannot have the file."""
    if V2 or hybrid_unified(controller):
        if controller == "" and "." in name:
            controller = name.split(".")[0]
        if controller in ("io", "blkio") and DEV is None:
            return "no block device"
        root = CGROUP_ROOT if V2 else UNIFIED
        if controller not in (root / "cgroup.controllers").read_text().split():
            return f"no {controller} controller"
        return None
    if controller == "blkio" and DEV is None:
        return "no block device"
    root = CGROUP_ROOT / controller
    if not root.is_dir():
        return f"no {controller} hierarchy"
    # Some files exist only below the root (pids.max, blkio.bfq.weight):
    # look in a fresh child cgroup.
    probe = root / f"{token}-probe"
    probe.mkdir()
    try:
        if not (probe / name).exists():
            return f"this kernel has no {name}"
    finally:
        probe.rmdir()
    return None


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_resource_written(rt, bundle, case):
    """Written where the host has the file; where it lacks the controller or
    the file, create fails naming the field and leaves nothing (the leak
    check) -- never a container silently without its limit."""
    name, resources, v1, v2 = case
    checks = v2 if V2 else v1
    if checks is None:
        pytest.skip(f"{name}: no cgroup {'v2' if V2 else 'v1'} equivalent")
    if checks and not V2 and hybrid_unified(checks[0][0]):
        checks = [(c[0], n, w) for (_, n, w), c in zip(v2, checks)]
    bundle.linux["resources"].update(resources)
    missing = [why for c, n, _ in checks if (why := host_has(c, n, rt.token))]
    if "no block device" in missing:
        pytest.skip("no block device to limit")
    if missing or name == "rdma":  # no RDMA device on our machines
        bundle.write()
        r = rt.create_r(bundle)
        assert r.returncode == 1, f"{missing}: create succeeded"
        assert f"linux.resources.{name.split('.')[0]}" in r.stderr, r.stderr
        return
    cid = rt.start_sigwait(bundle)
    assert rt.status(cid) == "running"
    for ctrl, file, want in checks:
        got = cgroup_file(bundle, ctrl, file).read_text().strip()
        if want.startswith("~"):
            assert want[1:] in got.splitlines(), f"{file}: {got!r}"
        else:
            assert got == want, f"{file}: {got!r}, wanted {want!r}"


def test_check_before_update_refuses_limit_below_usage(rt, bundle):
    if not V2:
        pytest.skip("checkBeforeUpdate is a cgroup v2 feature (runc ignores it on v1)")
    cid = rt.start_sigwait(bundle)
    r = rt("update", "--resources", "-", cid, check=False, input=json.dumps(
        {"memory": {"limit": 4096, "checkBeforeUpdate": True}}))
    assert r.returncode == 1 and "checkBeforeUpdate" in r.stderr, r.stderr
    assert rt.status(cid) == "running"


@pytest.mark.parametrize("case", [c for c in CASES if c[0].startswith("memory.swappiness")
                                  or c[0] == "memory.disableOOMKiller"],
                         ids=lambda c: c[0])
def test_v1_only_field_ignored_on_v2(rt, bundle, case):
    if not V2:
        pytest.skip("cgroup v2 behaviour")
    bundle.linux["resources"].update(case[1])
    rt.start_sigwait(bundle)  # created and running: ignored, as runc does


def test_realtime_refused_on_v2(rt, bundle):
    if not V2:
        pytest.skip("cgroup v2 behaviour")
    bundle.linux["resources"]["cpu"] = {"realtimeRuntime": 1000, "realtimePeriod": 1000000}
    bundle.write()
    r = rt.create_r(bundle)
    assert r.returncode == 1 and "realtime" in r.stderr, r.stderr


def test_unified_refused_on_v1(rt, bundle):
    if V2:
        pytest.skip("cgroup v1 behaviour")
    bundle.linux["resources"]["unified"] = {"pids.max": "17"}
    bundle.write()
    r = rt.create_r(bundle)
    assert r.returncode == 1 and "unified" in r.stderr, r.stderr
