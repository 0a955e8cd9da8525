"""create / start / run / state / kill / delete and the container lifecycle."""
import datetime
import json
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from helpers import assert_error, last_json, poll, state_entries


def proc_alive(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_create_parks_init_until_start(rt, bundle):
    bundle.probe("sigwait")
    cid = rt.create(bundle)
    st = rt.state(cid)
    assert st["status"] == "created"
    assert st["pid"] > 0 and proc_alive(st["pid"])
    # the user process has not run yet
    assert rt.output(bundle, cid) == ""
    assert not os.readlink(f"/proc/{st['pid']}/exe").endswith("/probe")
    assert rt.status(cid) == "created"
    rt("start", cid)
    rt.wait_output(bundle, cid, '"ready"')
    st2 = rt.state(cid)
    assert st2["status"] == "running"
    assert st2["pid"] == st["pid"]


def test_status_running_then_stopped(rt, bundle):
    cid = rt.start_sigwait(bundle)
    assert rt.status(cid) == "running"
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")
    rt("delete", cid)
    assert rt("state", cid, check=False).returncode == 1


def test_exited_process_shows_stopped(rt, bundle):
    bundle.probe("exit", "0")
    cid = rt.run_detached(bundle)
    rt.wait_status(cid, "stopped")
    assert rt.state(cid).get("pid", 0) == 0  # runc: "pid": 0
    rt("delete", cid)


def test_state_fields(rt, bundle):
    bundle.cfg["annotations"] = {"org.berth.test": "yes", "k": "v"}
    bundle.write()
    cid = rt.create(bundle)
    st = rt.state(cid)
    assert st["id"] == cid
    assert st["status"] == "created"
    assert re.match(r"^\d+\.\d+\.\d+", st["ociVersion"])
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert st["bundle"] == str(bundle.path)
    assert os.path.realpath(st["rootfs"]) == str(bundle.rootfs)
    created = datetime.datetime.fromisoformat(st["created"][:26].rstrip("Z"))
    assert abs((datetime.datetime.utcnow() - created).total_seconds()) < 3600
    assert "owner" in st
    assert st["annotations"] == {"org.berth.test": "yes", "k": "v"}


def test_state_relative_bundle(rt, bundle):
    """--bundle given relative to the cwd is stored absolute."""
    cid = rt.new_id()
    rt("create", "--bundle", bundle.path.name, cid, cwd=bundle.path.parent,
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert rt.state(cid)["bundle"] == str(bundle.path)


def test_run_foreground_returns_exit_status(rt, bundle):
    bundle.probe("exit", "42")
    r = rt.run(bundle)
    assert r.returncode == 42
    assert rt("state", r.id, check=False).returncode != 0  # run deletes


def test_run_foreground_output(rt, bundle):
    rep = rt.run_probe(bundle)
    assert rep["pid"] == 1


def test_run_default_bundle_is_cwd(rt, bundle):
    cid = rt.new_id()
    r = rt("run", cid, cwd=bundle.path, check=False)
    assert r.returncode == 0, r.stderr
    assert last_json(r.stdout)["pid"] == 1


def test_run_killed_by_signal_returns_128_plus_n(rt, bundle):
    bundle.probe("sigwait")
    cid = rt.new_id()
    out = open(bundle.path / "fg.out", "w+")
    p = rt.popen("run", "--bundle", bundle.path, cid, stdout=out, stderr=out)
    assert poll(lambda: '"ready"' in Path(out.name).read_text())
    rt.wait_status(cid, "running")  # runc may save its state after the exec
    rt("kill", cid, "KILL")
    assert p.wait(20) == 128 + 9


def test_run_forwards_signals(rt, bundle):
    """Foreground run relays the signals it gets to the container process."""
    bundle.probe("sigwait")
    cid = rt.new_id()
    out = open(bundle.path / "fg.out", "w+")
    p = rt.popen("run", "--bundle", bundle.path, cid, stdout=out, stderr=out)
    assert poll(lambda: '"ready"' in Path(out.name).read_text())
    rt.wait_status(cid, "running")
    p.send_signal(signal.SIGUSR1)
    assert p.wait(20) == 0
    assert last_json(Path(out.name).read_text())["signal"] == signal.SIGUSR1


def test_run_self_signal_without_pidns(rt, bundle):
    bundle.set_namespace("pid", present=False)
    bundle.args("/bin/sh", "-c", "kill -TERM $$")
    assert rt.run(bundle).returncode == 128 + signal.SIGTERM


def test_run_detach_returns_while_running(rt, bundle):
    cid = rt.start_sigwait(bundle)
    assert rt.status(cid) == "running"


def test_pid_file_create(rt, bundle):
    pidfile = bundle.path / "init.pid"
    cid = rt.create(bundle, flags=("--pid-file", pidfile))
    assert int(pidfile.read_text()) == rt.state(cid)["pid"]


def test_pid_file_run_detach(rt, bundle):
    pidfile = bundle.path / "run.pid"
    bundle.probe("sigwait")
    cid = rt.run_detached(bundle, flags=("--pid-file", pidfile))
    assert int(pidfile.read_text()) == rt.state(cid)["pid"]


def test_start_twice_fails(rt, bundle):
    cid = rt.start_sigwait(bundle)
    r = rt("start", cid, check=False)
    assert r.returncode == 1
    assert rt.status(cid) == "running"


def test_start_stopped_fails(rt, bundle):
    bundle.probe("exit", "0")
    cid = rt.run_detached(bundle)
    rt.wait_status(cid, "stopped")
    assert rt("start", cid, check=False).returncode == 1


@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "9"])
def test_kill_spellings(rt, bundle, sig):
    cid = rt.start_sigwait(bundle)
    rt("kill", cid, sig)
    rt.wait_status(cid, "stopped")


def test_kill_default_is_term(rt, bundle):
    cid = rt.start_sigwait(bundle)
    rt("kill", cid)
    rt.wait_output(bundle, cid, '"signal"')
    assert last_json(rt.output(bundle, cid))["signal"] == signal.SIGTERM


@pytest.mark.parametrize("sig", ["USR1", "SIGUSR1", "10"])
def test_kill_delivers_named_signal(rt, bundle, sig):
    cid = rt.start_sigwait(bundle)
    rt("kill", cid, sig)
    rt.wait_output(bundle, cid, '"signal"')
    assert last_json(rt.output(bundle, cid))["signal"] == signal.SIGUSR1


def test_kill_created_container(rt, bundle):
    cid = rt.create(bundle)
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")


def test_kill_all(rt, bundle):
    cid = rt.start_sigwait(bundle)
    rt("exec", "-d", cid, "/probe", "sleep", "100",
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert poll(lambda: len(ps_pids(rt, cid)) == 2)
    pids = ps_pids(rt, cid)
    rt("kill", "--all", cid, "KILL")
    rt.wait_status(cid, "stopped")
    assert poll(lambda: not any(proc_alive(p) for p in pids))


def ps_pids(rt, cid):
    return json.loads(rt("ps", "--format", "json", cid).stdout)


def test_kill_stopped_container_fails(rt, bundle):
    bundle.probe("exit", "0")
    cid = rt.run_detached(bundle)
    rt.wait_status(cid, "stopped")
    assert rt("kill", cid, "KILL", check=False).returncode == 1


def test_delete_refuses_running(rt, bundle):
    cid = rt.start_sigwait(bundle)
    r = rt("delete", cid, check=False)
    assert_error(r, cid)
    assert rt.status(cid) == "running"


@pytest.mark.berth_only
def test_delete_refuses_created(rt, bundle):
    cid = rt.create(bundle)
    r = rt("delete", cid, check=False)
    assert_error(r, cid)
    assert rt.status(cid) == "created"


def test_delete_force_running(rt, bundle):
    cid = rt.start_sigwait(bundle)
    pid = rt.state(cid)["pid"]
    rt("delete", "--force", cid)
    assert rt("state", cid, check=False).returncode == 1
    assert poll(lambda: not proc_alive(pid))


def test_delete_force_created(rt, bundle):
    cid = rt.create(bundle)
    pid = rt.state(cid)["pid"]
    rt("delete", "--force", cid)
    assert rt("state", cid, check=False).returncode == 1
    assert poll(lambda: not proc_alive(pid))


def test_delete_stopped(rt, bundle):
    bundle.probe("exit", "3")
    cid = rt.run_detached(bundle)
    rt.wait_status(cid, "stopped")
    rt("delete", cid)
    assert cid not in rt("list", "-q").stdout.split()


def test_concurrent_commands_keep_state_sane(rt, bundle):
    cid = rt.start_sigwait(bundle)
    results, errors = [], []

    def worker(args):
        try:
            results.append((args, rt(*args, check=False)))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    cmds = [("state", cid), ("list", "--format", "json"), ("ps", cid),
            ("kill", cid, "0"), ("start", cid)] * 6
    threads = [threading.Thread(target=worker, args=(c,)) for c in cmds]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for args, r in results:
        if args[0] == "state":
            assert r.returncode == 0
            assert json.loads(r.stdout)["status"] == "running"
        elif args[0] == "list":
            assert r.returncode == 0
            ids = [c["id"] for c in json.loads(r.stdout)]
            assert ids == [cid]
        elif args[0] == "start":
            assert r.returncode == 1  # already running
        else:
            assert r.returncode == 0, (args, r.stderr)
    assert rt.status(cid) == "running"


def test_concurrent_create_and_delete(rt, make_bundle):
    bundles = [make_bundle() for _ in range(4)]
    ids = [rt.new_id() for _ in bundles]
    rcs = {}

    def life(b, cid):
        r = rt.create_r(b, cid)
        rcs[cid] = [r.returncode]
        rcs[cid].append(rt("delete", "--force", cid, check=False).returncode)
    threads = [threading.Thread(target=life, args=a) for a in zip(bundles, ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(v == [0, 0] for v in rcs.values()), rcs
    assert rt("list", "-q").stdout.split() == []


def test_run_keep_leaves_stopped_container(rt, bundle):
    bundle.probe("exit", "3")
    r = rt.run(bundle, flags=("--keep",))
    assert r.returncode == 3
    assert rt.status(r.id) == "stopped"
    rt("delete", r.id)
    assert rt("state", r.id, check=False).returncode == 1


def test_run_without_keep_deletes(rt, bundle):
    bundle.probe("exit", "0")
    r = rt.run(bundle)
    assert rt("state", r.id, check=False).returncode == 1


def state_files(root):
    """Every state.json under root, parsed (a half-written one fails here)."""
    out = {}
    for cid in state_entries(root):
        try:
            text = Path(root, cid, "state.json").read_text()
        except (FileNotFoundError, NotADirectoryError):
            continue  # being created or deleted right now
        out[cid] = json.loads(text)
        assert out[cid]["id"] == cid, text
    return out


def test_concurrent_50_operations_one_root(rt, make_bundle):
    """50 commands at once on one --root: two creates of each of 5 new ids
    (exactly one may succeed), and start/state/kill/delete/list/ps on those
    and on 5 containers created before. State files stay whole throughout;
    afterwards every state is consistent with what the commands said."""
    fresh = [(make_bundle().probe("sigwait"), rt.new_id()) for _ in range(5)]
    old = [(make_bundle().probe("sigwait"), rt.new_id()) for _ in range(5)]
    for b, cid in old:
        rt.create(b, cid)
    ops = []
    for b, cid in fresh:
        ops += [("create", b, cid), ("create", b, cid), ("start", cid), ("state", cid)]
    for b, cid in old:
        ops += [("start", cid), ("start", cid), ("state", cid), ("kill", cid, "KILL"),
                ("delete", cid), ("ps", cid)]
    ops += [("list", "--format", "json")] * (50 - len(ops))
    assert len(ops) == 50
    results, errors, torn = [], [], []
    go = threading.Barrier(len(ops) + 1)
    done = threading.Event()

    def worker(op):
        try:
            go.wait(30)
            if op[0] == "create":
                r = rt.create_r(op[1], op[2], timeout=60)
            else:
                r = rt(*op, check=False, timeout=60)
            results.append((op, r))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((op, e))

    def reader():
        go.wait(30)
        while not done.is_set():
            try:
                state_files(rt.root)
            except (ValueError, KeyError, AssertionError) as e:
                torn.append(repr(e))
    threads = [threading.Thread(target=worker, args=(op,)) for op in ops]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    for t in threads[:-1]:
        t.join(120)
    done.set()
    threads[-1].join(10)
    assert not errors, errors
    assert not torn, torn[:3]
    for op, r in results:  # never a crash, never a second line of noise
        assert r.returncode in (0, 1), (op, r.returncode, r.stderr)
    rc = {}
    for op, r in results:
        rc.setdefault((op[0], op[-1] if op[0] != "kill" else op[1]), []).append(r.returncode)
    for _, cid in fresh:
        assert sorted(rc[("create", cid)]) == [0, 1], rc[("create", cid)]
        assert rt.status(cid) in ("created", "running")
    for _, cid in old:
        assert rc[("start", cid)].count(0) <= 1
    files = state_files(rt.root)
    listed = json.loads(rt("list", "--format", "json").stdout)
    assert sorted(c["id"] for c in listed) == sorted(files)
    for c in listed:
        st = rt.state(c["id"])
        assert st["status"] in ("created", "running", "stopped"), st
        assert st["status"] == c["status"]
    for cid in files:
        rt("delete", "--force", cid)
    assert state_entries(rt.root) == []
