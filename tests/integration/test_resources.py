"""linux.resources: limits visible from inside and in the host's cgroupfs."""
import os
import time
from pathlib import Path

import pytest

from conftest import CGROUP_ROOT
from helpers import poll, state_entries

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


def cgroup_dirs_named(name):
    """Every directory called `name` in any hierarchy (v1, hybrid, v2)."""
    found = []
    for dirpath, dirnames, _ in os.walk(CGROUP_ROOT):
        if os.path.basename(dirpath) == name:
            found.append(dirpath)
            dirnames[:] = []
    return found


def cg_read(bundle, v1_controller, v1_file, v2_file):
    return host_cgroup_file(bundle, v1_controller, v1_file, v2_file).read_text()


def test_fork_bomb_stops_at_pids_limit(rt, bundle):
    """A fork bomb never gets past pids.max, and delete --force still
    removes all of it (the leak check walks every hierarchy)."""
    bundle.linux["resources"]["pids"] = {"limit": 20}
    bundle.args("/bin/sh", "-c", "f() { f | f & }; f; exec /probe sigwait")
    cid = rt.run_detached(bundle)

    def hit_limit():
        ev = cg_read(bundle, "pids", "pids.events", "pids.events")
        return int(ev.split()[1]) > 0  # "max N": forks refused
    assert poll(hit_limit, 30)
    for _ in range(20):  # and it stays at the limit while it rages
        assert int(cg_read(bundle, "pids", "pids.current", "pids.current")) <= 20
    rt("delete", "--force", cid)
    assert not cgroup_dirs_named(bundle.cgroup)


def test_cpu_quota_throttles_busy_loop(rt, bundle):
    """A busy loop under a 10% quota is throttled, and uses well under a
    whole CPU (cpuacct / cpu.stat; the bound is tolerant on purpose)."""
    bundle.linux["resources"]["cpu"] = {"quota": 10000, "period": 100000}
    bundle.args("/bin/sh", "-c", "while :; do :; done")
    rt.run_detached(bundle)

    def usage_ns():
        if is_v2():
            stat = cg_read(bundle, "", "", "cpu.stat")
            return int(stat.split("usage_usec")[1].split()[0]) * 1000
        return int(cg_read(bundle, "cpuacct", "cpuacct.usage", ""))
    u0, t0 = usage_ns(), time.monotonic()
    time.sleep(1.0)
    u1, t1 = usage_ns(), time.monotonic()
    stat = cg_read(bundle, "cpu", "cpu.stat", "cpu.stat")
    throttled = int(stat.split("nr_throttled")[1].split()[0])
    assert throttled > 0, stat
    assert (u1 - u0) < 0.5 * (t1 - t0) * 1e9, (u1 - u0, t1 - t0)


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs two CPUs")
def test_cpuset_pins_process(rt, bundle):
    bundle.linux["resources"]["cpu"] = {"cpus": "1"}
    rep = rt.run_probe(bundle, "read", "/proc/self/status")
    assert "Cpus_allowed_list:\t1\n" in rep["data"], rep["data"]


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs two CPUs")
def test_cpuset_pins_exec_too(rt, bundle):
    bundle.linux["resources"]["cpu"] = {"cpus": "1"}
    cid = rt.start_sigwait(bundle)
    rep = rt.exec_probe(cid, "read", "/proc/self/status")
    assert "Cpus_allowed_list:\t1\n" in rep["data"], rep["data"]


@pytest.mark.parametrize("field,value", [
    ("cpu", {"cpus": "64-127"}),
    ("cpu", {"mems": "9"}),
    ("cpu", {"shares": 1 << 40}),
    pytest.param("memory", {"swappiness": 101}, marks=pytest.mark.skipif(
        is_v2(), reason="cgroup v2 has no swappiness (ignored, as runc)")),
    ("memory", {"limit": 64 * MIB, "swap": 32 * MIB}),
    ("hugepageLimits", [{"pageSize": "3MB", "limit": 1}]),
])
def test_bad_resource_value_leaves_nothing(rt, bundle, field, value):
    """A value the kernel refuses fails create with its name, exit 1, and
    no cgroup is left in any hierarchy, nor state."""
    bundle.linux["resources"][field] = value
    bundle.write()
    r = rt.create_r(bundle)
    assert r.returncode == 1, r.stderr
    assert field in r.stderr, r.stderr
    assert not cgroup_dirs_named(bundle.cgroup)
    assert not state_entries(rt.root)


def test_existing_cgroup_survives_delete(rt, bundle):
    """Only what create made is removed: a cgroup that existed before stays."""
    if is_v2():
        pre = [CGROUP_ROOT / bundle.cgroup]
    else:
        pre = [p / bundle.cgroup for p in CGROUP_ROOT.iterdir()
               if p.is_dir() and not p.is_symlink() and (p / "cgroup.procs").exists()]
    try:
        for p in pre:
            p.mkdir()
            if (p.parent / "cpuset.cpus").exists():  # v1 cpusets start empty
                (p / "cpuset.cpus").write_text((p.parent / "cpuset.cpus").read_text())
                (p / "cpuset.mems").write_text((p.parent / "cpuset.mems").read_text())
        cid = rt.start_sigwait(bundle)
        rt("delete", "--force", cid)
        assert all(p.is_dir() for p in pre)
    finally:
        for p in pre:
            poll(lambda: not p.exists() or (p.rmdir() or True), 5)
