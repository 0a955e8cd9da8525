"""containerd drives berth-runtime through its runc shim (io.containerd.runc.v2,
runtime binary = the shim's BinaryName option, here `ctr run --runc-binary`):
the path Kubernetes takes through CRI. containerd starts once for the module
on a private socket, root and state dir (clients.Ctr); the scenarios of issue
5 that ctr has flags for. What a container sees is read with berth-probe."""
import concurrent.futures
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from clients import Ctr, clean_fixture, client_fixture, have
from helpers import cap_mask, forget, host_ns, json_lines, last_json, mount_at, poll, run_on_pty, spawn

pytestmark = [pytest.mark.skipif(not have("containerd", "ctr"), reason="containerd not installed"),
              pytest.mark.usefixtures("clean")]

ctr = client_fixture(Ctr, name="ctr")
clean = clean_fixture("ctr")

MEMORY = ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max")
CPU = ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu.max")


def name(rt, what):
    return f"{rt.token}-{what}"


def probe(ctr, rt, what, *args, opts=()):
    return last_json(ctr.run(name(rt, what), "/probe", *args, opts=("--rm", *opts)).stdout)


_defaults = {}


def default_report(ctr, rt):
    """The report of a container with ctr's defaults, made once."""
    if ctr.token not in _defaults:
        _defaults[ctr.token] = probe(ctr, rt, "default")
    return _defaults[ctr.token]


def cgroup_value(ctr, rt, what, files, opts):
    """A cgroup file read inside; ctr's spec has no /sys/fs/cgroup (CRI's
    has), so the test mounts it as CRI does."""
    script = "; ".join(f"/probe read {f}" for f in files)
    out = ctr.run(name(rt, what), "sh", "-c", script,
                  opts=("--rm", "--mount", "type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro",
                        *opts)).stdout
    reads = [r for r in json_lines(out) if r.get("ok")]
    assert reads, out
    return reads[0]["data"].strip()


def sigwait(ctr, rt, what, opts=()):
    cid = name(rt, what)
    ctr.run_detached(cid, "/probe", "sigwait", opts=opts)
    wait_output(ctr, cid, '"ready"')
    return cid


def wait_output(ctr, cid, needle, timeout=20):
    assert poll(lambda: needle in ctr.output(cid), timeout, 0.05), \
        f"{needle!r} not in the output of {cid}: {ctr.output(cid)!r}"
    return ctr.output(cid)


def wait_stopped(ctr, cid, timeout=20):
    assert poll(lambda: ctr.status(cid) == "STOPPED", timeout, 0.05), \
        f"{cid}: {ctr.status(cid)}"


def exit_code(ctr, cid):
    """The exit status of a stopped task, as `ctr tasks delete` reports it."""
    r = ctr.ctr("tasks", "delete", cid, check=False)
    assert r.returncode == 0, r.stderr
    return r


# ---- run, exit codes ----

def test_runtime_state_of_client_container(ctr, rt):
    cid = sigwait(ctr, rt, "which")
    st = ctr.runtime_state(cid)
    assert st["status"] == "running" and st["pid"] == ctr.tasks()[cid][0]


def test_run_rm_echo(ctr, rt):
    r = ctr.run(name(rt, "echo"), "echo", "hi", opts=("--rm",))
    assert r.stdout == "hi\n", r


def test_exit_code(ctr, rt):
    for code in (3, 130):
        r = ctr.run(name(rt, f"exit{code}"), "sh", "-c", f"exit {code}", opts=("--rm",),
                    check=False)
        assert r.returncode == code, r.stderr


def test_env_and_cwd(ctr, rt):
    rep = probe(ctr, rt, "env", opts=("--env", "BERTH_X=one two", "--cwd", "/tmp"))
    assert "BERTH_X=one two" in rep["env"] and rep["cwd"] == "/tmp"


# ---- mounts ----

def test_bind_mounts_rw_and_ro(ctr, rt):
    host = Path(f"/tmp/{rt.token}-bind")
    rt.files.append(str(host))
    host.mkdir()
    (host / "in").write_text("from host")
    out = ctr.run(name(rt, "bind"), "sh", "-c",
                  "/probe read /ro/in; /probe write /rw/out written; /probe write /ro/no x",
                  opts=("--rm", "--mount", f"type=bind,src={host},dst=/rw,options=rbind:rw",
                        "--mount", f"type=bind,src={host},dst=/ro,options=rbind:ro")).stdout
    read, rw, ro = json_lines(out)
    assert read["data"] == "from host"
    assert rw["ok"] and (host / "out").read_text() == "written"
    assert not ro["ok"] and ro["errno"] == errno.EROFS


def test_tmpfs(ctr, rt):
    rep = probe(ctr, rt, "tmpfs",
                opts=("--mount", "type=tmpfs,src=tmpfs,dst=/scratch,options=size=1m",))
    m = mount_at(rep, "/scratch")
    assert m and m["fstype"] == "tmpfs" and "size=1024k" in m["super_options"]


def test_read_only_rootfs(ctr, rt):
    rep = probe(ctr, rt, "ro", "write", "/file", "x", opts=("--read-only",))
    assert not rep["ok"] and rep["errno"] == errno.EROFS


# ---- resources ----

def test_memory_limit_seen_inside(ctr, rt):
    assert cgroup_value(ctr, rt, "mem", MEMORY, ("--memory-limit", str(64 << 20))) == \
        str(64 << 20)


def test_oom_kill(ctr, rt):
    """100 MiB in 32: killed (137), and the shim's OOM watch on the cgroup
    the runtime made sees it (containerd's /tasks/oom event, which docker
    turns into State.OOMKilled)."""
    log = ctr.log_path(name(rt, "events"))
    with open(log, "wb") as out:
        events = spawn(ctr.ctr_argv("events"), stdout=out, stderr=subprocess.STDOUT)
    try:
        r = ctr.run(name(rt, "oom"), "dd", "if=/dev/zero", "of=/dev/null", "bs=100M",
                    "count=1", opts=("--rm", "--memory-limit", str(32 << 20)), check=False)
        assert r.returncode == 137, r.stderr
        assert poll(lambda: "/tasks/oom" in log.read_text(), 10, 0.05), log.read_text()
    finally:
        events.kill()
        events.wait()
        forget(events)


def test_cpus(ctr, rt):
    assert cgroup_value(ctr, rt, "cpu", CPU, ("--cpus", "0.5")) in ("50000", "50000 100000")


def test_impossible_memory_limit_reaches_user(ctr, rt):
    """4 KiB is less than the container uses at once: the runtime's message
    (through the shim's log.json) is what ctr prints."""
    r = ctr.run(name(rt, "4k"), "true", opts=("--rm", "--memory-limit", "4096"), check=False)
    assert r.returncode != 0
    assert "OCI runtime create failed" in r.stderr and "memory" in r.stderr, r.stderr


# ---- security ----

def test_cap_drop_and_add(ctr, rt):
    caps = probe(ctr, rt, "caps", opts=("--cap-drop", "CAP_NET_RAW", "--cap-add",
                                         "CAP_SYS_ADMIN"))["capabilities"]
    eff = int(caps["effective"], 16)
    assert not eff & cap_mask(["CAP_NET_RAW"]) and eff & cap_mask(["CAP_SYS_ADMIN"])


def test_privileged(ctr, rt):
    rep = probe(ctr, rt, "priv", opts=("--privileged",))
    status = Path("/proc/self/status").read_text()
    host_bounding = int(status.split("CapBnd:")[1].split()[0], 16)
    assert int(rep["capabilities"]["bounding"], 16) == host_bounding
    devs = probe(ctr, rt, "privdev", "ls", "/dev", opts=("--privileged",))
    assert "loop-control" in devs["entries"]


def test_no_new_privileges(ctr, rt):
    assert default_report(ctr, rt)["no_new_privs"] == 1  # containerd's default
    assert probe(ctr, rt, "newp", opts=("--allow-new-privs",))["no_new_privs"] == 0


def test_seccomp(ctr, rt):
    assert default_report(ctr, rt)["seccomp"] == 0  # ctr's default: none
    assert probe(ctr, rt, "seccomp", opts=("--seccomp",))["seccomp"] == 2


def test_device(ctr, rt):
    out = ctr.run(name(rt, "dev"), "sh", "-c", "/probe stat /dev/loop0; /probe open /dev/loop0",
                  opts=("--rm", "--device", "/dev/loop0")).stdout
    st, op = json_lines(out)
    assert st["type"] == "block" and (st["major"], st["minor"]) == (7, 0) and op["ok"], out


# ---- tasks: exec, signals, pause, metrics, ps ----

def test_detached_exec_kill_delete(ctr, rt):
    cid = sigwait(ctr, rt, "d")
    # The pause: containerd's shim can drop the output of a process that
    # exits right after writing it (a known containerd race, not ours).
    rep = last_json(ctr.ctr("tasks", "exec", "--exec-id", "e1", cid,
                            "sh", "-c", "/probe; sleep 0.3").stdout)
    assert rep["pid"] != 1
    r = ctr.ctr("tasks", "exec", "--exec-id", "e2", cid, "sh", "-c", "exit 7", check=False)
    assert r.returncode == 7
    ctr.ctr("tasks", "kill", "-s", "SIGUSR1", cid)
    assert last_json(wait_output(ctr, cid, '"signal"'))["name"] == "USR1"
    wait_stopped(ctr, cid)
    exit_code(ctr, cid)
    ctr.ctr("containers", "delete", cid)


def test_kill_term_then_kill(ctr, rt):
    """PID 1 without a TERM handler ignores TERM; KILL ends it."""
    cid = name(rt, "stop")
    ctr.run_detached(cid, "sleep", "1000")
    ctr.ctr("tasks", "kill", cid)
    assert not poll(lambda: ctr.status(cid) == "STOPPED", 0.5, 0.05)
    ctr.ctr("tasks", "kill", "-s", "SIGKILL", cid)
    wait_stopped(ctr, cid)


def test_kill_all(ctr, rt):
    cid = name(rt, "all")
    ctr.run_detached(cid, "sh", "-c", "sleep 1000 & sleep 1000 & wait")
    assert poll(lambda: len(ctr.ctr("tasks", "ps", cid).stdout.split("\n")) >= 5, 10, 0.05)
    ctr.ctr("tasks", "kill", "--all", "-s", "SIGKILL", cid)
    wait_stopped(ctr, cid)


def test_pause_resume(ctr, rt):
    cid = sigwait(ctr, rt, "pause")
    ctr.ctr("tasks", "pause", cid)
    assert ctr.status(cid) == "PAUSED"
    ctr.ctr("tasks", "resume", cid)
    assert ctr.status(cid) == "RUNNING"
    ctr.ctr("tasks", "exec", "--exec-id", "after", cid, "true")


def test_metrics(ctr, rt):
    cid = sigwait(ctr, rt, "metrics")
    m = json.loads(ctr.ctr("tasks", "metrics", "--format", "json", cid).stdout)
    assert m["pids"]["current"] >= 1
    assert m["memory"]["usage"]["usage"] > 0 and m["cpu"]["usage"]["total"] > 0


def test_ps(ctr, rt):
    cid = name(rt, "ps")
    ctr.run_detached(cid, "sh", "-c", "sleep 1000 & wait")
    pid = ctr.tasks()[cid][0]
    assert poll(lambda: len(ctr.ctr("tasks", "ps", cid).stdout.split()) >= 6, 10, 0.05)
    pids = [int(l.split()[0]) for l in ctr.ctr("tasks", "ps", cid).stdout.splitlines()[1:]]
    assert pid in pids and len(pids) == 2


def test_restart_stopped_container(ctr, rt):
    cid = name(rt, "again")
    assert ctr.run(cid, "sh", "-c", "echo run; exit 2", check=False).returncode == 2
    r = ctr.ctr("tasks", "start", cid, check=False)
    assert r.returncode == 2 and r.stdout == "run\n", r


# ---- terminals ----

def test_tty(ctr, rt):
    rc, out = run_on_pty(ctr.run_argv(name(rt, "tty"), "sh", "-c", "tty; exit 4",
                                      opts=("--rm", "-t")))
    assert rc == 4 and b"/dev/pts/" in out, out


def test_exec_tty(ctr, rt):
    cid = sigwait(ctr, rt, "extty")
    rc, out = run_on_pty(ctr.ctr_argv("tasks", "exec", "-t", "--exec-id", "t", cid,
                                      "sh", "-c", "tty; exit 5"))
    assert rc == 5 and b"/dev/pts/" in out, out


# ---- namespaces ----

def test_host_namespaces(ctr, rt):
    joins = [a for ns in ("pid", "ipc", "uts")
             for a in ("--with-ns", f"{ns}:/proc/{os.getpid()}/ns/{ns}")]
    rep = probe(ctr, rt, "hostns", opts=("--net-host", *joins))
    for ns in ("pid", "ipc", "uts", "net"):
        assert rep["namespaces"][ns] == host_ns(ns), ns
        assert default_report(ctr, rt)["namespaces"][ns] != host_ns(ns), ns


def test_user_namespace_uidmap(ctr, rt):
    out = ctr.run(name(rt, "userns"), "sh", "-c", "/probe read /proc/self/uid_map; /probe",
                  opts=("--rm", "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536")
                  ).stdout
    uid_map, rep = json_lines(out)
    assert uid_map["data"].split() == ["0", "100000", "65536"]
    assert rep["namespaces"]["user"] != host_ns("user")


# ---- scale ----

def test_twenty_in_parallel(ctr, rt):
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda i: ctr.run_detached(name(rt, f"p{i}"), "sleep", "1000"),
                      range(20)))
    running = [c for c, (_, st) in ctr.tasks().items() if st == "RUNNING"]
    assert len(running) == 20, running
