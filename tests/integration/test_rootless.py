"""Rootless: an unprivileged user runs a container from `spec --rootless`
(its uid mapped to root inside, no cgroup of its own, state under
$XDG_RUNTIME_DIR), as with `runc spec --rootless` and `runc run`."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import RUNTIME, copy_rootfs, template_rootfs
from helpers import host_ns, last_json, run_cmd

UID = 4242  # no account needed: setpriv takes numbers


@pytest.fixture
def user_bundle(rt):
    base = Path(f"/tmp/{rt.token}-rootless")
    rt.files.append(str(base))
    base.mkdir(mode=0o755)
    copy_rootfs(template_rootfs(), base / "rootfs")
    (base / "xdg").mkdir(mode=0o700)
    for p in (base, base / "xdg"):
        os.chown(p, UID, UID)
    return base


def as_user(base, *args, check=True, timeout=30, out=None):
    """The runtime run by UID; `out`: a file for stdout and stderr (a
    detached container keeps them open, so no pipes then)."""
    env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": str(base / "xdg")}
    io = {"stdout": out, "stderr": out} if out else \
        {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    # run_cmd: a child of ours, which the harness's zombie reaper leaves alone.
    r = run_cmd(["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups",
                 RUNTIME, *args], env=env, cwd=base, text=True, timeout=timeout,
                stdin=subprocess.DEVNULL, **io)
    if check:
        assert r.returncode == 0, f"{args} exited {r.returncode}: {r.stderr}"
    return r


def configure(base, *argv):
    cfg = json.loads((base / "config.json").read_text())
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/probe", *argv]
    (base / "config.json").write_text(json.dumps(cfg))
    return cfg


def test_rootless_run(rt, user_bundle):
    as_user(user_bundle, "spec", "--rootless")
    configure(user_bundle)
    r = as_user(user_bundle, "run", f"{rt.token}-rl")
    rep = last_json(r.stdout)
    assert rep["uid"]["effective"] == 0  # root inside ...
    assert rep["namespaces"]["user"] != host_ns("user")
    assert "rootless" in r.stderr  # ... told it runs without a cgroup of its own


def test_rootless_maps_the_caller(rt, user_bundle):
    as_user(user_bundle, "spec", "--rootless")
    configure(user_bundle, "read", "/proc/self/uid_map")
    rep = last_json(as_user(user_bundle, "run", f"{rt.token}-rl").stdout)
    assert rep["data"].split() == ["0", str(UID), "1"]


def test_rootless_state_under_xdg_runtime_dir(rt, user_bundle):
    as_user(user_bundle, "spec", "--rootless")
    configure(user_bundle, "sigwait")
    cid = f"{rt.token}-rl"
    out = open(user_bundle / "out", "w")
    try:
        as_user(user_bundle, "run", "-d", cid, out=out)
        assert (user_bundle / "xdg" / "berth-runtime" / cid / "state.json").exists()
        st = json.loads(as_user(user_bundle, "state", cid).stdout)
        assert st["status"] == "running"
        as_user(user_bundle, "kill", "--all", cid, "KILL")
    finally:
        out.close()
        as_user(user_bundle, "delete", "--force", cid, check=False)
    assert not (user_bundle / "xdg" / "berth-runtime" / cid).exists()


def test_rootless_limits_need_a_cgroup(rt, user_bundle):
    """Limits cannot be had without a cgroup: a clear error, nothing left."""
    as_user(user_bundle, "spec", "--rootless")
    cfg = configure(user_bundle)
    cfg["linux"]["resources"] = {"pids": {"limit": 10}}
    (user_bundle / "config.json").write_text(json.dumps(cfg))
    r = as_user(user_bundle, "run", f"{rt.token}-rl", check=False)
    assert r.returncode == 1
    assert "cgroup" in r.stderr, r.stderr
    assert not list((user_bundle / "xdg").glob("berth-runtime/*"))
