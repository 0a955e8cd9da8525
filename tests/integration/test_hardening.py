"""Known runtime escapes, each mounted as an attack that must fail:
CVE-2019-5736 (overwriting the runtime binary through /proc/<pid>/exe),
CVE-2024-21626 (a working directory on the host through a leaked fd),
CVE-2021-30465 and CVE-2025-31133/52565 (symlinks swapped in for mount
targets, the mask source /dev/null, /dev/console, /dev/ptmx), /proc and
/sys protections, and host block devices."""
import errno
import json
import os
import select
import subprocess
from pathlib import Path

import pytest

from conftest import RUNTIME
from helpers import assert_error, poll, run_cmd
from test_fds import run_with_fds

PIPE, DEVNULL = subprocess.PIPE, subprocess.DEVNULL


def read_json_line(p, timeout=20):
    """The next line of p's stdout, parsed; fails after timeout seconds."""
    assert select.select([p.stdout], [], [], timeout)[0], "no output in time"
    line = p.stdout.readline()
    assert line, "output closed"
    return json.loads(line)


# ---- CVE-2019-5736 ----

def plant_runtime_as_interpreter(bundle):
    """/evil runs the runtime binary itself inside the container: the kernel
    resolves the interpreter /proc/self/exe in the process that execs /evil —
    the runtime's child. `update ... -r -` then waits for stdin, keeping a
    process of the runtime binary alive in the container for the attacker.
    When the runtime binary is dynamic (a sanitizer build), the image also
    brings the libraries it needs, as any distribution image does; the
    static build needs nothing."""
    out = run_cmd(["ldd", RUNTIME], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                  text=True).stdout
    for line in out.splitlines():
        path = next((w for w in line.split() if w.startswith("/")), None)
        if path:
            dest = bundle.rootfs / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(Path(path).read_bytes())
            dest.chmod(0o755)
    evil = bundle.rootfs / "evil"
    evil.write_text("#!/proc/self/exe update\n")
    evil.chmod(0o755)


def runtime_processes():
    """Processes executing the runtime binary (any view of it)."""
    want = os.stat(RUNTIME)
    found = []
    for p in os.listdir("/proc"):
        try:
            st = os.stat(f"/proc/{p}/exe")
        except (OSError, ValueError):
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            found.append(int(p))
    return found


def wait_runtime_gone():
    """The last runtime process may take a moment to let go of the binary
    after its parent saw it exit; until then a reopen would only say
    ETXTBSY, whatever the protection."""
    assert poll(lambda: not runtime_processes(), 10), runtime_processes()


def attack_through_exec(rt, bundle, env=None):
    plant_runtime_as_interpreter(bundle)
    cid = rt.start_sigwait(bundle)
    attacker = rt.popen("exec", "-d", cid, "/probe", "exe-attack", "update",
                        stdin=PIPE, stdout=PIPE, stderr=DEVNULL, env=env)
    victim = rt.popen("exec", cid, "/evil", "-r", "-", stdin=PIPE, stdout=PIPE,
                      stderr=PIPE, env=env)
    found = read_json_line(attacker)
    victim.stdin.close()
    victim.wait(20)
    err = victim.stderr.read().decode()
    # Every process of the runtime binary is gone now; the attacker's handle
    # is all that is left of it.
    wait_runtime_gone()
    attacker.stdin.close()
    return found, err, read_json_line(attacker)["reopen"]


@pytest.mark.berth_only
def test_cve_2019_5736_exec_cannot_write_the_runtime_binary(rt, bundle):
    found, err, reopen = attack_through_exec(rt, bundle)
    assert found["ok"], found  # the attacker holds /proc/PID/exe of the runtime
    assert "berth-runtime" in err  # it really was the runtime binary running
    assert not reopen["ok"] and reopen["errno"] == errno.EROFS, reopen


@pytest.mark.berth_only
def test_cve_2019_5736_control_without_the_protection(rt, bundle):
    """The same attack against a runtime told it runs sealed already
    (_BERTH_RUNTIME_SEALED, the re-executed copy's marker): the reopen for
    writing succeeds — the attack is real, the defence is what stops it.
    (The probe never writes.)"""
    env = dict(os.environ, _BERTH_RUNTIME_SEALED="1")
    found, err, reopen = attack_through_exec(rt, bundle, env=env)
    assert found["ok"], found
    assert reopen["ok"], reopen


@pytest.mark.berth_only
def test_cve_2019_5736_create_cannot_write_the_runtime_binary(rt, make_bundle):
    """A container sharing the pid namespace of a created (parked) one, with
    CAP_SYS_PTRACE so that /proc/1/exe of the parked init opens, keeps it
    past start: the binary still cannot be opened for writing."""
    a = make_bundle()
    a.probe("sigwait")
    victim = rt.create(a)
    b = make_bundle()
    b.set_namespace("pid", path=f"/proc/{rt.state(victim)['pid']}/ns/pid")
    for k in ("bounding", "effective", "permitted"):
        b.process["capabilities"][k].append("CAP_SYS_PTRACE")
    b.probe("exe-attack", "create")
    attacker = rt.popen("run", "-d", "--bundle", b.path, rt.new_id(),
                        stdin=PIPE, stdout=PIPE, stderr=DEVNULL)
    found = read_json_line(attacker)
    assert found["ok"] and found["pid"] == 1, found
    rt("start", victim)
    rt.wait_output(a, victim, '"ready"')
    wait_runtime_gone()
    attacker.stdin.close()
    reopen = read_json_line(attacker)["reopen"]
    assert not reopen["ok"] and reopen["errno"] == errno.EROFS, reopen


# ---- CVE-2024-21626 ----

@pytest.fixture
def host_dir_fd(bundle):
    fd = os.open(bundle.hostdir("hostdir"), os.O_RDONLY | os.O_DIRECTORY)
    yield fd
    os.close(fd)


@pytest.mark.berth_only  # runc 1.1.5 predates the fix
@pytest.mark.parametrize("cwd", ["/proc/self/fd/3", "/workdir"])
def test_cve_2024_21626_cwd_through_an_fd_is_refused(rt, bundle, host_dir_fd, cwd):
    """fd 3 is a directory on the host, passed with --preserve-fds; a cwd
    through /proc/self/fd/3 (or a symlink to it) must not land there."""
    (bundle.rootfs / "workdir").symlink_to("/proc/self/fd/3")
    bundle.process["cwd"] = cwd
    bundle.probe()
    res = run_with_fds(rt, [host_dir_fd], "run", "--preserve-fds", "1", "--bundle",
                       bundle.path, rt.new_id())
    assert_error(res, "process.cwd")


@pytest.mark.berth_only
def test_cve_2024_21626_exec_cwd_through_an_fd_is_refused(rt, bundle, host_dir_fd):
    cid = rt.start_sigwait(bundle)
    res = run_with_fds(rt, [host_dir_fd], "exec", "--preserve-fds", "1", "--cwd",
                       "/proc/self/fd/3", cid, "/probe")
    assert_error(res, "process.cwd")
    assert rt.status(cid) == "running"


def test_no_runtime_fd_in_the_parked_init_after_start(rt, bundle):
    bundle.probe("sigwait")
    cid = rt.create(bundle)
    rt("start", cid)
    rt.wait_output(bundle, cid, '"ready"')
    pid = rt.state(cid)["pid"]
    assert sorted(int(f) for f in os.listdir(f"/proc/{pid}/fd")) == [0, 1, 2]


# ---- symlinks swapped in (CVE-2021-30465, CVE-2025-31133, CVE-2025-52565) ----

def test_masked_and_readonly_symlinks_stay_in_the_rootfs(rt, bundle):
    secret = Path(f"/tmp/{rt.token}-secret")
    rt.files.append(str(secret))
    secret.write_text("host secret")
    hostdir = bundle.hostdir("host-writable")
    up = "../" * 12
    (bundle.rootfs / "etc" / "mask-me").symlink_to(up + str(secret).lstrip("/"))
    (bundle.rootfs / "etc" / "ro-me").symlink_to(up + str(hostdir).lstrip("/"))
    bundle.linux["maskedPaths"] = ["/etc/mask-me"]
    bundle.linux["readonlyPaths"] = ["/etc/ro-me"]
    bundle.args("/bin/sh", "-c", "cat /etc/mask-me; echo rc=$?")
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    assert "host secret" not in r.stdout
    assert secret.read_text() == "host secret"
    (hostdir / "still-writable").write_text("x")  # not made read-only on the host


def shared_dev(bundle, null_as):
    """/dev bound from a host directory (a volume another container could
    write), with /dev/null made as `null_as` says."""
    dev = bundle.hostdir("shared-dev")
    if null_as == "symlink":
        os.symlink("/proc/sys/kernel/hostname", dev / "null")
    else:
        (dev / "null").write_text("not a device")
    bundle.cfg["mounts"] = [m for m in bundle.cfg["mounts"]
                            if not m["destination"].startswith("/dev")]
    bundle.add_mount("/dev", "bind", str(dev), ["rbind"])
    return dev


@pytest.mark.berth_only  # runc 1.1.5 predates the fix
@pytest.mark.parametrize("null_as", ["symlink", "file"])
def test_cve_2025_31133_mask_source_must_be_the_null_device(rt, bundle, null_as):
    shared_dev(bundle, null_as)
    bundle.linux["maskedPaths"] = ["/proc/timer_list"]
    bundle.write()
    r = rt.run(bundle)
    assert_error(r, "maskedPaths", "/dev/null")


@pytest.mark.berth_only
def test_cve_2025_52565_console_through_a_symlink_is_refused(rt, bundle, console):
    dev = shared_dev(bundle, "file")
    os.symlink("/proc/sysrq-trigger", dev / "console")
    (dev / "pts").mkdir()
    bundle.add_mount("/dev/pts", "devpts", "devpts",
                     ["newinstance", "ptmxmode=0666", "mode=0620"])
    os.symlink("pts/ptmx", dev / "ptmx")
    bundle.linux["maskedPaths"] = []
    bundle.process["terminal"] = True
    bundle.write()
    cs = console()
    r = rt.create_r(bundle, flags=("--console-socket", cs.path))
    assert_error(r, "/dev/console", "symlink")


@pytest.mark.berth_only
def test_ptmx_that_is_not_devpts_is_refused(rt, bundle, console):
    dev = shared_dev(bundle, "file")
    os.symlink("/proc/self/comm", dev / "ptmx")
    bundle.linux["maskedPaths"] = []
    bundle.process["terminal"] = True
    bundle.write()
    cs = console()
    r = rt.create_r(bundle, flags=("--console-socket", cs.path))
    assert_error(r, "/dev/ptmx", "devpts")


# ---- /proc and /sys ----

@pytest.mark.parametrize("template", ["harness", "runtime"])
def test_proc_and_sys_protections_hold(rt, bundle, template):
    """Masked files read empty, read-only ones refuse writes, and without
    CAP_SYS_ADMIN none of it can be remounted, unmounted or mounted anew."""
    if template == "runtime":
        bundle.use_runtime_template()
    # (this host has no /proc/sysrq-trigger: /proc/sys stands for the
    # read-only paths, a file and a directory)
    res = rt.run_sh(bundle, "; ".join([
        "/probe write /proc/sys/vm/drop_caches 3",
        "/probe write /proc/sys/kernel/hostname other",
        "/probe read /proc/timer_list",
        "/probe read /proc/keys",
        "/probe ls /sys/firmware",
        "/probe remount /proc/sys rw",
        "/probe remount /proc rw",
        "/probe remount /sys rw",
        "/probe umount /proc/timer_list",
        "/probe umount /proc/sys",
        "/probe mount-proc /tmp",
    ]))
    (drop_caches, hostname, timer_list, keys, firmware, rm_sys, rm_proc, rm_sysfs,
     um_timer, um_sys, new_proc) = res
    for w in (drop_caches, hostname):
        assert not w["ok"] and w["errno"] == errno.EROFS, w
    assert timer_list["ok"] and timer_list["data"] == ""
    assert keys["ok"] and keys["data"] == ""
    assert firmware["ok"] and firmware["entries"] == []
    for m in (rm_sys, rm_proc, rm_sysfs, um_timer, um_sys, new_proc):
        assert not m["ok"] and m["errno"] == errno.EPERM, m


# ---- devices ----

def a_host_block_device():
    """The host's first disk, or loop0 where there is none (the cgroup v2 VM
    runs on 9p): the device cgroup decides before any driver is asked."""
    for line in Path("/proc/partitions").read_text().splitlines()[2:]:
        f = line.split()
        if len(f) == 4:
            return int(f[0]), int(f[1]), f[3]
    return 7, 0, "loop0"


@pytest.mark.parametrize("template", ["harness", "runtime"])
def test_host_block_device_cannot_be_opened(rt, bundle, template):
    """Even with CAP_MKNOD (Docker's set has it), a node made for a host disk
    cannot be opened: the device cgroup allows no block device."""
    major, minor, name = a_host_block_device()
    if template == "runtime":
        bundle.use_runtime_template()
    else:
        for k in ("bounding", "effective", "permitted"):
            bundle.process["capabilities"][k].append("CAP_MKNOD")
    bundle.cfg["root"]["readonly"] = False
    res = rt.run_sh(bundle, f"/probe mknod /dev/{name} b {major} {minor}; "
                    f"/probe open /dev/{name} r; /probe open /dev/{name} w")
    mk, rd, wr = res
    assert mk["ok"], mk
    for o in (rd, wr):
        assert not o["ok"] and o["errno"] == errno.EPERM, o
