"""exec: a new process in a running container, and each of its flags."""
import json
import os
import signal
import subprocess

import pytest

from helpers import assert_error, cap_mask, caps_of, last_json, poll


@pytest.fixture
def ctr(rt, bundle):
    """A running container (init blocked in sigwait) -> its id."""
    bundle.cfg["root"]["readonly"] = False
    bundle.process["env"] = ["PATH=/bin", "CFG=1"]
    return rt.start_sigwait(bundle)


def test_exec_joins_the_container(rt, ctr):
    rep = rt.exec_probe(ctr, "report")
    assert rep["pid"] != 1
    pid = rt.state(ctr)["pid"]
    ns = rep["namespaces"]
    for kind in ("mnt", "pid", "net", "ipc", "uts", "cgroup"):
        assert ns[kind] == os.readlink(f"/proc/{pid}/ns/{kind}"), kind
    # Same cgroups as the init, seen from the host (the process's own view is
    # relative to its cgroup namespace).
    pidfile = f"/tmp/{rt.token}-exec.pid"
    try:
        # (its stdio are ours: let go of the pipes pytest reads)
        rt("exec", "-d", "--pid-file", pidfile, ctr, "/bin/sh", "-c",
           "exec /probe sleep 30 >/dev/null 2>&1 </dev/null")
        with open(pidfile) as f:
            epid = int(f.read())
        with open(f"/proc/{pid}/cgroup") as a, open(f"/proc/{epid}/cgroup") as b:
            assert sorted(a.read().split()) == sorted(b.read().split())
    finally:
        if os.path.exists(pidfile):
            os.unlink(pidfile)


def test_exec_inherits_process_config(rt, ctr):
    rep = rt.exec_probe(ctr)
    assert "CFG=1" in rep["env"]
    assert rep["no_new_privs"] == 1  # runc spec default


def test_exec_exit_status(rt, ctr):
    assert rt("exec", ctr, "/probe", "exit", "6", check=False).returncode == 6


def test_exec_killed_by_signal(rt, ctr):
    r = rt("exec", ctr, "/bin/sh", "-c", "kill -KILL $$", check=False)
    assert r.returncode == 128 + signal.SIGKILL


def test_exec_process_file(rt, bundle, ctr):
    proc = {"args": ["/probe"], "cwd": "/tmp", "env": ["ONLY=this"],
            "user": {"uid": 1000, "gid": 1000}, "terminal": False}
    f = bundle.path / "process.json"
    f.write_text(json.dumps(proc))
    rep = last_json(rt("exec", "--process", f, ctr).stdout)
    assert rep["cwd"] == "/tmp"
    # like runc, HOME is added from /etc/passwd when the env lacks it
    assert sorted(rep["env"]) == ["HOME=/home/user", "ONLY=this"]
    assert rep["uid"]["effective"] == 1000


def test_exec_process_file_capabilities(rt, bundle, ctr):
    caps = ["CAP_KILL"]
    proc = {"args": ["/probe"], "cwd": "/", "user": {"uid": 0, "gid": 0},
            "capabilities": {k: caps for k in (
                "bounding", "effective", "permitted", "inheritable")}}
    f = bundle.path / "process.json"
    f.write_text(json.dumps(proc))
    rep = last_json(rt("exec", "--process", f, ctr).stdout)
    assert caps_of(rep, "bounding") == cap_mask(caps)


def test_exec_detach(rt, bundle, ctr):
    out = bundle.path / "exec.out"
    with open(out, "w") as f:  # the detached process keeps its stdio
        r = rt("exec", "--detach", ctr, "/probe", "sigwait", stdout=f,
               stderr=f)
    assert r.returncode == 0
    assert poll(lambda: '"ready"' in out.read_text())
    pids = json.loads(rt("ps", "--format", "json", ctr).stdout)
    assert len(pids) == 2


def test_exec_pid_file(rt, bundle, ctr):
    pidfile = bundle.path / "exec.pid"
    rt("exec", "-d", "--pid-file", pidfile, ctr, "/probe", "sleep", "100",
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid = int(pidfile.read_text())
    assert pid in json.loads(rt("ps", "--format", "json", ctr).stdout)


def test_exec_cwd(rt, ctr):
    assert rt.exec_probe(ctr, flags=("--cwd", "/etc"))["cwd"] == "/etc"


def test_exec_env(rt, ctr):
    rep = rt.exec_probe(ctr, flags=("--env", "A=1", "--env", "B=x y"))
    assert "A=1" in rep["env"] and "B=x y" in rep["env"]
    assert "CFG=1" in rep["env"]


def test_exec_env_overrides_config(rt, ctr):
    rep = rt.exec_probe(ctr, flags=("--env", "CFG=2"))
    assert "CFG=2" in rep["env"] and "CFG=1" not in rep["env"]


def test_exec_user_uid_gid(rt, ctr):
    rep = rt.exec_probe(ctr, flags=("--user", "1000:1001"))
    assert rep["uid"] == {"real": 1000, "effective": 1000, "saved": 1000}
    assert rep["gid"]["effective"] == 1001


def test_exec_user_uid_only(rt, ctr):
    rep = rt.exec_probe(ctr, flags=("--user", "1000"))
    assert rep["uid"]["effective"] == 1000
    assert rep["gid"]["effective"] == 0


def test_exec_additional_gids(rt, ctr):
    rep = rt.exec_probe(ctr, flags=("--user", "1000:1000",
                                    "--additional-gids", "10",
                                    "--additional-gids", "20"))
    assert sorted(rep["groups"]) == [10, 20]


def test_exec_cap(rt, ctr):
    rep = rt.exec_probe(ctr, flags=("--cap", "CAP_SYS_ADMIN"))
    want = cap_mask(["CAP_SYS_ADMIN"])
    for which in ("bounding", "effective", "permitted"):
        assert caps_of(rep, which) & want, which


def test_exec_without_cap(rt, ctr):
    rep = rt.exec_probe(ctr)
    assert not caps_of(rep, "effective") & cap_mask(["CAP_SYS_ADMIN"])


def test_exec_no_new_privs(rt, make_bundle):
    b = make_bundle()
    b.process["noNewPrivileges"] = False
    cid = rt.start_sigwait(b)
    assert rt.exec_probe(cid)["no_new_privs"] == 0
    assert rt.exec_probe(cid, flags=("--no-new-privs",))["no_new_privs"] == 1


def test_exec_stopped_container_fails(rt, bundle):
    bundle.probe("exit", "0")
    cid = rt.run_detached(bundle)
    rt.wait_status(cid, "stopped")
    r = rt("exec", cid, "/probe", check=False)
    assert r.returncode != 0 and r.stderr.strip()


def test_exec_unknown_container_fails(rt):
    r = rt("exec", rt.new_id(), "/probe", check=False)
    assert r.returncode != 0 and r.stderr.strip()


@pytest.mark.berth_only
def test_exec_errors_exit_1(rt):
    """runc exits 255 when exec itself fails; berth: 1 like every error."""
    cid = rt.new_id()
    assert_error(rt("exec", cid, "/probe", check=False), cid)


def test_exec_missing_binary_fails(rt, ctr):
    r = rt("exec", ctr, "/no/such/binary", check=False)
    assert r.returncode != 0 and "/no/such/binary" in r.stderr


def test_exec_processes_die_with_container(rt, ctr):
    rt("exec", "-d", ctr, "/probe", "sleep", "100",
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids = json.loads(rt("ps", "--format", "json", ctr).stdout)
    rt("kill", ctr, "KILL")
    rt.wait_status(ctr, "stopped")
    assert poll(lambda: not any(os.path.exists(f"/proc/{p}/cmdline") and
                                open(f"/proc/{p}/cmdline").read()
                                for p in pids))
