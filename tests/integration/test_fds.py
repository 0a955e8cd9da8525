"""Which fds reach the container: stdio, --preserve-fds, LISTEN_FDS; and the
session keyring (--no-new-keyring)."""
import fcntl
import os
import subprocess

import pytest

from conftest import PROBE
from helpers import fd_target, last_json, poll, run_cmd


def run_with_fds(rt, fds, *args, prefix=(), **kw):
    """Run the runtime (after `prefix`) so that it starts with `fds` at
    3, 4, ... and no other fd of ours: bash moves them there, then execs.
    (No preexec_fn: Python code in a child forked from threads can hang.)
    -> CompletedProcess"""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds]
    moves = " ".join(f"{3 + i}>&{fd}" for i, fd in enumerate(high))
    closes = " ".join(f"{fd}>&-" for fd in high)
    cmd = ["/bin/bash", "-c", f'exec {moves} {closes}; exec "$@"', "bash",
           *prefix, *rt.cmd(*args)]
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    try:
        return run_cmd(cmd, stdin=subprocess.DEVNULL, text=True,
                       pass_fds=high, **kw)
    finally:
        for fd in high:
            os.close(fd)


@pytest.fixture
def pipes():
    """-> make(n): n pipes, as a list of (read_fd, write_fd); all closed after."""
    made = []

    def make(n):
        for _ in range(n):
            made.append(os.pipe())
        return made[-n:]
    yield make
    for r, w in made:
        for fd in (r, w):
            try:
                os.close(fd)
            except OSError:
                pass


def fd_map(rep):
    return {f["fd"]: f["target"] for f in rep["fds"]}


def test_only_stdio_reaches_container(rt, bundle):
    assert sorted(fd_map(rt.run_probe(bundle, "fds"))) == [0, 1, 2]


def test_only_stdio_reaches_created_container(rt, bundle):
    bundle.probe("fds")
    cid = rt.create(bundle)
    rt("start", cid)
    rt.wait_status(cid, "stopped")
    assert sorted(fd_map(last_json(rt.output(bundle, cid)))) == [0, 1, 2]


def test_unpreserved_fds_do_not_leak(rt, bundle, pipes):
    (r, w), = pipes(1)
    bundle.probe("fds")
    res = run_with_fds(rt, [w], "run", "--bundle", bundle.path, rt.new_id())
    assert res.returncode == 0, res.stderr
    assert sorted(fd_map(last_json(res.stdout))) == [0, 1, 2]


def test_preserve_fds_run(rt, bundle, pipes):
    ws = [w for _, w in pipes(3)]
    bundle.probe("fds")
    res = run_with_fds(rt, ws, "run", "--preserve-fds", "2", "--bundle",
                       bundle.path, rt.new_id())
    assert res.returncode == 0, res.stderr
    fds = fd_map(last_json(res.stdout))
    assert sorted(fds) == [0, 1, 2, 3, 4]
    assert fds[3] == fd_target(ws[0]) and fds[4] == fd_target(ws[1])


def test_preserve_fds_create_writes_through(rt, bundle, pipes):
    (r, w), = pipes(1)
    bundle.probe("write", "/proc/self/fd/3", "through the pipe")
    cid = rt.new_id()
    res = run_with_fds(rt, [w], "create", "--preserve-fds", "1", "--bundle",
                       bundle.path, cid, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)  # the container keeps them
    assert res.returncode == 0, res.stderr
    rt("start", cid)
    rt.wait_status(cid, "stopped")
    os.set_blocking(r, False)
    assert os.read(r, 100) == b"through the pipe"


def test_listen_fds(rt, bundle, pipes):
    """LISTEN_FDS/LISTEN_PID (systemd socket activation) for the runtime's
    own pid: those fds follow stdio, then the --preserve-fds ones; the
    container's env gets LISTEN_FDS=N and LISTEN_PID=1."""
    ws = [w for _, w in pipes(3)]
    bundle.probe()
    res = run_with_fds(
        rt, ws, "run", "--preserve-fds", "1", "--bundle", bundle.path,
        rt.new_id(),
        prefix=["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=2 exec "$@"', "sh"])
    assert res.returncode == 0, res.stderr
    rep = last_json(res.stdout)
    fds = fd_map(rep)
    assert sorted(fds) == [0, 1, 2, 3, 4, 5]
    assert [fds[3], fds[4], fds[5]] == [fd_target(w) for w in ws]
    assert "LISTEN_FDS=2" in rep["env"] and "LISTEN_PID=1" in rep["env"]


def test_listen_fds_for_other_pid_ignored(rt, bundle, pipes):
    (r, w), = pipes(1)
    bundle.probe("fds")
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID="1")
    res = run_with_fds(rt, [w], "run", "--bundle", bundle.path, rt.new_id(),
                       env=env)
    assert res.returncode == 0, res.stderr
    assert sorted(fd_map(last_json(res.stdout))) == [0, 1, 2]


def test_exec_preserve_fds(rt, bundle, pipes):
    (r, w), = pipes(1)
    cid = rt.start_sigwait(bundle)
    res = run_with_fds(rt, [w], "exec", "--preserve-fds", "1", cid, "/probe",
                       "fds")
    assert res.returncode == 0, res.stderr
    fds = fd_map(last_json(res.stdout))
    assert sorted(fds) == [0, 1, 2, 3] and fds[3] == fd_target(w)


def test_exec_only_stdio(rt, bundle):
    cid = rt.start_sigwait(bundle)
    assert sorted(fd_map(rt.exec_probe(cid, "fds"))) == [0, 1, 2]


def host_keyring():
    r = run_cmd([PROBE], stdout=subprocess.PIPE, text=True)
    return last_json(r.stdout)["session_keyring"]


def test_new_session_keyring_by_default(rt, bundle):
    rep = rt.run_probe(bundle)
    assert rep["session_keyring"] > 0
    assert rep["session_keyring"] != host_keyring()


def test_no_new_keyring(rt, bundle):
    bundle.probe()
    cid = rt.create(bundle, flags=("--no-new-keyring",))
    rt("start", cid)
    assert poll(lambda: rt.output(bundle, cid).strip())
    rt.wait_status(cid, "stopped")
    assert last_json(rt.output(bundle, cid))["session_keyring"] == \
        host_keyring()
