"""linux.resources: limits visible from inside and in the host's cgroupfs."""
from pathlib import Path

import pytest

from conftest import CGROUP_ROOT

MIB = 1024 * 1024


def is_v2():
    return (CGROUP_ROOT / "cgroup.controllers").exists()


def host_cgroup_file(bundle, v1_controller, v1_file, v2_file):
    if is_v2():
        return CGROUP_ROOT / bundle.cgroup / v2_file
    return CGROUP_ROOT / v1_controller / bundle.cgroup / v1_file


def inside_file(rt, bundle, v1_path, v2_path):
    """Read a cgroup file in the container's own /sys/fs/cgroup."""
    rep = rt.run_probe(bundle, "read", v2_path if is_v2() else v1_path)
    assert rep["ok"], rep
    return rep["data"].strip()


def test_memory_limit_inside(rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    v = inside_file(rt, bundle, "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                    "/sys/fs/cgroup/memory.max")
    assert int(v) == 64 * MIB


def test_memory_limit_on_host(rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    cid = rt.start_sigwait(bundle)
    f = host_cgroup_file(bundle, "memory", "memory.limit_in_bytes",
                         "memory.max")
    assert int(f.read_text()) == 64 * MIB
    procs = f.with_name("cgroup.procs").read_text().split()
    assert str(rt.state(cid)["pid"]) in procs


def test_memory_limit_oom_kills(rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 64 * MIB}
    bundle.args("/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=100M count=1")
    assert rt.run(bundle).returncode == 128 + 9  # SIGKILL by the OOM killer


def test_pids_limit_inside(rt, bundle):
    bundle.linux["resources"]["pids"] = {"limit": 32}
    v = inside_file(rt, bundle, "/sys/fs/cgroup/pids/pids.max",
                    "/sys/fs/cgroup/pids.max")
    assert int(v) == 32


def test_pids_limit_on_host(rt, bundle):
    bundle.linux["resources"]["pids"] = {"limit": 32}
    rt.start_sigwait(bundle)
    f = host_cgroup_file(bundle, "pids", "pids.max", "pids.max")
    assert int(f.read_text()) == 32


def test_pids_limit_enforced(rt, bundle):
    bundle.linux["resources"]["pids"] = {"limit": 5}
    bundle.args("/bin/sh", "-c",
                "for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; exit 0")
    r = rt.run(bundle)  # the shell fails to fork (EAGAIN) and exits 2
    assert r.returncode != 0 and "fork" in r.stderr, r.stderr


def test_cpu_shares(rt, bundle):
    if is_v2():
        pytest.skip("cgroup v1 cpu.shares")
    bundle.linux["resources"]["cpu"] = {"shares": 512}
    rt.start_sigwait(bundle)
    f = host_cgroup_file(bundle, "cpu", "cpu.shares", "cpu.weight")
    assert int(f.read_text()) == 512


def test_cgroups_path_used(rt, bundle):
    rt.start_sigwait(bundle)
    ctrl = "" if is_v2() else "pids"
    assert Path(CGROUP_ROOT, ctrl, bundle.cgroup).is_dir()


def test_cgroup_removed_on_delete(rt, bundle):
    cid = rt.start_sigwait(bundle)
    ctrl = "" if is_v2() else "pids"
    d = Path(CGROUP_ROOT, ctrl, bundle.cgroup)
    assert d.is_dir()
    rt("delete", "--force", cid)
    assert not d.exists()
