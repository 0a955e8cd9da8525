"""SCMP_ACT_NOTIFY with linux.seccomp.listenerPath: the runtime hands the
notify fd and the container process state to an agent listening on a unix
socket (here: the test), and the agent decides what the notified calls
return."""
import ctypes
import errno
import json
import os
import select
import socket
import threading
import time

import pytest

from helpers import assert_error, last_json, poll

# runc 1.1.5 hands the fd over too; these tests pin down berth's details
# (when the init loads the filter, the state it sends, its messages).
pytestmark = pytest.mark.berth_only

_libc = ctypes.CDLL(None, use_errno=True)
NOTIF_RECV = 0xC0502100  # SECCOMP_IOCTL_NOTIF_RECV: _IOWR('!', 0, struct seccomp_notif)
NOTIF_SEND = 0xC0182101  # SECCOMP_IOCTL_NOTIF_SEND: _IOWR('!', 1, struct seccomp_notif_resp)
FLAG_CONTINUE = 1        # SECCOMP_USER_NOTIF_FLAG_CONTINUE
NR_GETPPID = 110


class Agent:
    """A seccomp agent: accepts connections on `path`, keeps each container
    process state and notify fd, and answers notifications with
    answer(nr, args) -> (val, error, flags), or holds them while
    `hold` is set."""

    def __init__(self, path, answer):
        self.path, self.answer = str(path), answer
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.states, self.fds, self.fd_kinds, self.seen = [], [], [], []
        self.hold = threading.Event()
        self.stop = False
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        try:
            self._accept_loop()
        except (OSError, ValueError):  # the socket was closed under us
            pass

    def _accept_loop(self):
        while not self.stop:
            if not select.select([self.sock], [], [], 0.05)[0]:
                continue
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(10)
                data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
                while chunk := conn.recv(1 << 16):  # the runtime closes when done
                    data += chunk
            self.states.append(json.loads(data))
            for fd in fds:
                self.fd_kinds.append(os.readlink(f"/proc/self/fd/{fd}"))
                self.fds.append(fd)
                t = threading.Thread(target=self._serve, args=(fd,), daemon=True)
                self.threads.append(t)
                t.start()

    def _serve(self, fd):
        while not self.stop:
            if not select.select([fd], [], [], 0.05)[0]:
                continue
            req = ctypes.create_string_buffer(80)
            if _libc.ioctl(fd, NOTIF_RECV, req) != 0:
                if ctypes.get_errno() in (errno.EINTR, errno.ENOENT):
                    continue
                return  # the filter's processes are gone
            nid = int.from_bytes(req.raw[0:8], "little")
            nr = int.from_bytes(req.raw[16:20], "little", signed=True)
            args = [int.from_bytes(req.raw[32 + 8 * i:40 + 8 * i], "little") for i in range(6)]
            self.seen.append((nr, args))
            while self.hold.is_set() and not self.stop:
                time.sleep(0.01)
            val, error, flags = self.answer(nr, args)
            resp = ctypes.create_string_buffer(24)
            resp[0:8] = nid.to_bytes(8, "little")
            resp[8:16] = val.to_bytes(8, "little", signed=True)
            resp[16:20] = error.to_bytes(4, "little", signed=True)
            resp[20:24] = flags.to_bytes(4, "little")
            _libc.ioctl(fd, NOTIF_SEND, resp)

    def close(self):
        self.stop = True
        for t in self.threads:
            t.join(5)
        self.sock.close()
        for fd in self.fds:
            os.close(fd)


@pytest.fixture
def agent(rt):
    made = []

    def make(answer=lambda nr, args: (4242, 0, 0)):
        path = f"/tmp/{rt.token}-agent{len(made)}.sock"
        rt.files.append(path)
        made.append(Agent(path, answer))
        return made[-1]
    yield make
    for a in made:
        a.close()


def notify_profile(agent, metadata=None, flags=None):
    sc = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
          "listenerPath": agent.path,
          "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]}
    if metadata is not None:
        sc["listenerMetadata"] = metadata
    if flags:
        sc["flags"] = flags
    return sc


@pytest.mark.parametrize("nnp", [True, False])
def test_agent_gets_fd_and_state_and_answers(rt, bundle, agent, nnp):
    a = agent()
    bundle.process["noNewPrivileges"] = nnp
    bundle.linux["seccomp"] = notify_profile(a, metadata="MKNOD=/dev/null;x=1")
    bundle.probe("sys", "getppid", "getpid")
    cid = rt.create(bundle)
    st = rt.state(cid)
    # The runtime handed the fd over during create, before the init was parked.
    assert len(a.states) == 1, a.states
    ps = a.states[0]
    assert ps["ociVersion"] == "1.3.0"
    assert ps["fds"] == ["seccompFd"]
    assert ps["pid"] == st["pid"]
    assert ps["metadata"] == "MKNOD=/dev/null;x=1"
    assert ps["state"]["id"] == cid
    assert ps["state"]["status"] == "creating"
    assert ps["state"]["pid"] == st["pid"]
    assert ps["state"]["bundle"] == str(bundle.path)
    assert a.fd_kinds == ["anon_inode:seccomp notify"]
    rt("start", cid)
    rt.wait_status(cid, "stopped")
    getppid, getpid = last_json(rt.output(bundle, cid))["results"]
    assert getppid["ret"] == 4242  # the agent's answer
    assert getpid["ret"] == 1      # not notified: ran
    assert a.seen and a.seen[0][0] == NR_GETPPID


def test_agent_answers_an_error(rt, bundle, agent):
    a = agent(lambda nr, args: (0, -errno.EXDEV, 0))
    bundle.linux["seccomp"] = notify_profile(a)
    bundle.probe("sys", "getppid")
    res = rt.run(bundle)
    assert res.returncode == 0, res.stderr
    assert last_json(res.stdout)["results"][0]["errno"] == errno.EXDEV
    assert "metadata" not in a.states[0]


def test_agent_lets_the_call_continue(rt, bundle, agent):
    a = agent(lambda nr, args: (0, 0, FLAG_CONTINUE))
    bundle.linux["seccomp"] = notify_profile(a)
    rep = rt.run_probe(bundle, "sys", "getppid,77")
    assert rep["results"][0]["ret"] == 0  # the real getppid: the init's parent is outside
    assert a.seen[0] == (NR_GETPPID, [77, 0, 0, 0, 0, 0])


def test_call_blocks_until_the_agent_answers(rt, bundle, agent):
    a = agent()
    a.hold.set()
    bundle.linux["seccomp"] = notify_profile(a)
    bundle.probe("sys", "getppid")
    cid = rt.run_detached(bundle)
    assert poll(lambda: a.seen, 10), "no notification reached the agent"
    time.sleep(0.3)
    assert rt.status(cid) == "running"
    assert "results" not in rt.output(bundle, cid)  # still waiting
    a.hold.clear()
    rt.wait_status(cid, "stopped")
    assert last_json(rt.output(bundle, cid))["results"][0]["ret"] == 4242


def test_exec_hands_its_own_listener(rt, bundle, agent):
    a = agent(lambda nr, args: (args[0] + 1, 0, 0))
    bundle.linux["seccomp"] = notify_profile(a, metadata="m")
    cid = rt.start_sigwait(bundle)
    init = rt.state(cid)["pid"]
    rep = last_json(rt("exec", cid, "/probe", "sys", "getppid,41").stdout)
    assert rep["results"][0]["ret"] == 42
    assert len(a.states) == 2  # the init's, then the exec'd process's
    ps = a.states[1]
    assert ps["fds"] == ["seccompFd"] and ps["metadata"] == "m"
    assert ps["state"]["status"] == "running" and ps["state"]["pid"] == init
    assert ps["pid"] not in (0, init)
    assert a.fd_kinds == ["anon_inode:seccomp notify"] * 2


def test_wait_killable_recv_flag(rt, bundle, agent):
    a = agent()
    bundle.linux["seccomp"] = notify_profile(
        a, flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])
    assert rt.run_probe(bundle, "sys", "getppid")["results"][0]["ret"] == 4242


@pytest.mark.parametrize("verb", ["create", "run"])
def test_no_agent_listening_fails_create(rt, bundle, verb):
    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": f"/tmp/{rt.token}-nobody.sock",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]}
    bundle.write()
    r = rt.create_r(bundle) if verb == "create" else rt.run(bundle)
    assert_error(r, "listenerPath", f"{rt.token}-nobody.sock")
    assert rt.status(r.id) is None


def test_exec_without_agent_fails_and_leaves_the_container(rt, bundle, agent):
    a = agent()
    bundle.linux["seccomp"] = notify_profile(a)
    cid = rt.start_sigwait(bundle)
    a.sock.close()
    os.unlink(a.path)
    r = rt("exec", cid, "/probe", "sys", "getppid", check=False)
    assert_error(r, "listenerPath")
    assert rt.status(cid) == "running"


def test_listener_path_ignored_without_notify_rules(rt, bundle):
    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": f"/tmp/{rt.token}-nobody.sock",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]}
    rep = rt.run_probe(bundle, "sys", "getppid")
    assert rep["results"][0]["errno"] == errno.EPERM
