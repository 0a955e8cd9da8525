#!/usr/bin/python3
"""berth-runtime next to crun and runc, interleaved; see bench/README.md.

    /usr/bin/python3 bench/run.py [--iterations N] [--runtimes berth,crun,runc]
                                  [--scenarios run,lifecycle,...] [--berth PATH]

Run as root. Python's standard library only. Every runtime gets its own --root
(/run/berth-bench-<runtime>); container ids and cgroups are named berth-bench-*;
everything is removed at the end, on failure and on Ctrl-C.
"""
import argparse
import ctypes
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
PREFIX = "berth-bench-"
CGROUP_ROOT = Path("/sys/fs/cgroup")
NS_ENV = "BERTH_BENCH_IN_MOUNT_NS"
HIDDEN = CGROUP_ROOT / "unified"  # covered by a tmpfs on hybrid hosts
CGROUP2_SUPER_MAGIC = 0x63677270
V9FS_MAGIC = 0x01021997

PEERS = {"crun": "/usr/bin/crun", "runc": "/usr/sbin/runc"}
SCENARIOS = ["run", "lifecycle", "limits", "exec", "kill", "list"]
SCENARIO_HELP = {
    "run": "run /bin/true in the foreground (create+start+wait+delete); "
           "also the kernel floor, with and without cgroups",
    "lifecycle": "create, start, (reap), delete of /bin/true, each timed; "
                 "peak RSS of create",
    "limits": "run /bin/true with memory/pids/cpu limits and a seccomp profile",
    "exec": "exec /bin/true into a running container",
    "list": "list with --list-containers containers created",
    "kill": "delete -f of a running container",
}

# berth-runtime's cache in its state root (src/runtime/seccomp_cache.hpp):
# not a container, not a leak.
CACHE = "@cache"

# The kernel-floor variants (bench/floor.c), interleaved with `run`.
FLOORS = ("floor", "floor+cgroups", "floor+cgroups/procs")

# Goal of issue 6, as a ratio to crun's median (RSS: an absolute MiB bound).
GOALS = {"list": 0.5, "delete -f": 1.0}
DEFAULT_GOAL = 0.7
RSS_GOAL_MIB = 2.0

# The seccomp profile of the `limits` scenario, the same JSON for every
# runtime: an allow-list (x86_64, x86, x32) with EPERM for everything else
# and ENOSYS for clone3 (so that libcs fall back to clone). The list is
# x86_64's syscall table without the privileged ones a container engine's
# default profile denies (mount, ptrace, bpf, keyctl, reboot, module loading,
# setns/unshare, clock setting, swap, ...).
SECCOMP_ALLOW = """
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk
rt_sigaction rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev
access pipe select sched_yield mremap msync mincore madvise shmget shmat shmctl
dup dup2 pause nanosleep getitimer alarm setitimer getpid sendfile socket
connect accept sendto recvfrom sendmsg recvmsg shutdown bind listen getsockname
getpeername socketpair setsockopt getsockopt clone fork vfork execve exit wait4
kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl flock
fsync fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir
rmdir creat link unlink symlink readlink chmod fchmod chown fchown lchown umask
gettimeofday getrlimit getrusage sysinfo times getuid getgid setuid setgid
geteuid getegid setpgid getppid getpgrp setsid setreuid setregid getgroups
setgroups setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid
getsid capget capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo
rt_sigsuspend sigaltstack utime mknod personality statfs fstatfs getpriority
setpriority sched_setparam sched_getparam sched_setscheduler sched_getscheduler
sched_get_priority_max sched_get_priority_min sched_rr_get_interval mlock
munlock mlockall munlockall modify_ldt prctl arch_prctl setrlimit chroot sync
sethostname setdomainname gettid readahead setxattr lsetxattr fsetxattr getxattr
lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr
fremovexattr tkill time futex sched_setaffinity sched_getaffinity
set_thread_area io_setup io_destroy io_getevents io_submit io_cancel
get_thread_area epoll_create getdents64 set_tid_address restart_syscall
semtimedop fadvise64 timer_create timer_settime timer_gettime timer_getoverrun
timer_delete clock_gettime clock_getres clock_nanosleep exit_group epoll_wait
epoll_ctl tgkill utimes mq_open mq_unlink mq_timedsend mq_timedreceive
mq_notify mq_getsetattr waitid ioprio_set ioprio_get inotify_init
inotify_add_watch inotify_rm_watch openat mkdirat mknodat fchownat futimesat
newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat
pselect6 ppoll set_robust_list get_robust_list splice tee sync_file_range
vmsplice utimensat epoll_pwait signalfd timerfd_create eventfd fallocate
timerfd_settime timerfd_gettime accept4 signalfd4 eventfd2 epoll_create1 dup3
pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo recvmmsg prlimit64 syncfs
sendmmsg getcpu sched_setattr sched_getattr renameat2 seccomp getrandom
memfd_create execveat membarrier mlock2 copy_file_range preadv2 pwritev2
pkey_mprotect pkey_alloc pkey_free statx io_pgetevents rseq pidfd_send_signal
io_uring_setup io_uring_enter io_uring_register pidfd_open close_range openat2
pidfd_getfd faccessat2 process_madvise epoll_pwait2 futex_waitv
""".split()


def seccomp_profile():
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": SECCOMP_ALLOW, "action": "SCMP_ACT_ALLOW"},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        ],
    }


LIMITS = {
    "memory": {"limit": 64 << 20},
    "pids": {"limit": 100},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000},
}

libc = ctypes.CDLL(None, use_errno=True)


def log(*a, sep=" "):
    print(*a, sep=sep, file=sys.stderr, flush=True)


class Fail(Exception):
    pass


class Timeout(Exception):
    pass


# ---- the mount namespace (hybrid hosts) ----

def fs_type(path):
    """statfs f_type, through `stat -f` (the stdlib has no statfs)."""
    r = subprocess.run(["stat", "-f", "-c", "%t", str(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return int(r.stdout.strip(), 16) if r.returncode == 0 else None


def cgroup_mode():
    if fs_type(CGROUP_ROOT) == CGROUP2_SUPER_MAGIC:
        return "v2"
    if fs_type(CGROUP_ROOT / "unified") == CGROUP2_SUPER_MAGIC:
        return "hybrid"
    return "v1"


def enter_private_mount_ns(argv):
    """On a hybrid host, crun 1.8 refuses to run ("cgroups in hybrid mode not
    supported"). The whole benchmark, every runtime alike, runs in one private
    mount namespace where /sys/fs/cgroup/unified is covered by an empty tmpfs:
    there the host looks like plain cgroup v1 to all three runtimes."""
    if os.environ.get(NS_ENV) == "1":
        if libc.mount(b"none", str(HIDDEN).encode(), b"tmpfs", 0, b"mode=755") != 0:
            raise Fail("mount tmpfs on /sys/fs/cgroup/unified: "
                       + os.strerror(ctypes.get_errno()))
        return "v1 (hybrid host; unified hierarchy hidden in a private mount namespace)"
    mode = cgroup_mode()
    if mode != "hybrid":
        os.environ.pop(NS_ENV, None)
        return mode
    os.environ[NS_ENV] = "1"
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    os.execv(unshare, [unshare, "--mount", "--propagation", "private", "--",
                       sys.executable, os.path.abspath(__file__)] + argv)


# ---- processes ----

def reap_all():
    """Reap every exited child (container inits are reparented to us)."""
    reaped = []
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped.append(pid)


def _alarm(signum, frame):
    raise Timeout()


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


class Runner:
    """Runs commands through bench/spawn.c (fork, exec, wait4 in a small
    static process): wall time and the command's own peak RSS (ru_maxrss)."""

    def __init__(self, tmp, helper):
        self.helper = str(helper)
        self.devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        self.errpath = Path(tmp) / "stderr"
        self.errfd = os.open(self.errpath, os.O_RDWR | os.O_CREAT | os.O_APPEND
                             | os.O_CLOEXEC, 0o600)
        self.res_r, self.res_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self.reaped = set()  # inits reaped by reap() before anyone waited

    def __call__(self, argv, timeout=60, check=True):
        """-> (exit status, seconds, peak RSS in KiB)."""
        os.ftruncate(self.errfd, 0)
        actions = [(os.POSIX_SPAWN_DUP2, self.devnull, 0),
                   (os.POSIX_SPAWN_DUP2, self.devnull, 1),
                   (os.POSIX_SPAWN_DUP2, self.errfd, 2),
                   (os.POSIX_SPAWN_DUP2, self.res_w, 3)]
        full = [self.helper, "3", *argv]
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            pid = os.posix_spawn(self.helper, full, os.environ, file_actions=actions)
            try:
                status = self.wait_any({pid})[1]
            except Timeout:
                os.kill(pid, signal.SIGKILL)  # the command dies with it
                os.waitpid(pid, 0)
                raise Fail(f"timed out after {timeout}s: {' '.join(argv)}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            line = os.read(self.res_r, 256).decode()
        except BlockingIOError:
            line = ""
        if status != 0 or not line:
            raise Fail(f"{self.helper} failed ({status}): {' '.join(argv)}\n"
                       f"{self.stderr()}")
        ns, rss, wstatus = (int(x) for x in line.split())
        rc = os.waitstatus_to_exitcode(wstatus)
        if check and rc != 0:
            raise Fail(f"exit status {rc}: {' '.join(argv)}\n{self.stderr()}")
        return rc, ns / 1e9, rss

    def many(self, argvs, parallel=4, timeout=120):
        """Untimed set-up and tear-down: several commands at once."""
        todo, running, failed = list(argvs), {}, []
        actions = [(os.POSIX_SPAWN_DUP2, self.devnull, 0),
                   (os.POSIX_SPAWN_DUP2, self.devnull, 1),
                   (os.POSIX_SPAWN_DUP2, self.devnull, 2)]
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            while todo or running:
                while todo and len(running) < parallel:
                    argv = todo.pop(0)
                    running[os.posix_spawn(argv[0], argv, os.environ,
                                           file_actions=actions)] = argv
                pid, status = self.wait_any(running)
                argv = running.pop(pid)
                if status != 0:
                    failed.append(" ".join(argv))
        except Timeout:
            for pid in running:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            raise Fail(f"timed out after {timeout}s: {len(running)} of a batch")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if failed:
            raise Fail("failed: " + "; ".join(failed[:3]) +
                       (f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""))

    def stderr(self):
        return self.errpath.read_text(errors="replace").strip()

    def wait_any(self, mine):
        """Wait until one of the pids in `mine` exits -> (pid, 0 if it exited
        0). Any other child that exits meanwhile (a container's init, which
        is reparented to us) is reaped at once, as a shim would: on cgroup v2
        a runtime's `delete` may otherwise wait for the zombie."""
        while True:
            info = os.waitid(os.P_ALL, 0, os.WEXITED)
            if info.si_pid in mine:
                ok = info.si_code == os.CLD_EXITED and info.si_status == 0
                return info.si_pid, 0 if ok else (info.si_status or 1)
            self.reaped.add(info.si_pid)

    def wait_pid(self, pid, timeout=30):
        """Wait for a container init (our child once its runtime exited)."""
        if pid in self.reaped:
            self.reaped.discard(pid)
            return
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # not our child (reaped already, or never reparented)
        except Timeout:
            raise Fail(f"container init {pid} still running after {timeout}s")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def reap(self):
        self.reaped.update(reap_all())


# ---- runtimes and bundles ----

class Runtime:
    def __init__(self, name, path):
        self.name, self.path = name, path
        self.root = Path(f"/run/{PREFIX}{name}")
        self.n = 0

    def cmd(self, *args):
        return [self.path, "--root", str(self.root), *args]

    def new_id(self, scenario):
        self.n += 1
        return f"{PREFIX}{self.name}-{scenario}-{self.n}"

    def version(self):
        r = subprocess.run([self.path, "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        return r.stdout.splitlines()[0].strip() if r.stdout else "?"


class Bundles:
    """One busybox-static rootfs, made as scripts/make-bundle.sh makes it but
    without a process per applet (in the VM every exec from the 9p root costs
    ~0.5 s), the config `runc spec` writes, and per container a bundle dir
    holding only config.json: root.path points to the shared rootfs,
    linux.cgroupsPath is /<container id>."""

    def __init__(self, tmp):
        self.dir = Path(tmp)
        base = self.dir / "base"
        self.rootfs = base / "rootfs"
        for d in ("bin", "proc", "sys", "dev", "tmp", "etc"):
            (self.rootfs / d).mkdir(parents=True)
        shutil.copy2("/bin/busybox", self.rootfs / "bin" / "busybox")
        applets = subprocess.run(["/bin/busybox", "--list"], check=True,
                                 stdout=subprocess.PIPE, text=True).stdout.split()
        for a in applets:
            if not (self.rootfs / "bin" / a).exists():
                os.symlink("busybox", self.rootfs / "bin" / a)
        (self.rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        (self.rootfs / "etc" / "group").write_text("root:x:0:\n")
        subprocess.run([PEERS["runc"], "spec", "--bundle", str(base)], check=True)
        self.template = json.loads((base / "config.json").read_text())
        self.template["process"]["terminal"] = False
        self.template["process"]["args"] = ["/bin/true"]
        self.template["root"] = {"path": str(self.rootfs), "readonly": True}
        # runc 1.1.5's spec lists ambient capabilities that are not inheritable:
        # runc and crun ignore the failed raise, berth-runtime refuses it (runc
        # 1.2's spec has no ambient set). Measured: the spec without it.
        self.template["process"]["capabilities"].pop("ambient", None)

    def make(self, cid, args=("/bin/true",), limits=False):
        cfg = json.loads(json.dumps(self.template))
        cfg["process"]["args"] = list(args)
        cfg["linux"]["cgroupsPath"] = "/" + cid
        if limits:
            cfg["linux"].setdefault("resources", {}).update(
                json.loads(json.dumps(LIMITS)))
            cfg["linux"]["seccomp"] = seccomp_profile()
        b = self.dir / "bundles" / cid
        b.mkdir(parents=True)
        (b / "config.json").write_text(json.dumps(cfg))
        return b

    def remove(self, cid):
        shutil.rmtree(self.dir / "bundles" / cid, ignore_errors=True)


# ---- the benchmark ----

class Bench:
    def __init__(self, opts, runtimes, runner, bundles, floor):
        self.o, self.rts, self.run, self.b, self.floor = \
            opts, runtimes, runner, bundles, floor
        self.samples = {}  # (row, runtime) -> [seconds] (or KiB for RSS)
        self.row_order = []
        self.live = {rt.name: set() for rt in runtimes}  # container ids

    def record(self, row, who, value, keep):
        if not keep:
            return
        if row not in self.row_order:
            self.row_order.append(row)
        self.samples.setdefault((row, who), []).append(value)

    def gap(self):
        time.sleep(self.o.gap_ms / 1000)

    def timed(self, rt, *args, check=True):
        self.gap()
        return self.run(rt.cmd(*args), check=check)

    # container helpers (untimed)
    def start_sleeper(self, rt, scenario):
        cid = rt.new_id(scenario)
        b = self.b.make(cid, ("/bin/sleep", "1000000"))
        self.live[rt.name].add(cid)
        self.run(rt.cmd("run", "--detach", "--bundle", str(b), cid))
        return cid

    def forget(self, rt, cid):
        if (rt.root / cid).exists():
            raise Fail(f"{rt.name}: {cid} still in {rt.root} after delete")
        self.live[rt.name].discard(cid)
        self.b.remove(cid)

    def delete_force(self, rt, cid):
        self.run(rt.cmd("delete", "--force", cid))
        self.run.reap()
        self.forget(rt, cid)

    # scenarios: each is setup / one iteration per runtime / teardown
    def loop(self, name, step, extra=()):
        total = self.o.warmup + self.o.iterations
        who = list(self.rts) + list(extra)
        for i in range(total):
            keep = i >= self.o.warmup
            for rt in who:  # interleaved: A B C A B C ...
                step(rt, keep)
                self.run.reap()
            if (i + 1) % 10 == 0 or i + 1 == total:
                log(f"  {name}: {i + 1}/{total}")

    def sc_run(self):
        n = [0]

        def step(rt, keep):
            if isinstance(rt, str):  # the kernel floor
                n[0] += 1
                argv = [str(self.floor), str(self.b.rootfs)]
                if rt != "floor":
                    argv.append(f"{PREFIX}floor-{os.getpid()}-{n[0]}")
                    argv.append("procs" if rt.endswith("procs") else "self")
                self.gap()
                _, t, _ = self.run(argv)
                self.record("floor", rt, t, keep)
                return
            cid = rt.new_id("run")
            b = self.b.make(cid)
            self.live[rt.name].add(cid)
            _, t, _ = self.timed(rt, "run", "--bundle", str(b), cid)
            self.record("run /bin/true", rt.name, t, keep)
            self.forget(rt, cid)
        extra = () if self.o.no_floor else FLOORS
        self.loop("run", step, extra)

    def sc_limits(self):
        def step(rt, keep):
            cid = rt.new_id("limits")
            b = self.b.make(cid, limits=True)
            self.live[rt.name].add(cid)
            _, t, _ = self.timed(rt, "run", "--bundle", str(b), cid)
            self.record("run with limits + seccomp", rt.name, t, keep)
            self.forget(rt, cid)
        self.loop("limits", step)

    def sc_lifecycle(self):
        def step(rt, keep):
            cid = rt.new_id("cycle")
            b = self.b.make(cid)
            pid_file = b / "pid"
            self.live[rt.name].add(cid)
            _, t, rss = self.timed(rt, "create", "--bundle", str(b),
                                   "--pid-file", str(pid_file), cid)
            self.record("create", rt.name, t, keep)
            self.record("peak RSS of create", rt.name, rss, keep)
            pid = int(pid_file.read_text())
            self.run.reaped.discard(pid)  # alive: any such entry is a stale pid
            _, t, _ = self.timed(rt, "start", cid)
            self.record("start", rt.name, t, keep)
            self.run.wait_pid(pid)  # /bin/true exited: reap it, as a shim would
            _, t, _ = self.timed(rt, "delete", cid)
            self.record("delete", rt.name, t, keep)
            self.forget(rt, cid)
        self.loop("lifecycle", step)

    def sc_exec(self):
        cids = {rt.name: self.start_sleeper(rt, "exec") for rt in self.rts}

        def step(rt, keep):
            _, t, _ = self.timed(rt, "exec", cids[rt.name], "/bin/true")
            self.record("exec /bin/true", rt.name, t, keep)
        self.loop("exec", step)
        for rt in self.rts:
            self.delete_force(rt, cids[rt.name])

    def sc_list(self):
        n = self.o.list_containers
        log(f"  list: creating {n} containers per runtime")
        cmds = []
        for k in range(n):
            for rt in self.rts:
                cid = rt.new_id("list")
                b = self.b.make(cid)
                self.live[rt.name].add(cid)
                cmds.append(rt.cmd("create", "--bundle", str(b), cid))
        self.run.many(cmds, timeout=max(120, 10 * len(cmds)))

        def step(rt, keep):
            _, t, _ = self.timed(rt, "list")
            self.record(f"list ({n} containers)", rt.name, t, keep)
        self.loop("list", step)
        log("  list: deleting")
        cmds = [rt.cmd("delete", "--force", cid)
                for rt in self.rts for cid in sorted(self.live[rt.name])]
        self.run.many(cmds, timeout=max(120, 10 * len(cmds)))
        self.run.reap()
        for rt in self.rts:
            for cid in list(self.live[rt.name]):
                self.forget(rt, cid)

    def sc_kill(self):
        def step(rt, keep):
            cid = self.start_sleeper(rt, "kill")
            _, t, _ = self.timed(rt, "delete", "--force", cid)
            self.record("delete -f (running)", rt.name, t, keep)
            self.run.reap()
            self.forget(rt, cid)
        self.loop("kill", step)


# ---- cleanup ----

def sweep_hidden_tmpfs():
    """crun also makes its cgroup dirs (with a plain cgroup.procs file) in
    the tmpfs that hides the unified hierarchy, and cannot rmdir them: they
    are not cgroups, and vanish with the mount namespace; removed anyway."""
    if os.environ.get(NS_ENV) != "1":
        return
    for e in os.scandir(HIDDEN):
        if PREFIX in e.name:
            shutil.rmtree(e.path, ignore_errors=True)


def find_cgroups(depth=3):
    found = []
    hidden = str(HIDDEN) if os.environ.get(NS_ENV) == "1" else None

    def walk(d, level):
        try:
            entries = list(os.scandir(d))
        except OSError:
            return
        for e in entries:
            if e.is_dir(follow_symlinks=False) and e.path != hidden:
                if PREFIX in e.name:
                    found.append(e.path)
                elif level < depth:
                    walk(e.path, level + 1)
    walk(CGROUP_ROOT, 1)
    return found


def bench_procs():
    me = os.getpid()
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == me:
            continue
        try:
            if PREFIX in (p / "cgroup").read_text():
                found.append(int(p.name))
        except OSError:
            pass
    return found


def remove_cgroup(path):
    for dirpath, _, _ in os.walk(path, topdown=False):
        try:
            Path(dirpath, "freezer.state").write_text("THAWED")
        except OSError:
            pass
        for _ in range(200):
            try:
                for pid in Path(dirpath, "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
            reap_all()
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.025)


def cleanup(runtimes, run, tmp):
    """Delete every container we made, then sweep: processes, cgroups, state
    dirs, the temp dir. Returns what had to be swept (leaks) as text."""
    leaks = []
    for rt in runtimes:
        ids = set()
        if rt.root.is_dir():
            ids.update(set(os.listdir(rt.root)) - {CACHE})
        for cid in sorted(ids) if run else ():
            try:
                r, _, _ = run(rt.cmd("delete", "--force", cid), timeout=30, check=False)
                if r != 0:
                    leaks.append(f"{rt.name} delete --force {cid}: {run.stderr()}")
            except Fail as e:
                leaks.append(str(e))
            reap_all()
    procs = bench_procs()
    if procs:
        leaks.append(f"processes in berth-bench cgroups: {procs}")
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)
        reap_all()
    sweep_hidden_tmpfs()
    cgroups = find_cgroups()
    if cgroups:
        leaks.append(f"cgroups: {cgroups}")
        for c in sorted(cgroups, key=len, reverse=True):
            remove_cgroup(c)
    for rt in runtimes:
        if rt.root.exists():
            left = sorted(set(os.listdir(rt.root)) - {CACHE})
            if left:
                leaks.append(f"{rt.root}: {left}")
            shutil.rmtree(rt.root, ignore_errors=True)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return leaks


# ---- report ----

def pct(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def report(bench, runtimes, opts, header):
    names = [rt.name for rt in runtimes]
    base = "crun" if "crun" in names else names[0]
    others = [n for n in names if n != base]
    lines = header + [""]
    cols = ["scenario"] + [f"{n} median / p90" for n in names] + \
        [f"{n}/{base}" for n in others]
    if "berth" in names and base == "crun":
        cols.append("goal (berth/crun)")
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for row in bench.row_order:
        if row == "floor":
            continue
        rss = row.startswith("peak RSS")
        med = {}
        cells = [row]
        for n in names:
            v = bench.samples.get((row, n))
            if not v:
                cells.append("—")
                continue
            med[n] = statistics.median(v)
            if rss:
                cells.append(f"{med[n] / 1024:.1f} MiB")
            else:
                cells.append(f"{med[n] * 1000:.1f} / {pct(v, 90) * 1000:.1f} ms")
        for n in others:
            cells.append(f"{med[n] / med[base]:.2f}" if n in med and base in med
                         else "—")
        if len(cols) > len(cells):
            if rss:
                g = f"≤ {RSS_GOAL_MIB:.0f} MiB"
                ok = "berth" in med and med["berth"] / 1024 <= RSS_GOAL_MIB
            else:
                lim = next((v for k, v in GOALS.items() if row.startswith(k)),
                           DEFAULT_GOAL)
                g = f"≤ {lim}"
                ok = "berth" in med and "crun" in med and \
                    med["berth"] / med["crun"] <= lim
            cells.append(g + (" met" if ok else " **not met**"))
        lines.append("| " + " | ".join(cells) + " |")
    floor = [(w, bench.samples[("floor", w)]) for w in FLOORS
             if ("floor", w) in bench.samples]
    if floor:
        crun_run = bench.samples.get(("run /bin/true", base))
        lines += ["", "Kernel floor (bench/floor.c), interleaved with `run`:", "",
                  f"| reference | median / p90 | ratio to {base} run |",
                  "|---|---|---|"]
        what = {"floor": "clone + pivot_root + /proc + exec /bin/true + wait",
                "floor+cgroups": "the same + a cgroup in every hierarchy: mkdir, "
                                 "the child moves itself in (v1: `0` into `tasks`; "
                                 "v2: CLONE_INTO_CGROUP), rmdir",
                "floor+cgroups/procs": "the same, but the parent writes the "
                                       "child's pid into each `cgroup.procs` "
                                       "(runc's and crun's way)"}
        for w, v in floor:
            m = statistics.median(v)
            r = f"{m / statistics.median(crun_run):.2f}" if crun_run else "—"
            lines.append(f"| {what[w]} | {m * 1000:.1f} / {pct(v, 90) * 1000:.1f} ms | {r} |")
    return "\n".join(lines)


# ---- main ----

def header(o, runtimes, mode, load0):
    load1 = os.getloadavg()
    return [
        f"host: {platform.node()}, Linux {platform.release()}, "
        f"{os.cpu_count()} CPUs, cgroup {mode}; load average "
        f"{load0[0]:.1f} before, {load1[0]:.1f} after"
        + (f"; nice {o.nice}" if o.nice else ""),
        "runtimes: " + "; ".join(
            f"{rt.name} = {rt.path} ({berth_source(rt.path) if rt.name == 'berth' else rt.version()})"
            for rt in runtimes),
        f"{o.iterations} interleaved iterations after {o.warmup} warm-up, "
        f"{o.gap_ms:g} ms idle before each timed command; median / p90 of wall "
        f"time; RSS: median of the create process's ru_maxrss",
    ]


def berth_source(path):
    """build-release/SOURCE (bench/build-release.sh), else HEAD and mtime."""
    src = Path(path).parent / "SOURCE"
    if src.exists():
        return src.read_text().strip()
    git = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout.strip()
    built = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(os.stat(path).st_mtime))
    return f"HEAD {git}, binary built {built}"


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="berth-runtime vs crun vs runc, interleaved (run as root)",
        epilog="scenarios: " + "; ".join(f"{k}: {v}" for k, v in SCENARIO_HELP.items()))
    ap.add_argument("--iterations", type=int, default=30,
                    help="timed iterations per scenario (default 30)")
    ap.add_argument("--warmup", type=int,
                    help="untimed iterations first (default: a tenth of "
                    "--iterations, at least 1, at most 3)")
    ap.add_argument("--runtimes", default="berth,crun,runc",
                    help="comma-separated, from berth,crun,runc")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS),
                    help="comma-separated, from " + ",".join(SCENARIOS))
    ap.add_argument("--berth", help="berth-runtime binary (default: "
                    "build-release/berth-runtime if it exists, else build/berth-runtime)")
    ap.add_argument("--gap-ms", type=float, default=50,
                    help="idle time before each timed command (default 50; see "
                    "MACHINE-NOTES: the first cgroup v1 attach after a quiet moment "
                    "costs 10-15 ms)")
    ap.add_argument("--list-containers", type=int, default=100)
    ap.add_argument("--no-floor", action="store_true",
                    help="skip the kernel-floor reference")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the benchmark (and so every runtime) at this nice "
                    "value, e.g. -10 on a machine busy with other work")
    ap.add_argument("--json", help="also write every sample to this file")
    o = ap.parse_args(argv)
    if o.warmup is None:
        o.warmup = min(3, max(1, o.iterations // 10))
    o.runtimes = [r for r in o.runtimes.split(",") if r]
    o.scenarios = [s for s in o.scenarios.split(",") if s]
    for r in o.runtimes:
        if r not in ("berth", *PEERS):
            ap.error(f"unknown runtime {r}")
    for s in o.scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s}")
    return o


def main(argv):
    o = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("bench/run.py: run as root")
    mode = enter_private_mount_ns(argv)  # may re-exec under unshare
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: container inits come to us
    if o.nice:
        os.setpriority(os.PRIO_PROCESS, 0, o.nice)
    signal.signal(signal.SIGALRM, _alarm)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)  # also when started with SIGINT ignored

    berth = o.berth or next((str(p) for p in (REPO / "build-release" / "berth-runtime",
                                              REPO / "build" / "berth-runtime")
                             if p.exists()), None)
    paths = {"berth": berth, **PEERS}
    runtimes = []
    for name in o.runtimes:
        p = paths[name]
        if not p or not os.access(p, os.X_OK):
            sys.exit(f"bench/run.py: {name}: {p} is not an executable")
        runtimes.append(Runtime(name, os.path.abspath(p)))

    tmp = tempfile.mkdtemp(prefix=PREFIX)
    for rt in runtimes:
        if rt.name == "berth" and fs_type(rt.path) == V9FS_MAGIC:
            # In the VM (../shared/tools/vm) the checkout is a 9p share with
            # cache=mmap: every exec would read the binary over 9p (measured:
            # 69 ms of an emulated delete), while crun and runc come from the
            # cached root. A copy in the temp dir (tmpfs) is on equal terms.
            copy = Path(tmp) / "berth-runtime"
            shutil.copy2(rt.path, copy)
            if (Path(rt.path).parent / "SOURCE").exists():
                shutil.copy2(Path(rt.path).parent / "SOURCE", Path(tmp) / "SOURCE")
            log(f"berth: {rt.path} is on 9p; measuring a copy in {tmp}")
            rt.path = str(copy)
    run = bench = None
    text = None
    load0 = os.getloadavg()
    try:
        for prog in ("spawn", "floor"):  # small static helpers, built each time
            if subprocess.run(["cc", "-O2", "-static", "-o", f"{tmp}/{prog}",
                               str(BENCH / f"{prog}.c")]).returncode != 0:
                raise Fail(f"cannot build bench/{prog}.c")
        run = Runner(tmp, Path(tmp) / "spawn")
        old = cleanup(runtimes, run, None)  # of an earlier, killed run
        if old:
            log("swept leftovers of an earlier run:", *old, sep="\n  ")
        for rt in runtimes:
            rt.root.mkdir(mode=0o700)
        log("making the bundle ...")
        bundles = Bundles(tmp)
        bench = Bench(o, runtimes, run, bundles, Path(tmp) / "floor")
        for s in o.scenarios:
            log(f"scenario {s}: {SCENARIO_HELP[s]}")
            getattr(bench, "sc_" + s)()
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        text = "(interrupted: partial results)"
    except Fail as e:
        log(f"bench/run.py: {e}")
        text = "(failed: partial results)"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if bench and bench.samples:
            # before the clean-up: a VM's time-out allows only 3 s after TERM
            head = header(o, runtimes, mode, load0)
            text = (text + "\n" if text else "") + report(bench, runtimes, o, head)
            print(text, flush=True)
            if o.json:
                Path(o.json).write_text(json.dumps(
                    {"header": head,
                     "samples": [{"row": r, "runtime": w, "values": v}
                                 for (r, w), v in bench.samples.items()]}, indent=1))
        leaks = cleanup(runtimes, run, tmp)
    if leaks:
        log("cleaned up leftovers:", *leaks, sep="\n  ")
    complete = text is not None and not text.startswith("(")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
