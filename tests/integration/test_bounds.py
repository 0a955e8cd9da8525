"""Resource bounds: huge or hostile input gives a clear error or works, within
bounded memory (the runtime's peak RSS, from wait4), never a crash or a hang
(every command has a timeout)."""
import json
import os
import subprocess
import time

import pytest

from helpers import assert_error, forget, spawn

MiB = 1 << 20


class Measured:
    def __init__(self, returncode, stderr, peak_rss):
        self.returncode, self.stderr, self.peak_rss = returncode, stderr, peak_rss


def measured(rt, bundle, *args, timeout=120):
    """Runs the runtime; -> its exit status, stderr and peak RSS in bytes
    (wait4's rusage of that one process)."""
    errpath = bundle.path / "measured.err"
    with open(errpath, "w") as err:
        p = spawn(rt.cmd(*args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, usage = os.wait4(p.pid, 0)
                raise AssertionError(f"{args[0]} still running after {timeout}s (a hang)")
            time.sleep(0.01)
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        forget(p)
    return Measured(p.returncode, errpath.read_text(), usage.ru_maxrss * 1024)


def baseline_rss(rt, bundle):
    """Peak RSS of `state` of an unknown container: the runtime's own size."""
    return measured(rt, bundle, "state", rt.token + "-none").peak_rss


def test_config_of_many_megabytes(rt, bundle):
    """A 40 MiB config.json (an unknown field, ignored as the spec says) works;
    memory stays within a few times the document."""
    bundle.cfg["x-padding"] = "p" * (40 * MiB)
    bundle.probe("exit", "0")
    cid = rt.new_id()
    r = measured(rt, bundle, "run", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    assert r.peak_rss < baseline_rss(rt, bundle) + 8 * 40 * MiB, r.peak_rss


def test_config_over_the_size_limit(rt, bundle):
    """Over 64 MiB: refused by name, before it is all parsed."""
    text = json.dumps(bundle.cfg)
    (bundle.path / "config.json").write_text(text[:-1] + ', "x": "' + "p" * (70 * MiB) + '"}')
    cid = rt.new_id()
    r = measured(rt, bundle, "create", "--bundle", bundle.path, cid)
    assert_error(r, "config.json")
    assert "large" in r.stderr or "limit" in r.stderr, r.stderr
    assert r.peak_rss < baseline_rss(rt, bundle) + 2 * 70 * MiB, r.peak_rss


@pytest.mark.berth_only
def test_many_annotations(rt, bundle):
    """2 MiB of annotations: kept in the state, which every later command
    reads back (the limit is the config's, not a smaller one)."""
    bundle.cfg["annotations"] = {f"org.berth.a{i}": "v" * 400 for i in range(5000)}
    bundle.probe("sigwait")
    cid = rt.new_id()
    r = measured(rt, bundle, "create", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    assert len(rt.state(cid)["annotations"]) == 5000
    rt("start", cid)
    assert [c["id"] for c in json.loads(rt("list", "--format", "json").stdout)] == [cid]
    rt("delete", "--force", cid)


@pytest.mark.berth_only
def test_many_annotations_with_init_hooks(rt, bundle):
    """The init's hooks get the state over the sync socket, which holds a few
    hundred KiB: too much says so, and nothing is left behind."""
    bundle.cfg["annotations"] = {f"org.berth.a{i}": "v" * 400 for i in range(5000)}
    bundle.cfg["hooks"] = {"createContainer": [{"path": "/bin/true"}]}
    bundle.probe("sigwait")
    r = measured(rt, bundle, "create", "--bundle", bundle.path, rt.new_id())
    if r.returncode != 0:
        assert_error(r, "annotations", "createContainer")


def test_thousands_of_mounts(rt, bundle):
    n = 3000
    for i in range(n):
        bundle.add_mount(f"/mnt/m{i}", "tmpfs", "tmpfs", ["size=4k"])
    bundle.args("/bin/sh", "-c", "grep -c ' /mnt/m' /proc/self/mountinfo")
    cid = rt.new_id()
    r = measured(rt, bundle, "run", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    assert r.peak_rss < baseline_rss(rt, bundle) + 64 * MiB, r.peak_rss


def test_thousands_of_env_entries(rt, bundle):
    n = 10000
    bundle.process["env"] = ["PATH=/bin"] + [f"BERTH_E{i}=value{i}" for i in range(n)]
    bundle.args("/bin/sh", "-c", "test $(env | grep -c ^BERTH_E) = 10000")
    cid = rt.new_id()
    r = measured(rt, bundle, "run", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    assert r.peak_rss < baseline_rss(rt, bundle) + 64 * MiB, r.peak_rss


def test_too_many_arguments_is_a_clear_error(rt, bundle):
    """More than the kernel takes at execve (E2BIG): create says so."""
    bundle.process["args"] = ["/bin/true"] + ["x" * 1000] * 10000
    bundle.write()
    r = measured(rt, bundle, "run", "--bundle", bundle.path, rt.new_id())
    assert r.returncode != 0
    assert r.returncode == 1 or r.returncode == 127, r.stderr


@pytest.mark.parametrize("depth", [201, 100000, 10 * MiB])
def test_deeply_nested_json(rt, bundle, depth):
    """Nesting beyond 200 levels is refused by name, however deep: no stack
    overflow in the parser or anything that copies the document."""
    cfg = json.dumps(bundle.cfg)
    (bundle.path / "config.json").write_text(
        cfg[:-1] + ', "x-deep": ' + "[" * depth + "]" * depth + "}")
    r = measured(rt, bundle, "create", "--bundle", bundle.path, rt.new_id())
    assert_error(r, "config.json")
    assert r.peak_rss < baseline_rss(rt, bundle) + 8 * (depth + MiB), r.peak_rss


@pytest.mark.berth_only
def test_deeply_nested_json_names_the_limit(rt, bundle):
    cfg = json.dumps(bundle.cfg)
    (bundle.path / "config.json").write_text(cfg[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}")
    assert_error(measured(rt, bundle, "create", "--bundle", bundle.path, rt.new_id()),
                 "config.json", "nested")


@pytest.mark.parametrize("where", ["/proc/{token}.pid", "/{token}-nodir/sub/pid",
                                   "/sys/{token}.pid"])
def test_pid_file_in_an_unwritable_place(rt, bundle, where):
    """create fails naming the pid file, and the half-made container is gone
    (the leak check verifies: no process, cgroup or state dir)."""
    bundle.probe("sigwait")
    cid = rt.new_id()
    pidfile = where.format(token=rt.token)
    r = measured(rt, bundle, "create", "--bundle", bundle.path, "--pid-file", pidfile, cid)
    assert r.returncode == 1, r.stderr
    assert rt("state", cid, check=False).returncode == 1


@pytest.mark.berth_only
def test_pid_file_error_names_it(rt, bundle):
    cid = rt.new_id()
    pidfile = f"/proc/{rt.token}.pid"
    r = measured(rt, bundle, "create", "--bundle", bundle.path, "--pid-file", pidfile, cid)
    assert_error(r, "pid-file", pidfile)
