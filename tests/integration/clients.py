"""The clients that drive berth-runtime as they drive runc: containerd (for
ctr, and for dockerd), dockerd and podman. Each runs once per test module on
private sockets and directories under /run/<token>-<client> (token:
berth-test-<hex>, so the suite's leak checks see them), with networking off,
cgroupfs, and every container under a cgroup parent named after the token.

After every test the client removes its containers and the test fails if a
shim, conmon or container process, a mount or a container cgroup is left; when
the module ends the daemons stop and whatever is left is reported and removed,
also when a test failed."""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from client_image import IMAGE, write_image_archive
from conftest import RUNTIME, _cgroup_dirs, _procs, _remove_cgroup, template_rootfs
from helpers import forget, last_json, mountinfo_points, poll, run_cmd, spawn

DOCKER = "/usr/bin/docker"  # Debian's client, not a newer one earlier in PATH


def have(*programs):
    return all(shutil.which(p) or os.access(p, os.X_OK) for p in programs)


class Daemon:
    """A daemon process; its output goes to a log file."""

    def __init__(self, name, argv, log, env=None):
        self.name, self.log = name, Path(log)
        with open(self.log, "ab") as out:
            self.proc = spawn(argv, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, env=env, cwd=self.log.parent,
                              start_new_session=True)

    def tail(self, lines=40):
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_socket(self, path, timeout=60):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode} while "
                                     f"starting:\n{self.tail()}")
            with socket.socket(socket.AF_UNIX) as s:
                try:
                    s.connect(str(path))
                    return True
                except OSError:
                    return False
        assert poll(up, timeout, 0.05), \
            f"{self.name}: no listener on {path} after {timeout}s:\n{self.tail()}"

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        forget(self.proc)


class Client:
    """What the clients share: a token, a private base dir, the daemons, the
    cgroup parent of their containers and the leak checks."""

    name = "client"
    cgroup_allow = ()  # cgroups the client keeps under its parent (podman's conmon)

    def __init__(self):
        self.token = "berth-test-" + secrets.token_hex(4)
        self.base = Path(f"/run/{self.token}-{self.name}")
        self.base.mkdir(mode=0o711)
        self.cgroup_parent = f"{self.token}-{self.name}"
        self.daemons = []
        self.baseline_mounts = set()
        self.env = dict(os.environ)

    def exec(self, argv, check=True, timeout=120, input=None, env=None):
        """Run a client command in the base dir (conmon writes its "oom"
        marker into its cwd); -> CompletedProcess with text output."""
        r = run_cmd(argv, input=input, timeout=timeout, text=True, env=env or self.env,
                    cwd=self.base,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    **({} if input is not None else {"stdin": subprocess.DEVNULL}))
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {r.returncode}\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def start_daemon(self, name, argv, sock, env=None):
        d = Daemon(name, argv, self.base / f"{name}.log", env)
        self.daemons.append(d)
        d.wait_socket(sock)
        return d

    def logs(self):
        return "\n".join(f"--- {d.name} log:\n{d.tail()}" for d in self.daemons)

    # -- leaks --

    def _mounts(self):
        return {m for m in mountinfo_points() if self.token in m}

    def _cgroups(self):
        """Container cgroups left under the parent (not the parent itself)."""
        left = []
        for parent in _cgroup_dirs(self.cgroup_parent):
            for e in os.scandir(parent):
                if e.is_dir(follow_symlinks=False) and e.name not in self.cgroup_allow:
                    left.append(e.path)
        return left

    def _procs(self):
        daemons = {d.proc.pid for d in self.daemons}
        return [p for p in _procs(self.token) if p not in daemons]

    def leftovers(self):
        """What a test left: processes, mounts, container cgroups."""
        left = []
        if procs := self._procs():
            left.append("processes: " + "; ".join(
                f"{p} {_cmdline(p)}" for p in procs))
        if mounts := self._mounts() - self.baseline_mounts:
            left.append(f"mounts: {sorted(mounts)}")
        if cgroups := self._cgroups():
            left.append(f"cgroups: {cgroups}")
        return left

    def setup(self, archive):
        """Start the daemons, load the image archive."""
        raise NotImplementedError

    def remove_all(self):
        raise NotImplementedError

    def check_clean(self, timeout=15):
        """After a test: remove its containers; -> what was left behind."""
        self.remove_all()
        poll(lambda: not self.leftovers(), timeout, 0.1)
        return self.leftovers()

    def after_baseline(self):
        """Record the mounts the daemons keep for their own lifetime."""
        self.baseline_mounts = self._mounts()

    def shutdown(self):
        """Stop everything; -> what was left that the daemons should have removed."""
        try:
            self.remove_all()
        except Exception:  # noqa: BLE001 -- a daemon that never came up; go on
            pass
        for d in reversed(self.daemons):
            d.stop()
        left = []
        if procs := self._procs():
            left.append(f"processes: {procs}")
            for p in procs:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        # (dockerd leaves its bind mount of the host's netns, with any runtime)
        if mounts := self._mounts():
            if mounts - self.baseline_mounts:
                left.append(f"mounts: {sorted(mounts - self.baseline_mounts)}")
            for m in sorted(mounts, key=len, reverse=True):
                run_cmd(["umount", "-l", m], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
        for c in _cgroup_dirs(self.token):
            _remove_cgroup(c)
        shutil.rmtree(self.base, ignore_errors=True)
        return left


def default_runtime_root():
    """Where the runtime keeps state when given no --root."""
    return "/run/runc" if os.path.basename(RUNTIME) == "runc" else "/run/berth-runtime"


def runtime_state(root, cid):
    """The runtime's own `state` of a container that a client made."""
    r = run_cmd([RUNTIME, *(["--root", str(root)] if root else []), "state", cid],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, f"{RUNTIME} state {cid}: {r.stderr}"
    return json.loads(r.stdout)


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")[:200]
    except OSError:
        return "?"


# ---- containerd ----

CONTAINERD_CONFIG = """version = 2
root = "{root}"
state = "{state}"
# Not used here: the CRI plugin (Kubernetes; its runtimes take the same
# BinaryName option), snapshotters this host lacks. (The tasks service needs
# the v1 runtime plugin loaded, even when only v2 shims are used.)
disabled_plugins = ["io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[debug]
  address = "{base}/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
"""


class Containerd(Client):
    name = "containerd"

    def setup(self, archive):
        self.cbase = self.base / "containerd"
        self.cbase.mkdir()
        self.sock = self.cbase / "containerd.sock"
        self.runc_root = self.cbase / "runtime-root"
        conf = self.cbase / "config.toml"
        conf.write_text(CONTAINERD_CONFIG.format(
            root=self.cbase / "root", state=self.cbase / "state", sock=self.sock,
            base=self.cbase))
        self.containerd = self.start_daemon(
            "containerd", ["containerd", "--config", str(conf), "--log-level", "info"],
            self.sock)

    def ctr_argv(self, *args, ns=None):
        return ["ctr", "--address", str(self.sock), "--namespace", ns or self.token,
                *map(str, args)]

    def ctr(self, *args, ns=None, **kw):
        return self.exec(self.ctr_argv(*args, ns=ns), **kw)


class Ctr(Containerd):
    """containerd driven by ctr: containers in namespace <token> (so their
    cgroups are /<token>/<id>), the runtime given per container as the runc
    shim's options BinaryName and Root (ctr run --runc-binary, --runc-root)."""

    name = "ctr"

    def __init__(self):
        super().__init__()
        self.cgroup_parent = self.token

    def setup(self, archive):
        super().setup(archive)
        (self.base / "logs").mkdir()
        self.ctr("images", "import", archive)
        self.after_baseline()

    def run_argv(self, cid, *cmd, opts=()):
        """`ctr run OPTS IMAGE CID CMD` with berth-runtime as the shim's runtime."""
        return self.ctr_argv("run", "--runc-binary", RUNTIME, "--runc-root", self.runc_root,
                             *opts, IMAGE, cid, *cmd)

    def run(self, cid, *cmd, opts=(), **kw):
        return self.exec(self.run_argv(cid, *cmd, opts=opts), **kw)

    def log_path(self, cid):
        return self.base / "logs" / f"{cid}.log"

    def run_detached(self, cid, *cmd, opts=()):
        """A running task whose output goes to log_path(cid)."""
        return self.run(cid, *cmd, opts=("-d", "--log-uri", f"file://{self.log_path(cid)}",
                                         *opts))

    def output(self, cid):
        try:
            return self.log_path(cid).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tasks(self):
        """{id: (pid, status)} from `ctr tasks ls`."""
        rows = [l.split() for l in self.ctr("tasks", "ls").stdout.splitlines()[1:]]
        return {r[0]: (int(r[1]), r[2]) for r in rows if len(r) == 3}

    def status(self, cid):
        return self.tasks().get(cid, (0, None))[1]

    def runtime_state(self, cid):
        return runtime_state(self.runc_root / self.token, cid)

    def remove_all(self):
        for cid in self.ctr("containers", "ls", "-q").stdout.split():
            self.ctr("tasks", "delete", "--force", cid, check=False)
            self.ctr("containers", "delete", cid, check=False)
        for log in (self.base / "logs").iterdir():
            log.unlink()


# ---- docker and podman: one command line ----

class Engine:
    """docker and podman take the same commands and flags for what the
    scenarios use; argv() is the full command line of one."""

    def __call__(self, *args, **kw):
        return self.exec(self.argv(*args), **kw)

    def run(self, *args, **kw):
        """`run ARGS`, with the network off unless ARGS choose one."""
        net = [] if any(a.startswith(("--network", "--net=")) for a in map(str, args)) \
            else ["--network", "none"]
        return self("run", *net, *args, **kw)

    def probe(self, *opts, args=()):
        """`run --rm OPTS IMAGE /probe ARGS`; -> the probe's JSON."""
        return last_json(self.run("--rm", *opts, IMAGE, "/probe", *args).stdout)

    def inspect(self, cid, fmt):
        return self("inspect", "-f", fmt, cid).stdout.strip()


# ---- dockerd ----

class Docker(Engine, Containerd):
    """dockerd on the private containerd; berth is its default runtime
    (daemon.json "runtimes", as `--add-runtime berth=PATH` gives it)."""

    name = "docker"

    def setup(self, archive):
        super().setup(archive)
        self.dsock = self.base / "docker.sock"
        conf = {
            "hosts": [f"unix://{self.dsock}"],
            "containerd": str(self.sock),
            "data-root": str(self.base / "data"),
            "exec-root": str(self.base / "exec"),
            "pidfile": str(self.base / "docker.pid"),
            "runtimes": {"berth": {"path": RUNTIME}},
            "default-runtime": "berth",
            "bridge": "none", "iptables": False, "ip-forward": False,
            "ip-masq": False, "userland-proxy": False,
            "storage-driver": "overlay2",
            "exec-opts": ["native.cgroupdriver=cgroupfs"],
            "cgroup-parent": "/" + self.cgroup_parent,
            "log-level": "info",
        }
        (self.base / "daemon.json").write_text(json.dumps(conf, indent=1))
        self.dockerd = self.start_daemon(
            "dockerd", ["dockerd", "--config-file", str(self.base / "daemon.json")],
            self.dsock)
        self("load", "-i", archive)
        self.after_baseline()
        # dockerd's bind mount of the host's network namespace, made for the
        # first --network host container, kept while dockerd runs.
        self.baseline_mounts.add(str(self.base / "exec" / "netns" / "default"))

    def argv(self, *args):
        return [DOCKER, "--config", str(self.base / "client"), "--host",
                f"unix://{self.dsock}", *map(str, args)]

    def remove_all(self):
        ids = self("ps", "-aq").stdout.split()
        if ids:
            self("rm", "-f", *ids, check=False)

    def runtime_state(self, cid):
        # dockerd gives the shim Root = <exec-root>/runtime-runc (its name
        # for the default runtime, whichever runtime that is).
        return runtime_state(self.base / "exec" / "runtime-runc" / "moby", cid)


# ---- podman ----

PODMAN_CONF = """[containers]
# The hard limits of this sandbox: podman raises nofile/nproc to its own
# defaults otherwise, which fails here (no CAP_SYS_RESOURCE).
default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]
netns = "none"
[engine]
events_logger = "file"
cgroup_manager = "cgroupfs"
tmp_dir = "{base}/tmp"
"""


class Podman(Engine, Client):
    """podman with --runtime berth-runtime, through conmon; vfs storage (no
    overlay mounts), private root, runroot and tmp dir."""

    name = "podman"
    cgroup_allow = ("conmon",)  # podman's cgroupfs home of the conmons

    def setup(self, archive):
        # The runtime's default root is podman's too (below); whether it was
        # there before decides whether shutdown may remove it.
        self.root_existed = Path(default_runtime_root()).exists()
        (self.base / "containers.conf").write_text(PODMAN_CONF.format(base=self.base))
        self.env = dict(os.environ, CONTAINERS_CONF=str(self.base / "containers.conf"))
        self("load", "-i", archive)
        self.after_baseline()

    def argv(self, *args):
        args = list(map(str, args))
        if args and args[0] in ("run", "create"):  # no global flag for this
            args.insert(1, f"--cgroup-parent=/{self.cgroup_parent}")
        return ["podman", "--root", str(self.base / "root"), "--runroot", str(self.base / "run"),
                "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file", "--runtime", RUNTIME, *args]

    def remove_all(self):
        self("rm", "-af", "-t", "0", check=False)

    # podman gives the runtime no --root: with --runtime-flag root=DIR,
    # `podman container cleanup` (conmon's exit command) drops the flag and
    # deletes in the default root. So the containers live in the runtime's
    # default root, shared with anyone else's; ours are those whose bundle
    # is in our storage.
    def runtime_state(self, cid):
        return runtime_state(None, cid)

    def _state_dirs(self):
        left = []
        for st in Path(default_runtime_root()).glob("*/state.json"):
            try:
                if self.token in json.loads(st.read_text()).get("bundle", ""):
                    left.append(str(st.parent))
            except (OSError, ValueError):
                pass
        return left

    def leftovers(self):
        left = super().leftovers()
        if dirs := self._state_dirs():
            left.append(f"runtime state dirs: {dirs}")
        return left

    def shutdown(self):
        left = super().shutdown()
        if dirs := self._state_dirs():
            left.append(f"runtime state dirs: {dirs}")
            for d in dirs:
                run_cmd([RUNTIME, "delete", "--force", Path(d).name],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                shutil.rmtree(d, ignore_errors=True)
        # Made by our containers: the root and its seccomp cache (a root
        # that was there before is someone else's, cache included).
        root = Path(default_runtime_root())
        if not getattr(self, "root_existed", True) and root.is_dir():
            shutil.rmtree(root / "@cache", ignore_errors=True)
            try:
                root.rmdir()
            except OSError:
                pass  # containers of others arrived meanwhile
        return left


# ---- fixtures ----

@pytest.fixture(scope="session")
def image_archive():
    d = Path(f"/tmp/berth-test-image-{os.getpid()}")
    d.mkdir(exist_ok=True)
    yield str(write_image_archive(d / "image.tar", template_rootfs()))
    shutil.rmtree(d, ignore_errors=True)


def client_fixture(make, name="engine"):
    """A module-scoped fixture NAME: client make(), set up with the image,
    shut down at the end of the module (also when a test or the setup
    failed); fails if anything was left."""
    @pytest.fixture(scope="module", name=name)
    def fixture(image_archive):
        client = make()
        try:
            client.setup(image_archive)
            yield client
        finally:
            left = client.shutdown()
            if left:
                pytest.fail(f"{client.name}: left after shutdown: {'; '.join(left)}",
                            pytrace=False)
    return fixture


def clean_fixture(client_name="engine"):
    """The fixture `clean`: after each test, client CLIENT_NAME removes its
    containers and the test fails if anything of them is left."""
    @pytest.fixture(name="clean")
    def fixture(request):
        client = request.getfixturevalue(client_name)
        yield client
        left = client.check_clean()
        if left:
            pytest.fail(f"{client.name}: left behind: {'; '.join(left)}\n{client.logs()}",
                        pytrace=False)
    return fixture
