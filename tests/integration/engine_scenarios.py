"""The scenarios of issue 5 for the clients with docker's command line:
docker (dockerd -> containerd -> runc shim -> berth-runtime) and podman
(conmon -> berth-runtime). test_docker.py and test_podman.py import them and
give the fixture `engine` (a clients.Docker or clients.Podman, one per
module); the fixture `clean` fails a test that leaves anything behind.

What a container sees is read from inside with berth-probe."""
import concurrent.futures
import errno
import json
import time
from pathlib import Path

import pytest

from client_image import IMAGE
from helpers import CAPS, cap_mask, host_ns, json_lines, last_json, mount_at, poll, run_on_pty

pytestmark = pytest.mark.usefixtures("clean")

# The cgroup v1 file, or the v2 one (a cgroup v2 host), as the container sees it.
LIMITS = {
    "memory": ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"),
    "pids": ("/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"),
    "cpu": ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu.max"),
}


def cgroup_value(engine, kind, *opts, cid=None):
    """A cgroup limit file read by the probe inside a new container (or
    `exec` in container cid), v1 path first."""
    v1, v2 = LIMITS[kind]
    script = f"/probe read {v1}; /probe read {v2}"
    if cid is None:
        out = engine.run("--rm", *opts, IMAGE, "sh", "-c", script).stdout
    else:
        out = engine("exec", cid, "sh", "-c", script).stdout
    reads = [r for r in json_lines(out) if r.get("ok")]
    assert reads, f"no cgroup {kind} file readable in the container: {out}"
    return reads[0]["data"].strip()


def name(rt, what):
    return f"{rt.token}-{what}"


_defaults = {}


def default_report(engine):
    """The probe's report from a container with the client's defaults (made
    once per client: several scenarios compare against it)."""
    if engine.token not in _defaults:
        _defaults[engine.token] = engine.probe()
    return _defaults[engine.token]


def detached(engine, rt, what, *opts, cmd=("/probe", "sigwait")):
    """A running container; a probe sigwait by default (ready once logged)."""
    cid = name(rt, what)
    engine.run("-d", "--name", cid, *opts, IMAGE, *cmd)
    if tuple(cmd) == ("/probe", "sigwait"):
        wait_logs(engine, cid, '"ready"')
    return cid


def wait_logs(engine, cid, needle, timeout=20):
    text = ""

    def seen():
        nonlocal text
        r = engine("logs", cid, check=False)
        text = r.stdout + r.stderr
        return needle in text
    assert poll(seen, timeout, 0.1), f"{needle!r} not in the logs of {cid}: {text!r}"
    return text


def wait_exit(engine, cid, timeout=30):
    assert poll(lambda: engine.inspect(cid, "{{.State.Status}}") == "exited", timeout, 0.1), \
        f"{cid} did not exit: {engine.inspect(cid, '{{.State.Status}}')}"
    return int(engine.inspect(cid, "{{.State.ExitCode}}"))


# ---- run, exit codes, process settings ----

def test_runtime_state_of_client_container(engine, rt):
    """The client made the container with the runtime under test: the
    runtime's own `state` knows it, with the pid the client reports."""
    cid = detached(engine, rt, "which")
    full = engine.inspect(cid, "{{.Id}}")
    st = engine.runtime_state(full)
    assert st["status"] == "running" and st["id"] == full
    assert st["pid"] == int(engine.inspect(cid, "{{.State.Pid}}"))


def test_run_rm_echo(engine):
    assert engine.run("--rm", IMAGE, "echo", "hi").stdout == "hi\n"


def test_rm_removes_the_container(engine, rt):
    engine.run("--rm", "--name", name(rt, "rm"), IMAGE, "true")
    assert name(rt, "rm") not in engine("ps", "-a", "--format", "{{.Names}}").stdout


def test_exit_code(engine):
    for code in (3, 130):
        r = engine.run("--rm", IMAGE, "sh", "-c", f"exit {code}", check=False)
        assert r.returncode == code, r.stderr


def test_command_not_found_or_not_executable(engine):
    """The client turns the runtime's words into the shell's codes: 127 when
    the command does not exist, 126 when it cannot be executed (docker's CLI
    looks for runc's "no such file or directory", "executable file not found"
    and "permission denied")."""
    for cmd, code in (("/berth-no-such", 127), ("berth-no-such", 127), ("/etc/passwd", 126)):
        r = engine.run("--rm", IMAGE, cmd, check=False)
        assert r.returncode == code, f"{cmd}: {r.returncode} {r.stderr}"


def test_env_workdir_user_hostname(engine):
    rep = engine.probe("-e", "BERTH_X=one two", "-w", "/tmp", "--user", "1000:1000",
                       "--hostname", "berth-host")
    assert "BERTH_X=one two" in rep["env"]
    assert rep["cwd"] == "/tmp"
    assert rep["uid"]["effective"] == 1000 and rep["gid"]["effective"] == 1000
    assert rep["hostname"] == "berth-host"


def test_user_by_name(engine):
    rep = engine.probe("--user", "user")
    assert rep["uid"]["real"] == 1000 and "HOME=/home/user" in rep["env"]


# ---- mounts ----

def test_bind_mounts_rw_and_ro(engine, rt):
    host = Path(f"/tmp/{rt.token}-bind")
    rt.files.append(str(host))
    host.mkdir()
    (host / "in").write_text("from host")
    out = engine.run("--rm", "-v", f"{host}:/rw", "-v", f"{host}:/ro:ro", IMAGE, "sh", "-c",
                     "/probe read /ro/in; /probe write /rw/out written; /probe write /ro/no x"
                     ).stdout
    read, rw, ro = json_lines(out)
    assert read["data"] == "from host"
    assert rw["ok"] and (host / "out").read_text() == "written"
    assert not ro["ok"] and ro["errno"] == errno.EROFS


def test_tmpfs(engine):
    rep = engine.probe("--tmpfs", "/scratch:size=1m")
    m = mount_at(rep, "/scratch")
    assert m and m["fstype"] == "tmpfs" and "size=1024k" in m["super_options"]


def test_read_only_rootfs(engine):
    out = engine.run("--rm", "--read-only", IMAGE, "sh", "-c",
                     "/probe write /file x; /probe write /tmp/ok x").stdout
    root = json_lines(out)[0]
    assert not root["ok"] and root["errno"] == errno.EROFS


# ---- resources ----

def test_memory_limit_seen_inside(engine):
    assert cgroup_value(engine, "memory", "-m", "64m") == str(64 << 20)


def test_oom_kill(engine, rt):
    """100 MiB in a 32 MiB container: the kernel kills it (exit 137)."""
    cid = name(rt, "oom")
    r = engine.run("--name", cid, "-m", "32m", "--memory-swap", "32m", IMAGE,
                   "dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1", check=False)
    assert r.returncode == 137, r.stderr
    if engine.name == "docker":
        # podman 4.3 on cgroup v1 never sets it (conmon writes its oom file
        # in its cwd), with any runtime.
        assert engine.inspect(cid, "{{.State.OOMKilled}}") == "true"


def test_pids_limit(engine):
    assert cgroup_value(engine, "pids", "--pids-limit", "17") == "17"
    out = engine.run("--rm", "--pids-limit", "5", IMAGE, "sh", "-c",
                     "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait; echo done",
                     check=False)
    assert "fork" in (out.stdout + out.stderr).lower() or "resource" in out.stderr.lower(), out


def test_cpus(engine):
    assert cgroup_value(engine, "cpu", "--cpus", "0.5") in ("50000", "50000 100000")


def test_update_limits(engine, rt):
    cid = detached(engine, rt, "upd", "-m", "64m", "--memory-swap", "128m")
    engine("update", "--memory", "96m", "--memory-swap", "192m", cid)
    assert cgroup_value(engine, "memory", cid=cid) == str(96 << 20)
    if engine.name == "docker":  # podman 4.3's update has no --pids-limit
        engine("update", "--pids-limit", "33", cid)
        assert cgroup_value(engine, "pids", cid=cid) == "33"


def test_ulimit(engine):
    # podman replaces its default nproc by 1048576 unless it is given: more
    # than this host's hard limit, which only CAP_SYS_RESOURCE may raise.
    rep = engine.probe("--ulimit", "nofile=1000:2000", "--ulimit", "nproc=2000:2000")
    assert rep["rlimits"]["RLIMIT_NOFILE"] == {"soft": 1000, "hard": 2000}


def test_sysctl(engine):
    rep = engine.probe("--sysctl", "kernel.msgmax=12345", args=("read", "/proc/sys/kernel/msgmax"))
    assert rep["data"].strip() == "12345"


# ---- security ----

def test_cap_drop_all(engine):
    caps = engine.probe("--cap-drop", "ALL")["capabilities"]
    assert int(caps["effective"], 16) == 0 and int(caps["bounding"], 16) == 0


def test_cap_drop_all_add_one(engine):
    caps = engine.probe("--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE")["capabilities"]
    assert int(caps["effective"], 16) == cap_mask(["CAP_NET_BIND_SERVICE"])
    assert int(caps["bounding"], 16) == cap_mask(["CAP_NET_BIND_SERVICE"])


def host_caps():
    return int(Path("/proc/self/status").read_text().split("CapBnd:")[1].split()[0], 16)


def host_lacks_caps():
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    return [CAPS[i] for i in range(min(last + 1, len(CAPS))) if not host_caps() >> i & 1]


def test_privileged(engine):
    if engine.name == "docker" and host_lacks_caps():
        # docker 20.10 gives --privileged every capability it knows, ignoring
        # --cap-drop; no runtime can grant one the host's root lacks.
        pytest.skip(f"this host's root lacks {host_lacks_caps()}, which docker --privileged "
                    "asks for (runc fails too)")
    rep, devs = json_lines(engine.run("--rm", "--privileged", IMAGE, "sh", "-c",
                                      "/probe; /probe ls /dev").stdout)
    bounding = int(rep["capabilities"]["bounding"], 16)
    some = cap_mask(["CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_NET_ADMIN", "CAP_MKNOD"])
    assert bounding & some == some and bounding & ~host_caps() == 0
    assert rep["seccomp"] == 0
    assert "loop-control" in devs["entries"], devs


def test_no_new_privileges(engine):
    assert default_report(engine)["no_new_privs"] == 0
    assert engine.probe("--security-opt", "no-new-privileges")["no_new_privs"] == 1


# x86_64 userfaultfd(UFFD_USER_MODE_ONLY): allowed to root without
# capabilities, denied by docker's and podman's default seccomp profiles.
USERFAULTFD = "/probe sys 323,1"


def test_default_seccomp_profile(engine):
    assert default_report(engine)["seccomp"] == 2
    call = last_json(engine.run("--rm", IMAGE, "sh", "-c", USERFAULTFD).stdout)["results"][0]
    assert call["errno"] == 1, call  # EPERM


def test_seccomp_unconfined(engine):
    out = engine.run("--rm", "--security-opt", "seccomp=unconfined", IMAGE, "sh", "-c",
                     f"/probe; {USERFAULTFD}").stdout
    rep, call = json_lines(out)
    assert rep["seccomp"] == 0 and call["results"][0]["errno"] == 0, call


def test_device(engine):
    out = engine.run("--rm", "--device", "/dev/zero:/dev/berth-zero", IMAGE, "sh", "-c",
                     "/probe stat /dev/berth-zero; /probe open /dev/berth-zero").stdout
    st, op = json_lines(out)
    assert st["type"] == "char" and (st["major"], st["minor"]) == (1, 5)
    assert op["ok"]


# ---- detached containers: logs, exec, signals, stop, pause ----

def test_detached_logs_exec_stop_rm(engine, rt):
    cid = detached(engine, rt, "d")
    rep = last_json(engine("exec", cid, "/probe").stdout)
    assert rep["pid"] != 1
    assert engine("exec", cid, "sh", "-c", "exit 7", check=False).returncode == 7
    engine("stop", "-t", "10", cid)
    logs = wait_logs(engine, cid, '"signal"')
    assert last_json(logs)["name"] == "TERM"
    assert wait_exit(engine, cid) == 0
    engine("rm", cid)


def test_stop_kills_after_the_timeout(engine, rt):
    """PID 1 without a TERM handler ignores TERM: stop sends KILL after -t."""
    cid = detached(engine, rt, "stop", cmd=("sleep", "1000"))
    t0 = time.monotonic()
    engine("stop", "-t", "1", cid)
    assert time.monotonic() - t0 >= 0.9
    assert wait_exit(engine, cid) == 137


def test_kill_with_signal(engine, rt):
    cid = detached(engine, rt, "kill")
    engine("kill", "-s", "USR1", cid)
    logs = wait_logs(engine, cid, '"signal"')
    assert last_json(logs)["name"] == "USR1"


def test_exec_env_user_workdir(engine, rt):
    cid = detached(engine, rt, "exenv")
    rep = last_json(engine("exec", "-e", "BERTH_E=1", "-u", "1000", "-w", "/tmp", cid,
                           "/probe").stdout)
    assert "BERTH_E=1" in rep["env"] and rep["uid"]["effective"] == 1000
    assert rep["cwd"] == "/tmp"


def test_pause_unpause(engine, rt):
    cid = detached(engine, rt, "pause", cmd=("sh", "-c", "while :; do date +%s%N >/tmp/t; done"))
    engine("pause", cid)
    assert engine.inspect(cid, "{{.State.Status}}") == "paused"
    engine("unpause", cid)
    assert engine.inspect(cid, "{{.State.Status}}") == "running"
    assert engine("exec", cid, "true").returncode == 0


def test_stats(engine, rt):
    cid = detached(engine, rt, "stats")
    r = engine("stats", "--no-stream", "--format", "json" if engine.name == "podman"
               else "{{json .}}", cid)
    stats = json.loads(r.stdout)
    if engine.name == "podman":
        s = stats[0]
        assert not s["mem_usage"].startswith("0B") and int(s["pids"]) >= 1, s
    else:
        assert not stats["MemUsage"].startswith("0B"), stats
        assert int(stats["PIDs"]) >= 1, stats


def test_top(engine, rt):
    cid = detached(engine, rt, "top", cmd=("sleep", "1000"))
    out = engine("top", cid).stdout
    assert "sleep" in out and "PID" in out.splitlines()[0], out


def test_init(engine):
    rep = engine.probe("--init")
    assert rep["pid"] != 1 and rep["ppid"] == 1


def test_restart_stopped_container(engine, rt):
    cid = name(rt, "again")
    engine.run("--name", cid, IMAGE, "sh", "-c", "echo run")
    engine("start", "-a", cid)
    assert engine("logs", cid).stdout.count("run") == 2


def test_restart_running_container(engine, rt):
    cid = detached(engine, rt, "restart")
    pid = engine.inspect(cid, "{{.State.Pid}}")
    engine("restart", "-t", "5", cid)
    assert engine.inspect(cid, "{{.State.Status}}") == "running"
    assert engine.inspect(cid, "{{.State.Pid}}") != pid


def test_restart_policy_restarts_a_failing_container(engine, rt):
    cid = name(rt, "policy")
    engine.run("-d", "--name", cid, "--restart", "on-failure:2", IMAGE,
               "sh", "-c", "echo attempt; exit 5")
    assert wait_exit(engine, cid) == 5
    logs = wait_logs(engine, cid, "attempt")
    assert int(engine.inspect(cid, "{{.RestartCount}}")) == 2, logs
    assert logs.count("attempt") == 3


def test_attach_sees_output_and_exit(engine, rt):
    cid = detached(engine, rt, "attach", cmd=("sh", "-c", "sleep 1; echo late; exit 6"))
    r = engine("attach", cid, check=False)
    assert "late" in r.stdout, r
    if engine.name == "docker":  # podman 4.3's attach exits 0
        assert r.returncode == 6, r
    assert wait_exit(engine, cid) == 6


def test_exec_detached(engine, rt):
    cid = detached(engine, rt, "execd")
    engine("exec", "-d", cid, "sh", "-c", "echo bg > /tmp/bg")
    assert poll(lambda: engine("exec", cid, "cat", "/tmp/bg", check=False).stdout == "bg\n",
                10, 0.1)


# ---- terminals ----

def test_interactive_tty(engine):
    # sleep first: podman loses the output of very short -it runs.
    rc, out = run_on_pty(engine.argv("run", "--rm", "-it", "--network", "none", IMAGE,
                                     "sh", "-c", "sleep 0.5; tty; exit 4"), env=engine.env)
    text = out.decode(errors="replace")
    assert rc == 4, text
    assert "/dev/pts/" in text, text


def test_exec_tty(engine, rt):
    cid = detached(engine, rt, "extty")
    rc, out = run_on_pty(engine.argv("exec", "-it", cid, "sh", "-c", "tty; exit 5"),
                         env=engine.env)
    assert rc == 5 and b"/dev/pts/" in out, out


# ---- namespaces ----

def test_host_namespaces(engine):
    rep = engine.probe("--pid=host", "--ipc=host", "--uts=host", "--network=host")
    for ns in ("pid", "ipc", "uts", "net"):
        assert rep["namespaces"][ns] == host_ns(ns), ns
        assert default_report(engine)["namespaces"][ns] != host_ns(ns), ns


# ---- errors, scale ----

def test_runtime_error_reaches_user(engine):
    """A sysctl the kernel lacks passes the client's checks; the runtime's
    message (what it did, on what, why) reaches the user."""
    r = engine.run("--rm", "--sysctl", "net.ipv4.berth_no_such=1", IMAGE, "true",
                   check=False)
    assert r.returncode != 0
    assert "net.ipv4.berth_no_such" in r.stderr or "berth_no_such" in r.stderr, r.stderr


def test_twenty_in_parallel(engine, rt):
    def start(i):
        return engine.run("-d", "--name", name(rt, f"p{i}"), IMAGE, "sleep", "1000")
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        list(pool.map(start, range(20)))
    running = engine("ps", "--filter", f"name={rt.token}-p", "--format", "{{.Names}}").stdout
    assert len(running.split()) == 20, running
