"""Soak with fault injection: many create/start/exec/kill/delete cycles, each
with a random fault (the runtime SIGKILLed at a random moment of create,
start, exec, kill or delete; a failing, slow or killed hook; a bad config; the
container's processes killed early). After each cycle `delete --force` must
leave no process, mount, cgroup (any hierarchy), state dir or exec FIFO of
that container; a runtime not killed by us exits 0 or 1, never by a crash.

BERTH_SOAK_CYCLES (default 200) sets the count, BERTH_SOAK_SEED the random
seed (printed, to replay a run)."""
import copy
import json
import os
import random
import signal
import subprocess
import time
from collections import Counter

import pytest

from conftest import remove_leaks
from helpers import forget, poll, reap_zombies, spawn

CYCLES = int(os.environ.get("BERTH_SOAK_CYCLES", "200"))
SEED = int(os.environ.get("BERTH_SOAK_SEED", str(random.SystemRandom().randrange(1 << 30))))
SH = "/bin/sh"  # hooks run host binaries (createContainer: before pivot_root)


class Soak:
    def __init__(self, rt, bundle, rng):
        self.rt, self.b, self.rng = rt, bundle, rng
        self.base = copy.deepcopy(bundle.cfg)
        self.base["process"]["args"] = ["/probe", "sigwait"]
        self.faults, self.killed, self.leaks = Counter(), Counter(), []
        self.bad_exits = []
        self.took = {}  # op -> seconds, running average of unkilled runs

    # -- runtime calls --

    def call(self, *args, ok=(0, 1)):
        """Run the runtime to completion; its exit status must be in ok."""
        t = time.monotonic()
        # Files, not pipes: a created container keeps the runtime's stdio.
        with open(self.b.path / "soak.err", "w+") as err:
            r = self.rt(*args, check=False, timeout=60, stdout=subprocess.DEVNULL, stderr=err)
            err.seek(0)
            stderr = err.read()
        op = args[0]
        self.took[op] = 0.8 * self.took.get(op, 0.05) + 0.2 * (time.monotonic() - t)
        if r.returncode not in ok:
            self.bad_exits.append(f"{' '.join(map(str, args))}: exit {r.returncode}: {stderr}")
        return r.returncode

    def call_killed(self, *args, window=None):
        """Start the runtime and SIGKILL it at a random moment of its usual
        run (or of `window` seconds)."""
        window = window or 1.2 * self.took.get(args[0], 0.05)
        delay = self.rng.uniform(0, window)
        p = spawn(self.rt.cmd(*args), stdin=subprocess.DEVNULL,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(delay)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                self.killed[args[0]] += 1
            p.wait(60)
        finally:
            forget(p)

    # -- configs --

    def write(self, cid, mutate=None):
        cfg = copy.deepcopy(self.base)
        cfg["linux"]["cgroupsPath"] = "/" + cid
        text = None
        if mutate:
            text = mutate(cfg, cid)
        (self.b.path / "config.json").write_text(text if text is not None else json.dumps(cfg))

    def hook(self, cfg, cid, stage, script, timeout=None):
        h = {"path": SH, "args": ["sh", "-c", script, cid]}
        if timeout:
            h["timeout"] = timeout
        cfg.setdefault("hooks", {}).setdefault(stage, []).append(h)

    # -- the cycle --

    def create(self, cid):
        return self.call("create", "--bundle", self.b.path, cid)

    def init_pid(self, cid):
        r = self.rt("state", cid, check=False)
        return json.loads(r.stdout).get("pid", 0) if r.returncode == 0 else 0

    def kill_init(self, cid):
        pid = self.init_pid(cid)
        if pid > 0:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def full(self, cid):
        """The whole lifecycle, no fault: every step must succeed."""
        steps = [("create", self.create(cid)), ("start", self.call("start", cid)),
                 ("exec", self.call("exec", cid, "/probe", "exit", "0")),
                 ("kill", self.call("kill", cid, "KILL"))]
        poll(lambda: self.rt.status(cid) == "stopped", 10)
        steps.append(("delete", self.call("delete", cid)))
        for name, rc in steps:
            if rc != 0:
                self.bad_exits.append(f"fault-free {name} of {cid} exited {rc}")

    def run_cycle(self, i):
        rt, rng = self.rt, self.rng
        cid = f"{rt.token}-s{i:05d}"
        fault = rng.choice(FAULTS)
        self.faults[fault] += 1
        FAULT_FN[fault](self, cid)
        # What a container manager does after any failure.
        self.call("delete", "--force", cid, ok=(0,))
        reap_zombies()
        found = []
        if os.path.exists(os.path.join(rt.root, cid)):
            found.append(f"state dir {os.listdir(os.path.join(rt.root, cid))}")
        found += remove_leaks(cid, [self.b])
        if found:
            self.leaks.append(f"cycle {i} ({fault}): " + "; ".join(found))


# ---- the faults ----

def f_none(s, cid):
    s.write(cid)
    s.full(cid)


def f_kill_create(s, cid):
    s.write(cid)
    s.call_killed("create", "--bundle", s.b.path, cid)


def f_kill_start(s, cid):
    s.write(cid)
    if s.create(cid) == 0:
        s.call_killed("start", cid)


def f_kill_exec(s, cid):
    s.write(cid)
    if s.create(cid) == 0 and s.call("start", cid) == 0:
        s.call_killed("exec", cid, "/probe", "exit", "0")


def f_kill_kill(s, cid):
    s.write(cid)
    if s.create(cid) == 0 and s.call("start", cid) == 0:
        s.call_killed("kill", "--all", cid, "KILL")


def f_kill_delete(s, cid):
    s.write(cid)
    if s.create(cid) == 0 and s.rng.random() < 0.5:
        s.call("start", cid)
    s.call_killed("delete", "--force", cid)


def f_kill_during_hook(s, cid):
    stage = s.rng.choice(["prestart", "createRuntime", "createContainer"])
    # A hook the runtime no longer waits for must not outlive it: its
    # command line names the container, so the leak check finds it.
    s.write(cid, lambda c, i: s.hook(c, i, stage, "sleep 5"))
    s.call_killed("create", "--bundle", s.b.path, cid, window=1.5 * s.took.get("create", 0.05))


def f_failing_hook(s, cid):
    stage = s.rng.choice(["prestart", "createRuntime", "createContainer", "startContainer",
                          "poststart", "poststop"])
    s.write(cid, lambda c, i: s.hook(c, i, stage, "exit 3"))
    if s.create(cid) == 0 and s.call("start", cid) == 0:
        s.call("kill", cid, "KILL")


def f_hook_timeout(s, cid):
    s.write(cid, lambda c, i: s.hook(c, i, "createRuntime", "sleep 30", timeout=1))
    if s.create(cid) == 0:
        s.bad_exits.append(f"create of {cid} with a hook past its timeout succeeded")


def _truncated(c, i):
    text = json.dumps(c)
    return text[:random.Random(i).randrange(len(text))]


def _wrong_type(c, i):
    c["process"]["args"] = {"not": "a list"}


def _missing_binary(c, i):
    c["process"]["args"] = ["/no/such/binary"]


def _missing_rootfs(c, i):
    c["root"]["path"] = "no-such-rootfs"


def _bad_bind(c, i):
    c["mounts"].append({"destination": "/mnt", "type": "bind",
                        "source": "/no/such/source", "options": ["bind"]})


def _bad_namespace(c, i):
    c["linux"]["namespaces"].append({"type": "bogus"})


def _bad_cwd(c, i):
    c["process"]["cwd"] = "relative"


BAD_CONFIGS = [_truncated, _wrong_type, _missing_binary, _missing_rootfs, _bad_bind,
               _bad_namespace, _bad_cwd]


def f_bad_config(s, cid):
    s.write(cid, s.rng.choice(BAD_CONFIGS))
    if s.create(cid) == 0:
        s.bad_exits.append(f"create of {cid} with a bad config succeeded")


def f_init_killed_before_start(s, cid):
    s.write(cid)
    if s.create(cid) == 0:
        s.kill_init(cid)
        s.call("start", cid)  # fails: the init is gone
        s.call("delete", cid)


def f_process_killed_early(s, cid):
    s.write(cid)
    if s.create(cid) == 0 and s.call("start", cid) == 0:
        time.sleep(s.rng.uniform(0, 0.02))
        s.kill_init(cid)
        s.call("exec", cid, "/probe", "exit", "0", ok=(0, 1, 137))


def f_exec_killed(s, cid):
    """An exec'd process killed while the exec command still relays it."""
    s.write(cid)
    if s.create(cid) == 0 and s.call("start", cid) == 0:
        p = spawn(s.rt.cmd("exec", cid, "/probe", "sleep", "30"), stdin=subprocess.DEVNULL,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(s.rng.uniform(0, 0.1))
            s.call("kill", "--all", cid, "KILL")
            p.wait(30)
        finally:
            forget(p)


FAULT_FN = {
    "none": f_none, "kill_create": f_kill_create, "kill_start": f_kill_start,
    "kill_exec": f_kill_exec, "kill_kill": f_kill_kill, "kill_delete": f_kill_delete,
    "kill_during_hook": f_kill_during_hook, "failing_hook": f_failing_hook,
    "bad_config": f_bad_config, "init_killed_before_start": f_init_killed_before_start,
    "process_killed_early": f_process_killed_early, "exec_killed": f_exec_killed,
}
# The slow hook timeout (1 s) is rarer than the rest.
FAULTS = [f for f in FAULT_FN] * 4 + ["hook_timeout"]
FAULT_FN["hook_timeout"] = f_hook_timeout


def test_soak_fault_injection(rt, bundle, capsys):
    rng = random.Random(SEED)
    s = Soak(rt, bundle, rng)
    t0 = time.monotonic()
    for i in range(CYCLES):
        s.run_cycle(i)
    injected = sum(v for k, v in s.faults.items() if k != "none")
    with capsys.disabled():
        print(f"\nsoak: {CYCLES} cycles in {time.monotonic() - t0:.0f}s (seed {SEED}), "
              f"{injected} faults injected, {sum(s.killed.values())} runtime SIGKILLs "
              f"({dict(s.killed)}), leftovers found: {len(s.leaks)}")
        print("soak faults: " + ", ".join(f"{k} {v}" for k, v in sorted(s.faults.items())))
    assert not s.leaks and not s.bad_exits, (
        f"seed {SEED}\nleft behind after delete --force:\n" + "\n".join(s.leaks) +
        "\nunexpected exits:\n" + "\n".join(s.bad_exits[:20]))
