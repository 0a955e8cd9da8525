"""Hooks: when and where each runs, what it gets, and what a failure does."""
import json
import os

import pytest

from helpers import host_ns

# Records what the hook saw into files named after $1 in directory $2.
RECORDER = """#!/bin/sh
n=$1; d=$2
cat > "$d/$n.state"
readlink /proc/self/ns/mnt > "$d/$n.mnt"
readlink /proc/self/ns/pid > "$d/$n.pid"
tr '\\0' '\\n' < /proc/$$/cmdline > "$d/$n.args"
env > "$d/$n.env"
echo "$n" >> "$d/order"
"""
# hooks whose path resolves in the runtime's namespace (all but startContainer)
RT_PATH_HOOKS = ["prestart", "createRuntime", "createContainer", "poststart",
                 "poststop"]
ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOOKVAR=hook value"]


def setup_hooks(bundle, which=None, extra_args=()):
    """Install recorder hooks; host hooks write to <bundle>/hookout, the
    startContainer hook (inside the container) to the same dir mounted at
    /hookout. -> the output dir."""
    out = bundle.hostdir("hookout", 0o777)
    (bundle.path / "rec.sh").write_text(RECORDER)
    os.chmod(bundle.path / "rec.sh", 0o755)
    (bundle.rootfs / "rec.sh").write_text(RECORDER)
    os.chmod(bundle.rootfs / "rec.sh", 0o755)
    bundle.add_mount("/hookout", "bind", str(out), ["bind", "rw"])
    hooks = {}
    for name in which or RT_PATH_HOOKS + ["startContainer"]:
        inside = name == "startContainer"
        script = "/rec.sh" if inside else str(bundle.path / "rec.sh")
        hooks[name] = [{
            "path": "/bin/sh",
            # busybox picks the applet by argv[0]: inside, it must be "sh"
            "args": ["sh" if inside else "hook-argv0", script, name,
                     "/hookout" if inside else str(out), *extra_args],
            "env": ["PATH=/bin"] if inside else ENV,
        }]
    bundle.cfg["hooks"] = hooks
    bundle.write()
    return out


def order(out):
    p = out / "order"
    return p.read_text().split() if p.exists() else []


def test_create_hooks_run_during_create(rt, bundle):
    out = setup_hooks(bundle)
    bundle.probe("sigwait")
    cid = rt.create(bundle)
    assert order(out)[:3] == ["prestart", "createRuntime", "createContainer"]
    assert "startContainer" not in order(out)
    rt("start", cid)
    assert "startContainer" in order(out)
    rt.wait_output(bundle, cid, '"ready"')
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")
    assert "poststop" not in order(out)
    rt("delete", cid)
    assert order(out)[-1] == "poststop"


@pytest.mark.berth_only
def test_hooks_run_in_order_at_their_moment(rt, bundle):
    """runc 1.1.5 runs poststart hooks already during create."""
    out = setup_hooks(bundle)
    bundle.probe("sigwait")
    cid = rt.create(bundle)
    assert order(out) == ["prestart", "createRuntime", "createContainer"]
    rt("start", cid)
    assert order(out)[3:] == ["startContainer", "poststart"]
    assert json.loads((out / "poststart.state").read_text())["status"] \
        == "running"
    rt.wait_output(bundle, cid, '"ready"')
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")
    assert "poststop" not in order(out)
    rt("delete", cid)
    assert order(out)[5:] == ["poststop"]


def test_hooks_get_state_on_stdin(rt, bundle):
    out = setup_hooks(bundle)
    bundle.probe("sigwait")
    cid = rt.create(bundle)
    pid = rt.state(cid)["pid"]
    rt("start", cid)
    rt("delete", "--force", cid)
    for name in RT_PATH_HOOKS + ["startContainer"]:
        st = json.loads((out / f"{name}.state").read_text())
        assert st["id"] == cid, name
        assert st["bundle"] == str(bundle.path), name
        assert "ociVersion" in st and "status" in st, name
        if name in ("prestart", "createRuntime", "poststart"):
            assert st["pid"] == pid, name
    assert json.loads((out / "poststop.state").read_text())["status"] \
        == "stopped"


@pytest.mark.berth_only
def test_hooks_in_container_get_host_pid(rt, bundle):
    """The state's pid is as seen by the host (runc 1.1.5 passes 1)."""
    out = setup_hooks(bundle)
    bundle.probe("sigwait")
    cid = rt.create(bundle)
    pid = rt.state(cid)["pid"]
    rt("start", cid)
    for name in ("createContainer", "startContainer"):
        assert json.loads((out / f"{name}.state").read_text())["pid"] == pid


def test_hooks_state_status_during_create(rt, bundle):
    out = setup_hooks(bundle)
    cid = rt.create(bundle)
    for name in ("prestart", "createRuntime", "createContainer"):
        assert json.loads((out / f"{name}.state").read_text())["status"] \
            == "creating", name
    assert not (out / "startContainer.state").exists()  # not started yet
    rt("delete", "--force", cid)


def test_hooks_namespaces(rt, bundle):
    out = setup_hooks(bundle)
    bundle.probe("sigwait")
    cid = rt.create(bundle)
    rt("start", cid)
    ctr = rt.exec_probe(cid)["namespaces"]
    rt("delete", "--force", cid)
    for kind in ("mnt", "pid"):
        seen = {n: (out / f"{n}.{kind}").read_text().strip()
                for n in RT_PATH_HOOKS + ["startContainer"]}
        for n in ("prestart", "createRuntime", "poststart", "poststop"):
            assert seen[n] == host_ns(kind), (n, kind)  # runtime namespace
        for n in ("createContainer", "startContainer"):
            assert seen[n] == ctr[kind], (n, kind)  # container namespace


def test_start_container_hook_resolves_in_container(rt, bundle):
    """startContainer's path is looked up in the container's rootfs."""
    out = setup_hooks(bundle, ["startContainer"])
    (bundle.rootfs / "only-in-ctr.sh").write_text(
        "#!/bin/sh\necho inside > /hookout/only\n")
    os.chmod(bundle.rootfs / "only-in-ctr.sh", 0o755)
    bundle.cfg["hooks"]["startContainer"] = [{"path": "/only-in-ctr.sh"}]
    bundle.probe("exit", "0")
    assert rt.run(bundle).returncode == 0
    assert (out / "only").read_text() == "inside\n"


def test_hook_args_and_env(rt, bundle):
    out = setup_hooks(bundle, ["createRuntime"], extra_args=["x", "y z"])
    bundle.probe("exit", "0")
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    args = (out / "createRuntime.args").read_text().split("\n")
    assert args[:6] == ["hook-argv0", str(bundle.path / "rec.sh"),
                        "createRuntime", str(out), "x", "y z"]
    env = (out / "createRuntime.env").read_text().splitlines()
    assert "HOOKVAR=hook value" in env
    assert not [e for e in env if e.startswith("HOME=")]


def fail_hook(bundle, name, script="exit 3", timeout=None):
    hook = {"path": "/bin/sh", "args": ["sh", "-c", script]}
    if timeout:
        hook["timeout"] = timeout
    if name == "startContainer":
        hook["args"][2] = script
    bundle.cfg["hooks"] = {name: [hook]}
    bundle.write()


@pytest.mark.parametrize("name", ["prestart", "createRuntime",
                                  "createContainer"])
def test_failing_create_hook_fails_create(rt, bundle, name):
    fail_hook(bundle, name)
    r = rt.create_r(bundle)
    assert r.returncode == 1
    assert rt("state", r.id, check=False).returncode == 1
    assert r.id not in rt("list", "-q").stdout.split()


@pytest.mark.parametrize("name", ["prestart", "createRuntime",
                                  "createContainer", "startContainer"])
def test_failing_hook_fails_run(rt, bundle, name):
    fail_hook(bundle, name)
    bundle.probe("exit", "0")
    r = rt.run(bundle)
    assert r.returncode == 1
    assert r.id not in rt("list", "-q").stdout.split()


@pytest.mark.berth_only
def test_failing_start_container_hook_fails_start(rt, bundle):
    """runc 1.1.5: start returns 0 and the init dies."""
    fail_hook(bundle, "startContainer")
    bundle.probe("exit", "0")
    cid = rt.create(bundle)
    assert rt("start", cid, check=False).returncode == 1
    assert rt.status(cid) != "running"


def test_hook_timeout(rt, bundle):
    fail_hook(bundle, "createRuntime", "exec sleep 20", timeout=1)
    bundle.probe("exit", "0")
    r = rt.run(bundle)
    assert r.returncode == 1
    assert "timeout" in r.stderr.lower() or "timed out" in r.stderr.lower()


def test_hook_path_missing_fails(rt, bundle):
    bundle.cfg["hooks"] = {"createRuntime": [
        {"path": f"/tmp/{rt.token}-no-such-hook"}]}
    bundle.probe("exit", "0")
    assert rt.run(bundle).returncode == 1


@pytest.mark.berth_only
def test_failing_poststart_warns_and_continues(rt, bundle):
    fail_hook(bundle, "poststart")
    bundle.probe("sigwait")
    cid = rt.create(bundle)
    r = rt("start", cid, check=False)
    assert r.returncode == 0
    assert r.stderr.strip(), "no warning"
    rt.wait_output(bundle, cid, '"ready"')
    assert rt.status(cid) == "running"


def test_failing_poststop_warns_and_delete_succeeds(rt, bundle):
    fail_hook(bundle, "poststop")
    bundle.probe("exit", "0")
    cid = rt.run_detached(bundle)
    rt.wait_status(cid, "stopped")
    r = rt("delete", cid, check=False)
    assert r.returncode == 0 and r.stderr.strip()
    assert rt("state", cid, check=False).returncode == 1


def test_poststop_runs_on_delete_force(rt, bundle):
    out = setup_hooks(bundle, ["poststop"])
    cid = rt.start_sigwait(bundle)
    rt("delete", "--force", cid)
    assert order(out) == ["poststop"]


def test_run_runs_all_hooks(rt, bundle):
    out = setup_hooks(bundle)
    bundle.probe("exit", "0")
    assert rt.run(bundle).returncode == 0
    got = order(out)
    assert got[:3] == ["prestart", "createRuntime", "createContainer"]
    assert sorted(got[3:5]) == ["poststart", "startContainer"]
    assert got[5:] == ["poststop"]
