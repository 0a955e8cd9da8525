"""Harness for the OCI runtime integration tests.

Every test gets a token (berth-test-<hex>) that names everything it makes: its
--root dir, container ids, bundle dirs and cgroups. After the test the `rt`
fixture force-deletes the containers and fails the test if any mount, cgroup,
process or state dir carrying the token is left; then it removes them anyway.
"""
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import (HOST_PID, state_entries, ConsoleServer, forget, json_lines, last_json,
                     mountinfo_points, poll, reap_zombies, run_cmd, spawn,
                     start_reaper)

# The client daemons (containerd, dockerd, podman) and their fixtures.
pytest_plugins = ["clients"]

REPO = Path(__file__).resolve().parents[2]
RUNTIME = os.path.abspath(os.environ.get(
    "BERTH_RUNTIME", REPO / "build" / "berth-runtime"))
PROBE = os.path.abspath(os.environ.get(
    "BERTH_PROBE", REPO / "build" / "berth-probe"))
BUSYBOX = "/bin/busybox"
CGROUP_ROOT = Path("/sys/fs/cgroup")

PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
GROUP = "root:x:0:\nuser:x:1000:\n"
RUNC_CAPS = ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")


def pytest_configure(config):
    config.addinivalue_line(  # also in pytest.ini, for runs without it
        "markers", "berth_only: needs behaviour that runc 1.1.5 lacks")
    # Orphaned container processes get reparented to us, not to a slow PID 1.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    start_reaper()


def pytest_sessionstart(session):
    for what, path in (("BERTH_RUNTIME", RUNTIME), ("BERTH_PROBE", PROBE)):
        if not os.access(path, os.X_OK):
            pytest.exit(f"{what}={path} is not an executable", returncode=4)
    for t in Path("/tmp").glob("berth-template-*"):  # of dead sessions
        if not Path("/proc", t.name.split("-")[2]).exists():
            shutil.rmtree(t, ignore_errors=True)


# ---- the template rootfs, built once per session ----

_template = None


def template_rootfs():
    global _template
    if _template is None:
        t = Path(f"/tmp/berth-template-{os.getpid()}-{secrets.token_hex(3)}")
        for d in ("bin", "proc", "sys", "dev", "tmp", "etc", "root", "home/user"):
            (t / d).mkdir(parents=True)
        os.chmod(t / "tmp", 0o1777)
        shutil.copy2(BUSYBOX, t / "bin" / "busybox")
        applets = run_cmd([BUSYBOX, "--list"], stdout=subprocess.PIPE,
                          text=True).stdout.split()
        for a in applets:
            if a != "busybox":
                os.symlink("busybox", t / "bin" / a)
        shutil.copy2(PROBE, t / "probe")
        (t / "etc" / "passwd").write_text(PASSWD)
        (t / "etc" / "group").write_text(GROUP)
        os.chown(t / "home" / "user", 1000, 1000)
        _template = t
    return _template


def copy_rootfs(src, dst):
    """Copy the template: files are copied, symlinks hard-linked (creating
    symlinks can cost ms each on a busy disk; links do not)."""
    dst.mkdir()
    shutil.copystat(src, dst)
    for e in os.scandir(src):
        d = dst / e.name
        if e.is_symlink():
            os.link(e.path, d, follow_symlinks=False)
        elif e.is_dir():
            copy_rootfs(Path(e.path), d)
            st = e.stat()
            os.chown(d, st.st_uid, st.st_gid)
        else:
            shutil.copy2(e.path, d)


def pytest_sessionfinish(session):
    if _template is not None:
        shutil.rmtree(_template, ignore_errors=True)


# ---- bundles ----

class Bundle:
    """A bundle dir: rootfs/ plus config.json, whose dict is `cfg`."""

    def __init__(self, rt, path, cgroup):
        self.rt, self.path, self.cgroup = rt, Path(path), cgroup
        self.rootfs = self.path / "rootfs"
        self.path.mkdir(mode=0o755)
        copy_rootfs(template_rootfs(), self.rootfs)
        rt("spec", "--bundle", str(self.path))
        self.cfg = json.loads((self.path / "config.json").read_text())
        # Every test starts from runc's template, whichever runtime wrote it:
        # its three capabilities and no seccomp profile. (berth's template has
        # Docker's capabilities and seccomp profile: test_default_profile.py.)
        self.cfg["process"]["capabilities"] = {
            k: list(RUNC_CAPS) for k in ("bounding", "effective", "permitted")}
        self.cfg["linux"].pop("seccomp", None)
        self.cfg["process"]["terminal"] = False
        self.cfg["process"]["args"] = ["/probe"]
        self.cfg["linux"]["cgroupsPath"] = "/" + cgroup
        self.write()

    def use_runtime_template(self):
        """config.json back to the runtime's own `spec` output (its
        capabilities and seccomp profile), with the harness's process,
        terminal and cgroup settings."""
        d = self.path / "template"
        d.mkdir(exist_ok=True)
        (d / "config.json").unlink(missing_ok=True)
        self.rt("spec", "--bundle", str(d))
        cfg = json.loads((d / "config.json").read_text())
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = self.cfg["process"]["args"]
        cfg["linux"]["cgroupsPath"] = self.cfg["linux"]["cgroupsPath"]
        self.write(cfg)
        return self

    def write(self, cfg=None):
        if cfg is not None:
            self.cfg = cfg
        (self.path / "config.json").write_text(json.dumps(self.cfg, indent=1))

    def args(self, *argv):
        """Set process.args and write config.json; returns self."""
        self.cfg["process"]["args"] = list(argv)
        self.write()
        return self

    def probe(self, *argv):
        return self.args("/probe", *argv)

    # convenient views into cfg
    @property
    def process(self):
        return self.cfg["process"]

    @property
    def linux(self):
        return self.cfg["linux"]

    def set_namespace(self, ns_type, path=None, present=True):
        nss = [n for n in self.linux["namespaces"] if n["type"] != ns_type]
        if present:
            nss.append({"type": ns_type, **({"path": path} if path else {})})
        self.linux["namespaces"] = nss

    def add_mount(self, destination, type_, source, options=None, **extra):
        m = {"destination": destination, "type": type_, "source": source}
        if options is not None:
            m["options"] = options
        m.update(extra)
        self.cfg.setdefault("mounts", []).append(m)
        return m

    def hostdir(self, name, mode=0o755):
        """A fresh directory in the bundle dir (outside the rootfs)."""
        d = self.path / name
        d.mkdir(mode=mode)
        return d


# ---- the runtime, bound to this test's --root ----

class Runtime:
    def __init__(self, token):
        self.token = token
        self.root = f"/run/berth-test-root-{token.removeprefix('berth-test-')}"
        self.ids, self.bundles, self.procs = [], [], []
        self.files = []

    def new_id(self):
        cid = f"{self.token}-{len(self.ids)}"
        self.ids.append(cid)
        return cid

    def bundle(self):
        n = len(self.bundles)
        path = f"/tmp/{self.token}-b{n}"
        self.files.append(path)  # removed at the end even if Bundle() fails
        b = Bundle(self, path, f"{self.token}-b{n}")
        self.bundles.append(b)
        return b

    def cmd(self, *args, glob=()):
        return [RUNTIME, "--root", self.root, *glob, *map(str, args)]

    def __call__(self, *args, check=True, input=None, timeout=30, glob=(),
                 **kw):
        """Run the runtime; returns CompletedProcess with text stdout/stderr."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        if input is None:
            kw.setdefault("stdin", subprocess.DEVNULL)
        reap_zombies()
        r = run_cmd(self.cmd(*args, glob=glob), input=input, text=True,
                    timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise AssertionError(
                f"{' '.join(r.args)} exited {r.returncode}\n"
                f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def popen(self, *args, glob=(), **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = spawn(self.cmd(*args, glob=glob), **kw)
        self.procs.append(p)
        return p

    # -- state --

    def state(self, cid):
        return json.loads(self("state", cid).stdout)

    def status(self, cid):
        r = self("state", cid, check=False)
        return json.loads(r.stdout)["status"] if r.returncode == 0 else None

    def wait_status(self, cid, want, timeout=10):
        def check():
            return self.status(cid) == want
        assert poll(check, timeout), \
            f"{cid}: status {self.status(cid)!r}, wanted {want!r}"

    # -- detached containers: their stdio goes to files in the bundle dir --

    def out_path(self, bundle, cid):
        return bundle.path / f"{cid.replace('/', '_')}.out"

    def output(self, bundle, cid):
        return self.out_path(bundle, cid).read_text(errors="replace")

    def _detached(self, verb, bundle, cid, flags, check, **kw):
        cid = self.new_id() if cid is None else cid
        errpath = self.out_path(bundle, cid).with_suffix(".err")
        out = open(self.out_path(bundle, cid), "ab")
        err = open(errpath, "ab")
        with out, err:
            r = self(*verb, "--bundle", bundle.path, *flags, cid, check=False,
                     stdout=out, stderr=err, **kw)
        r.stderr = errpath.read_text(errors="replace")
        r.stdout = self.output(bundle, cid)
        r.id = cid
        if check and r.returncode != 0:
            raise AssertionError(f"{verb} {cid} exited {r.returncode}: {r.stderr}")
        return r

    def create(self, bundle, cid=None, flags=(), check=True, **kw):
        """create; the container's stdio goes to <bundle>/<id>.out. -> id"""
        return self._detached(("create",), bundle, cid, flags, check, **kw).id

    def create_r(self, bundle, cid=None, flags=(), **kw):
        return self._detached(("create",), bundle, cid, flags, False, **kw)

    def run_detached(self, bundle, cid=None, flags=(), check=True, **kw):
        return self._detached(("run", "-d"), bundle, cid, flags, check, **kw).id

    def wait_output(self, bundle, cid, needle, timeout=10):
        assert poll(lambda: needle in self.output(bundle, cid), timeout), \
            f"{cid}: {needle!r} not in output {self.output(bundle, cid)!r}"

    def start_sigwait(self, bundle, cid=None, flags=()):
        """A running container whose init blocks in `probe sigwait`. -> id"""
        bundle.probe("sigwait")
        cid = self.run_detached(bundle, cid, flags)
        self.wait_output(bundle, cid, '"ready"')
        return cid

    # -- foreground --

    def run(self, bundle, cid=None, flags=(), check=False, **kw):
        cid = self.new_id() if cid is None else cid
        r = self("run", "--bundle", bundle.path, *flags, cid, check=check, **kw)
        r.id = cid
        return r

    def run_probe(self, bundle, *argv, flags=(), cfg=None, args=()):
        """Run `/probe ARGV` (or ARGS) in a new container; -> parsed JSON."""
        if cfg is not None:
            bundle.write(cfg)
        bundle.probe(*argv, *args)
        r = self.run(bundle, flags=flags)
        assert r.returncode == 0, f"run exited {r.returncode}: {r.stderr}"
        return last_json(r.stdout)

    def run_sh(self, bundle, script):
        """Run `sh -c SCRIPT` in a new container; -> list of JSON lines."""
        bundle.args("/bin/sh", "-c", script)
        r = self.run(bundle)
        assert r.returncode == 0, f"run exited {r.returncode}: {r.stderr}"
        return json_lines(r.stdout)

    def exec_probe(self, cid, *args, flags=()):
        r = self("exec", *flags, cid, "/probe", *args)
        return last_json(r.stdout)


# ---- leak checking ----

def _cgroup_dirs(token, depth=4):
    found = []

    def walk(d, level):
        try:
            entries = list(os.scandir(d))
        except OSError:
            return
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                if token in e.name:
                    found.append(e.path)
                elif level < depth:
                    walk(e.path, level + 1)
    walk(CGROUP_ROOT, 1)
    return found


def _procs(token):
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == HOST_PID:
            continue
        try:
            stat = (p / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                continue
            text = (p / "cmdline").read_bytes().decode(errors="replace") + \
                (p / "cgroup").read_text()
        except OSError:
            continue
        if token in text:
            found.append(int(p.name))
    return found


def _mounts(token, bundles):
    # Only this test's own names: other suites may run beside this one.
    keys = [token] + [str(b.path) for b in bundles]
    return [m for m in mountinfo_points() if any(k in m for k in keys)]


def _remove_cgroup(path):
    for dirpath, _, _ in os.walk(path, topdown=False):  # children first
        try:
            Path(dirpath, "freezer.state").write_text("THAWED")
        except OSError:
            pass
        try:
            for pid in Path(dirpath, "cgroup.procs").read_text().split():
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
        poll(lambda: _try_rmdir(dirpath), 5)


def _try_rmdir(d):
    try:
        os.rmdir(d)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        reap_zombies()
        return False


def remove_leaks(key, bundles=()):
    """Finds the processes, mounts and cgroups named with `key` (a test's
    token, or one container's id), removes them, and describes them."""
    leaks = []
    poll(lambda: (reap_zombies(), not _procs(key))[1], 2)  # dying
    procs = _procs(key)
    if procs:
        leaks.append(f"processes: {procs}")
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        poll(lambda: (reap_zombies(), not _procs(key))[1], 5)
    mounts = _mounts(key, bundles)
    if mounts:
        leaks.append(f"mounts: {mounts}")
        for m in sorted(mounts, key=len, reverse=True):
            run_cmd(["umount", "-l", m], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    cgroups = _cgroup_dirs(key)
    if cgroups:
        leaks.append(f"cgroups: {cgroups}")
        for c in cgroups:
            _remove_cgroup(c)
    return leaks


def cleanup_and_find_leaks(rt):
    for p in rt.procs:
        if p.poll() is None:
            p.kill()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        forget(p)
    ids = set(rt.ids)
    ids.update(state_entries(rt.root))
    for cid in sorted(ids):
        try:
            rt("delete", "--force", cid, check=False, timeout=20)
        except subprocess.TimeoutExpired:
            pass
    reap_zombies()
    leaks = []
    state_dirs = state_entries(rt.root)
    if state_dirs:
        leaks.append(f"state dirs in {rt.root}: {state_dirs}")
    leaks += remove_leaks(rt.token, rt.bundles)
    shutil.rmtree(rt.root, ignore_errors=True)
    for b in rt.bundles:
        shutil.rmtree(b.path, ignore_errors=True)
    for f in rt.files:
        shutil.rmtree(f, ignore_errors=True) if os.path.isdir(f) else \
            Path(f).unlink(missing_ok=True)
    return leaks


@pytest.fixture(autouse=True)
def rt():
    r = Runtime("berth-test-" + secrets.token_hex(4))
    yield r
    leaks = cleanup_and_find_leaks(r)
    if leaks:
        pytest.fail("left behind: " + "; ".join(leaks), pytrace=False)


@pytest.fixture
def bundle(rt):
    return rt.bundle()


@pytest.fixture
def make_bundle(rt):
    return rt.bundle


@pytest.fixture
def console(rt):
    """Factory: a ConsoleServer listening in a fresh socket path."""
    servers = []

    def make():
        path = f"/tmp/{rt.token}-console{len(servers)}.sock"
        rt.files.append(path)
        servers.append(ConsoleServer(path))
        return servers[-1]
    yield make
    for s in servers:
        s.close()
