"""pause / resume: the container's cgroup is frozen (no progress) and thawed."""
import time

import pytest

from conftest import CGROUP_ROOT
from helpers import assert_error
from test_resources import is_v2


def frozen_on_host(bundle):
    if is_v2():
        return (CGROUP_ROOT / bundle.cgroup / "cgroup.freeze").read_text().strip() == "1"
    return (CGROUP_ROOT / "freezer" / bundle.cgroup / "freezer.state").read_text().strip() == "FROZEN"


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_pause_freezes_and_resume_thaws(rt, bundle):
    bundle.args("/bin/sh", "-c", "while :; do :; done")
    cid = rt.run_detached(bundle)
    rt.wait_status(cid, "running")
    pid = rt.state(cid)["pid"]
    rt("pause", cid)
    assert rt.status(cid) == "paused"
    assert frozen_on_host(bundle)
    before = ticks(pid)
    time.sleep(0.3)
    assert ticks(pid) == before  # a frozen busy loop makes no progress
    assert_error(rt("exec", cid, "/bin/true", check=False), cid)
    rt("resume", cid)
    assert rt.status(cid) == "running"
    assert not frozen_on_host(bundle)
    deadline = time.monotonic() + 10
    while ticks(pid) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ticks(pid) > before


def test_pause_refuses_a_container_not_running(rt, bundle):
    cid = rt.create(bundle)
    assert_error(rt("pause", cid, check=False), cid)
    assert_error(rt("resume", cid, check=False), cid)


def test_delete_force_of_a_paused_container(rt, bundle):
    cid = rt.start_sigwait(bundle)
    rt("pause", cid)
    rt("delete", "--force", cid)
    assert rt("state", cid, check=False).returncode == 1


def freeze_on_host(bundle):
    if is_v2():
        (CGROUP_ROOT / bundle.cgroup / "cgroup.freeze").write_text("1")
    else:
        (CGROUP_ROOT / "freezer" / bundle.cgroup / "freezer.state").write_text("FROZEN")


@pytest.mark.berth_only
def test_delete_force_of_a_container_frozen_behind_its_back(rt, bundle):
    """A `kill --all` SIGKILLed mid-way leaves the cgroup frozen while the
    state says running: delete --force thaws it so that its processes die."""
    cid = rt.start_sigwait(bundle)
    freeze_on_host(bundle)
    assert frozen_on_host(bundle)
    rt("delete", "--force", cid)
    assert rt("state", cid, check=False).returncode == 1
