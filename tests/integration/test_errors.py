"""Bad input: a clear error (exit 1, one line on stderr naming the culprit)
and nothing left behind (the autouse leak check verifies that)."""
import json
import os
import signal
import time

import pytest

from helpers import assert_error, poll


def _malformed(b):
    (b.path / "config.json").write_text('{"ociVersion": "1.0.2", "process": ')


def _missing_config(b):
    (b.path / "config.json").unlink()


def _wrong_type(b):
    b.cfg["process"] = "not an object"
    b.write()


def _missing_rootfs(b):
    b.cfg["root"]["path"] = "no-such-rootfs"
    b.write()


def _bad_mount_type(b):
    b.add_mount("/mnt", "bogusfs", "none", [])
    b.write()


def _bad_bind_source(b):
    b.add_mount("/mnt", "bind", str(b.path / "no-such-source"), ["bind"])
    b.write()


def _unknown_namespace(b):
    b.linux["namespaces"].append({"type": "bogusns"})
    b.write()


def _relative_cwd(b):
    b.process["cwd"] = "relative/dir"
    b.write()


def _no_args(b):
    b.process["args"] = []
    b.write()


def _missing_binary(b):
    b.process["args"] = ["/no/such/binary"]
    b.write()


def _bad_device_type(b):
    b.linux["devices"] = [{"path": "/dev/x", "type": "q", "major": 1,
                           "minor": 3}]
    b.write()


# name -> (mutator, what the message must name, whether runc names it)
CASES = {
    "malformed_json": (_malformed, "config.json", False),
    "missing_config": (_missing_config, "config.json", True),
    "wrong_type": (_wrong_type, "process", True),
    "missing_rootfs": (_missing_rootfs, "no-such-rootfs", True),
    "bad_mount_type": (_bad_mount_type, "/mnt", True),
    "bad_bind_source": (_bad_bind_source, "no-such-source", True),
    "unknown_namespace": (_unknown_namespace, "bogusns", True),
    "relative_cwd": (_relative_cwd, "cwd", True),
    "no_args": (_no_args, "args", True),
    "missing_binary": (_missing_binary, "/no/such/binary", True),
    "bad_device_type": (_bad_device_type, "/dev/x", False),
}


def assert_nothing_registered(rt, cid):
    assert rt("state", cid, check=False).returncode == 1
    assert cid not in rt("list", "-q").stdout.split()
    assert not os.path.exists(os.path.join(rt.root, cid))


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_create(rt, bundle, case):
    mutate, name, runc_names = CASES[case]
    mutate(bundle)
    r = rt.create_r(bundle)
    assert_error(r, *([name] if runc_names else []))
    assert_nothing_registered(rt, r.id)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_run(rt, bundle, case):
    mutate, name, runc_names = CASES[case]
    mutate(bundle)
    r = rt.run(bundle)
    assert_error(r, *([name] if runc_names else []))
    assert_nothing_registered(rt, r.id)


@pytest.mark.berth_only
@pytest.mark.parametrize("case", sorted(
    c for c, v in CASES.items() if not v[2]))
def test_bad_config_message_names_culprit(rt, bundle, case):
    mutate, name, _ = CASES[case]
    mutate(bundle)
    assert_error(rt.create_r(bundle), name)


def test_error_is_logged_as_json(rt, bundle):
    log = bundle.path / "err.log"
    _missing_rootfs(bundle)
    r = rt.run(bundle, glob=("--log", log, "--log-format", "json"))
    assert r.returncode == 1
    recs = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
    errs = [x for x in recs if x["level"] == "error"]
    assert errs and "no-such-rootfs" in errs[-1]["msg"]


# ---- unknown ids, duplicate ids, bad ids, bad signals ----

@pytest.mark.parametrize("cmd", [("state",), ("start",), ("kill",),
                                 ("delete",), ("ps",), ("kill", "KILL")])
def test_unknown_container(rt, cmd):
    cid = rt.new_id()
    r = rt(cmd[0], cid, *cmd[1:], check=False)
    assert_error(r)


@pytest.mark.berth_only
@pytest.mark.parametrize("cmd", ["state", "start", "kill", "delete", "ps",
                                 "exec"])
def test_unknown_container_names_id(rt, cmd):
    cid = rt.new_id()
    args = [cmd, cid] + (["/probe"] if cmd == "exec" else [])
    assert_error(rt(*args, check=False), cid)


def test_delete_force_unknown_container(rt):
    """Like runc, --force makes delete idempotent: exit 0, no output."""
    r = rt("delete", "--force", rt.new_id(), check=False)
    assert r.returncode == 0 and not r.stderr.strip()


def test_delete_removes_dir_without_state(rt):
    """A state dir without state.json (an aborted create) is removed."""
    cid = rt.new_id()
    os.makedirs(os.path.join(rt.root, cid))
    rt("delete", "--force", cid)
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_duplicate_id(rt, make_bundle):
    a, b = make_bundle(), make_bundle()
    cid = rt.create(a)
    pid = rt.state(cid)["pid"]
    r = rt.create_r(b, cid)
    assert_error(r)
    st = rt.state(cid)
    assert st["pid"] == pid and st["status"] == "created"
    assert st["bundle"] == str(a.path)


@pytest.mark.berth_only
def test_duplicate_id_names_it(rt, make_bundle):
    cid = rt.create(make_bundle())
    assert_error(rt.create_r(make_bundle(), cid), cid)


@pytest.mark.parametrize("bad", ["../escape", "a/b", "..", ""])
def test_invalid_id(rt, bundle, bad):
    r = rt.create_r(bundle, bad)
    assert r.returncode == 1
    assert not os.path.exists(os.path.join(os.path.dirname(rt.root), "escape"))


def test_invalid_signal(rt, bundle):
    cid = rt.start_sigwait(bundle)
    r = rt("kill", cid, "SIGBOGUS", check=False)
    assert_error(r, "SIGBOGUS")
    assert rt.status(cid) == "running"
    assert '"signal"' not in rt.output(bundle, cid)


@pytest.mark.parametrize("sig", ["0x9", "-9", "99", "NOTASIG"])
def test_invalid_signal_forms(rt, bundle, sig):
    cid = rt.start_sigwait(bundle)
    assert rt("kill", cid, sig, check=False).returncode == 1
    assert rt.status(cid) == "running"


def test_missing_arguments(rt):
    for cmd in ("create", "start", "state", "kill", "delete", "exec"):
        r = rt(cmd, check=False)
        assert r.returncode != 0 and r.stderr.strip(), cmd


def test_unknown_command(rt):
    r = rt("frobnicate", check=False)
    assert r.returncode != 0 and "frobnicate" in (r.stderr + r.stdout)


def test_unknown_flag(rt, bundle):
    r = rt("create", "--no-such-flag", "--bundle", bundle.path, rt.new_id(),
           check=False)
    assert r.returncode != 0 and "no-such-flag" in (r.stderr + r.stdout)


# ---- a runtime killed in the middle of create ----

def blocking_hook(bundle, kind):
    """A hook that records its pid, then blocks; -> the pid file."""
    pidfile = bundle.path / "hook.pid"
    bundle.cfg["hooks"] = {kind: [{"path": "/bin/sh", "args": [
        "sh", "-c", f"echo $$ > {pidfile}; exec sleep 60"]}]}
    bundle.write()
    return pidfile


def kill_pid(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.berth_only
@pytest.mark.parametrize("kind", ["createRuntime", "createContainer"])
def test_runtime_killed_mid_create(rt, bundle, kind):
    """SIGKILL the runtime while a create hook runs: delete --force must
    then remove every trace (the leak check verifies)."""
    pidfile = blocking_hook(bundle, kind)
    cid = rt.new_id()
    out = open(bundle.path / "mid.out", "w")
    p = rt.popen("create", "--bundle", bundle.path, cid, stdout=out,
                 stderr=out)
    assert poll(lambda: pidfile.exists() and pidfile.read_text().strip())
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    kill_pid(int(pidfile.read_text()))  # the hook is ours to stop
    r = rt("delete", "--force", cid, check=False)
    assert r.returncode == 0, r.stderr
    assert rt("state", cid, check=False).returncode == 1


@pytest.mark.parametrize("delay_ms", [0, 1, 2, 4, 6, 8, 12, 16, 24, 32, 64])
def test_runtime_killed_at_any_moment_of_create(rt, bundle, delay_ms):
    """SIGKILL the runtime some milliseconds into create (wherever it is
    then: parsing, cgroups, clone, mounts, sync): delete --force leaves
    nothing (the leak check walks every hierarchy, mounts and processes)."""
    bundle.probe("sigwait")
    cid = rt.new_id()
    out = open(bundle.path / "mid.out", "w")
    p = rt.popen("create", "--bundle", bundle.path, cid, stdout=out, stderr=out)
    time.sleep(delay_ms / 1000)
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    r = rt("delete", "--force", cid, check=False)
    assert r.returncode == 0, r.stderr
    assert rt("state", cid, check=False).returncode == 1


@pytest.mark.berth_only
def test_state_creating_while_create_runs(rt, bundle):
    pidfile = blocking_hook(bundle, "createRuntime")
    cid = rt.new_id()
    out = open(bundle.path / "mid.out", "w")
    p = rt.popen("create", "--bundle", bundle.path, cid, stdout=out,
                 stderr=out)
    assert poll(lambda: pidfile.exists() and pidfile.read_text().strip())
    try:
        assert rt.state(cid)["status"] == "creating"
    finally:
        kill_pid(int(pidfile.read_text()))
        p.wait(20)


def test_created_container_deletable_by_another_process(rt, bundle):
    """create returned: its init lives on without the runtime process, and
    a later delete --force kills it."""
    cid = rt.create(bundle)
    pid = rt.state(cid)["pid"]
    rt("delete", "--force", cid)
    assert poll(lambda: not os.path.exists(f"/proc/{pid}/cmdline") or
                not open(f"/proc/{pid}/cmdline").read())
