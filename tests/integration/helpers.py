"""Small helpers shared by the integration tests (no fixtures here)."""
import json
import os
import select
import socket
import subprocess
import threading
import time
from pathlib import Path

HOST_PID = os.getpid()

# capability numbers, as in linux/capability.h
CAPS = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
        "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
        "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
        "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
        "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
        "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]


def cap_mask(names):
    """Bit mask of a list of "CAP_X" names."""
    return sum(1 << CAPS.index(n.removeprefix("CAP_")) for n in names)


def caps_of(report, which):
    return int(report["capabilities"][which], 16)


def poll(fn, timeout=10, interval=0.01):
    """Call fn until it returns truthy or timeout passes; -> last result."""
    deadline = time.monotonic() + timeout
    while True:
        r = fn()
        if r or time.monotonic() > deadline:
            return r
        time.sleep(interval)


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("{", "[")):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def state_entries(root):
    """The containers in a runtime's state root: its entries except
    berth-runtime's cache (@cache, a name no container id can have)."""
    if not os.path.isdir(root):
        return []
    return sorted(e for e in os.listdir(root) if e != "@cache")


def last_json(text):
    objs = json_lines(text)
    assert objs, f"no JSON in output: {text!r}"
    return objs[-1]


def _unescape(s):
    return s.encode().decode("unicode_escape") if "\\" in s else s


def mountinfo_points(pid="self"):
    pts = []
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        pts.append(_unescape(line.split()[4]))
    return pts


def mount_at(report, path):
    """The last (topmost) mount entry of a probe report at `path`, or None."""
    ms = [m for m in report["mounts"] if m["mount_point"] == path]
    return ms[-1] if ms else None


def host_ns(kind):
    return os.readlink(f"/proc/self/ns/{kind}")


# We are a child subreaper (conftest): processes the runtime leaves behind
# (detached inits, exec'd processes) become our children. Their zombies must
# be reaped promptly: an unreaped zombie in a pid namespace keeps its init
# from exiting. Children we spawn ourselves are registered, under a lock, so
# that reaping never steals the exit status a Popen is waiting for.
_spawn_lock = threading.Lock()
_own_pids = set()


def spawn(cmd, **kw):
    """subprocess.Popen, registered as our own child until forget()."""
    with _spawn_lock:
        p = subprocess.Popen(cmd, **kw)
        _own_pids.add(p.pid)
    return p


def forget(p):
    with _spawn_lock:
        _own_pids.discard(p.pid)


def run_cmd(cmd, input=None, timeout=30, **kw):
    """subprocess.run() through spawn(): -> CompletedProcess."""
    if input is not None:
        kw["stdin"] = subprocess.PIPE
    p = spawn(cmd, **kw)
    try:
        out, err = p.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise
    finally:
        forget(p)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def run_on_pty(cmd, timeout=30, env=None):
    """Run cmd with a pty as its stdio and controlling terminal.
    -> (exit status, everything written to the terminal)"""
    master, slave = os.openpty()
    # setsid(1) -c: new session, stdin as controlling tty, then exec (no
    # fork: we are not a process group leader). No preexec_fn: forking a
    # threaded Python and running Python code in the child can deadlock.
    cmd = ["setsid", "--ctty", *cmd]
    p = spawn(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    data, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 0.05)[0]:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: no slave fd left open
                break
            if not chunk:
                break
            data += chunk
        rc = p.wait(max(1, deadline - time.monotonic()))
    finally:
        forget(p)
        os.close(master)
    return rc, data


def _children():
    kids = set()
    for t in Path(f"/proc/{HOST_PID}/task").iterdir():
        try:
            kids.update(int(c) for c in (t / "children").read_text().split())
        except OSError:
            pass
    return kids


def reap_zombies():
    """Reap zombie children that we did not spawn ourselves."""
    with _spawn_lock:
        for pid in _children() - _own_pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass


def start_reaper(interval=0.02):
    """Reap orphaned zombies in the background for the whole session."""
    def loop():
        while True:
            reap_zombies()
            time.sleep(interval)
    threading.Thread(target=loop, daemon=True, name="reaper").start()


def assert_error(r, *names):
    """A runtime error: exit 1, one line on stderr naming each of `names`."""
    assert r.returncode == 1, f"exit {r.returncode}, stderr {r.stderr!r}"
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"want one line on stderr, got {r.stderr!r}"
    for n in names:
        assert str(n).lower() in lines[0].lower(), \
            f"{n!r} not named in {lines[0]!r}"


class ConsoleServer:
    """A unix socket that receives one pty master fd (SCM_RIGHTS) and reads
    everything written to it until the other side closes."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.msg, self.master, self.data = None, None, b""
        self.stop, self.eof = False, False
        self.got_fd = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            while not self.stop:
                if select.select([self.sock], [], [], 0.05)[0]:
                    break
            if self.stop:
                return
            conn, _ = self.sock.accept()
            conn.settimeout(20)
            with conn:
                self.msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
            for extra in fds[1:]:
                os.close(extra)
            self.master = fds[0] if fds else None
        except OSError:
            pass
        finally:
            self.got_fd.set()
        while self.master is not None and not self.stop:
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO once every slave fd is closed
                break
            if not chunk:
                break
            self.data += chunk
        self.eof = True

    def write(self, data):
        os.write(self.master, data)

    def wait_fd(self, timeout=20):
        assert self.got_fd.wait(timeout), "no pty master received"
        assert self.master is not None, "console socket got no fd"
        return self.master

    def wait_data(self, needle, timeout=20):
        assert poll(lambda: needle in self.data, timeout), \
            f"{needle!r} not in console output {self.data!r}"

    def wait_eof(self, timeout=20):
        assert poll(lambda: self.eof, timeout), "console never closed"

    def close(self):
        self.stop = True
        self.thread.join(10)
        self.sock.close()
        if self.master is not None:
            os.close(self.master)
            self.master = None


def fd_target(fd):
    return os.readlink(f"/proc/self/fd/{fd}")

