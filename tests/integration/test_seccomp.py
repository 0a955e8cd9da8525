"""linux.seccomp: the filter is in force in the container's process; bad
profiles are refused by name and leave nothing behind."""
import errno
import os
import time

import pytest

from helpers import assert_error, last_json, poll


def profile(*rules, default="SCMP_ACT_ALLOW"):
    return {"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64"], "syscalls": list(rules)}


@pytest.mark.berth_only
def test_errno_action_returns_configured_errno(rt, bundle):
    bundle.linux["seccomp"] = profile({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                                       "errnoRet": 13})
    bundle.cfg["root"]["readonly"] = False
    bundle.args("/bin/sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?")
    r = rt.run(bundle, check=True)
    assert "Permission denied" in r.stdout and "rc=1" in r.stdout, r.stdout


def test_kill_action_kills_with_sigsys(rt, bundle):
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"})
    bundle.args("/bin/sh", "-c", "echo $PPID; cat /proc/self/status >/dev/null")
    # busybox sh calls getppid for $PPID at start-up
    assert rt.run(bundle).returncode == 128 + 31


def test_seccomp_mode_is_filter(rt, bundle):
    bundle.linux["seccomp"] = profile({"names": ["acct"], "action": "SCMP_ACT_ERRNO"})
    assert rt.run_probe(bundle)["seccomp"] == 2


def test_unknown_action_is_refused(rt, bundle):
    bundle.linux["seccomp"] = profile({"names": ["acct"], "action": "SCMP_ACT_BOGUS"})
    bundle.write()
    assert_error(rt.run(bundle), "SCMP_ACT_BOGUS")


@pytest.mark.berth_only
@pytest.mark.parametrize("field,value", [
    ("netDevices", {"eth0": {}}),
    ("intelRdt", {"closID": "x"}),
    ("memoryPolicy", {"mode": "MPOL_BIND", "nodes": "0"}),
])
def test_unsupported_linux_fields_are_refused_by_name(rt, bundle, field, value):
    bundle.linux[field] = value
    bundle.write()
    assert_error(rt.run(bundle), field)


# ---- every action and operator, in the init and in an exec'd process ----
#
# The probe makes raw syscalls (`probe sys NAME,ARG0,...`). getppid ignores
# its arguments but seccomp sees them: a harmless call to match on, that
# neither the runtime nor the probe makes on its own.

SIGSYS = 31
SYS_SECCOMP = 1  # si_code of a seccomp SIGSYS
NR_GETPPID = 110  # x86_64


def run_sys(rt, bundle, mode, *calls, thread=False):
    """Make `calls` in a new container's init (mode "init") or in a process
    exec'd into a running one ("exec"). -> (exit status, parsed JSON or None)"""
    argv = ("thread-sys",) + calls if thread else ("sys",) + calls
    if mode == "init":
        bundle.probe(*argv)
        r = rt.run(bundle)
    else:
        cid = rt.start_sigwait(bundle)
        r = rt("exec", cid, "/probe", *argv, check=False)
    try:
        return r.returncode, last_json(r.stdout)
    except (AssertionError, ValueError):
        return r.returncode, None


def one(rt, bundle, mode, call, **kw):
    rc, rep = run_sys(rt, bundle, mode, call, **kw)
    assert rc == 0, (rc, rep)
    return rep["results"][0]


MODES = ["init", "exec"]

# What the runtime (after loading the filter) and the probe need.
NEEDED = ["read", "write", "close", "exit", "exit_group", "execve", "brk",
          "mmap", "munmap", "mprotect", "arch_prctl", "set_tid_address",
          "set_robust_list", "rseq", "prlimit64", "readlink", "getrandom",
          "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
          "close_range", "fcntl", "newfstatat", "fstat", "openat", "uname",
          "rt_sigtimedwait", "futex", "getpid", "sendmsg", "recvmsg",
          "ioctl", "lseek", "dup2", "dup3", "clone", "clone3", "wait4",
          "madvise", "exit", "prctl", "capget", "capset", "setresuid",
          "setresgid", "setgroups", "getcwd", "chdir", "fchdir",
          "sched_getaffinity", "umask", "statx"]


@pytest.mark.parametrize("mode", MODES)
def test_errno_with_errno_ret(rt, bundle, mode):
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": "SCMP_ACT_ERRNO",
                                       "errnoRet": errno.EXDEV})
    r = one(rt, bundle, mode, "getppid")
    assert (r["ret"], r["errno"]) == (-1, errno.EXDEV)


@pytest.mark.parametrize("mode", MODES)
def test_errno_defaults_to_eperm(rt, bundle, mode):
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": "SCMP_ACT_ERRNO"})
    assert one(rt, bundle, mode, "getppid")["errno"] == errno.EPERM


@pytest.mark.parametrize("mode", MODES)
def test_default_errno_ret(rt, bundle, mode):
    """A default-deny profile: everything the runtime and the probe need is
    allowed, the rest fails with defaultErrnoRet."""

    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO",
                               "defaultErrnoRet": errno.ENOTSUP,
                               "syscalls": [{"names": NEEDED, "action": "SCMP_ACT_ALLOW"}]}
    r = one(rt, bundle, mode, "getppid")
    assert r["errno"] == errno.ENOTSUP


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                                    "SCMP_ACT_KILL_PROCESS"])
def test_kill_actions_kill_a_single_threaded_process(rt, bundle, mode, action):
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": action})
    rc, rep = run_sys(rt, bundle, mode, "getpid", "getppid", "getpid")
    assert rc == 128 + SIGSYS
    if mode == "exec":
        assert rt.status(rt.ids[-1]) == "running"  # the init lives on


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action,survives", [("SCMP_ACT_KILL", True),
                                             ("SCMP_ACT_KILL_THREAD", True),
                                             ("SCMP_ACT_KILL_PROCESS", False)])
def test_kill_thread_vs_kill_process(rt, bundle, mode, action, survives):
    """KILL (= KILL_THREAD) ends the calling thread only; KILL_PROCESS all."""
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": action})
    rc, rep = run_sys(rt, bundle, mode, "getppid", thread=True)
    if survives:
        assert rc == 0 and rep == {"survived": True}, (rc, rep)
    else:
        assert rc == 128 + SIGSYS


@pytest.mark.parametrize("mode", MODES)
def test_trap_sends_sigsys(rt, bundle, mode):
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": "SCMP_ACT_TRAP"})
    r = one(rt, bundle, mode, "getppid")
    assert r["sigsys"]["code"] == SYS_SECCOMP
    assert r["sigsys"]["syscall"] == NR_GETPPID


@pytest.mark.parametrize("mode", MODES)
def test_trace_without_tracer_is_enosys(rt, bundle, mode):
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": "SCMP_ACT_TRACE",
                                       "errnoRet": 7})
    r = one(rt, bundle, mode, "getppid")
    assert (r["ret"], r["errno"]) == (-1, errno.ENOSYS)


@pytest.mark.parametrize("mode", MODES)
def test_allow_opens_a_call_under_a_deny_default(rt, bundle, mode):
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": NEEDED, "action": "SCMP_ACT_ALLOW"},
        {"names": ["getppid"], "action": "SCMP_ACT_ALLOW"}]}
    rc, rep = run_sys(rt, bundle, mode, "getppid", "getpgrp")
    ppid, pgrp = rep["results"]
    assert (ppid["ret"], ppid["errno"]) == (0, 0)  # its parent is outside
    assert pgrp["errno"] == errno.EPERM


def kernel_log_since(mark):
    """Kernel log records (/dev/kmsg) stamped after `mark` (µs since boot)."""
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    lines = []
    try:
        while True:
            try:
                rec = os.read(fd, 8192)  # one record per read
            except BlockingIOError:
                break
            except BrokenPipeError:  # overwritten while we read: go on
                continue
            if not rec:
                break
            lines.append(rec.decode(errors="replace"))
    finally:
        os.close(fd)
    return [l for l in lines if int(l.split(",")[2]) > mark]


def kernel_log_mark():
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) * 1e6) - 1


def seccomp_records(lines, nr):
    """Audit records of seccomp decisions (type 1326) for syscall nr."""
    return [l for l in lines if "type=1326" in l and f" syscall={nr} " in l
            and 'comm="probe"' in l]


@pytest.mark.parametrize("mode", MODES)
def test_log_action_runs_and_logs(rt, bundle, mode):
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": "SCMP_ACT_LOG"})
    mark = kernel_log_mark()
    r = one(rt, bundle, mode, "getppid")
    assert (r["ret"], r["errno"]) == (0, 0)  # ran
    recs = poll(lambda: seccomp_records(kernel_log_since(mark), NR_GETPPID), 3)
    if not recs:
        pytest.skip("this kernel does not print seccomp audit records")
    assert "code=0x7ffc0000" in recs[-1]  # SECCOMP_RET_LOG


OPS = [  # op, value, valueTwo, a matching arg0, one that does not match
    ("SCMP_CMP_NE", 5, 0, 4, 5),
    ("SCMP_CMP_LT", 5, 0, 4, 5),
    ("SCMP_CMP_LE", 5, 0, 5, 6),
    ("SCMP_CMP_EQ", 5, 0, 5, 4),
    ("SCMP_CMP_GE", 5, 0, 5, 4),
    ("SCMP_CMP_GT", 5, 0, 6, 5),
    ("SCMP_CMP_MASKED_EQ", 0xF0, 0x20, 0x2F, 0x30),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op,value,value_two,match,miss", OPS, ids=[o[0] for o in OPS])
def test_arg_operator(rt, bundle, mode, op, value, value_two, match, miss):
    arg = {"index": 0, "value": value, "op": op}
    if value_two:
        arg["valueTwo"] = value_two
    bundle.linux["seccomp"] = profile({"names": ["getppid"], "action": "SCMP_ACT_ERRNO",
                                       "errnoRet": errno.EXDEV, "args": [arg]})
    rc, rep = run_sys(rt, bundle, mode, f"getppid,{match}", f"getppid,{miss}")
    hit, passed = rep["results"]
    assert hit["errno"] == errno.EXDEV, hit
    assert (passed["ret"], passed["errno"]) == (0, 0), passed


def test_args_on_two_indexes_must_both_match(rt, bundle):
    bundle.linux["seccomp"] = profile({
        "names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                 {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]})
    rc, rep = run_sys(rt, bundle, "init", "getppid,1,2", "getppid,1,3")
    both, half = rep["results"]
    assert both["errno"] == errno.EXDEV and half["errno"] == 0


# ---- flags ----

@pytest.mark.berth_only  # the kernel log check
def test_flag_log_logs_errno_decisions(rt, bundle):
    rules = {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV}
    bundle.linux["seccomp"] = dict(profile(rules), flags=["SECCOMP_FILTER_FLAG_LOG"])
    mark = kernel_log_mark()
    assert one(rt, bundle, "init", "getppid")["errno"] == errno.EXDEV
    recs = poll(lambda: seccomp_records(kernel_log_since(mark), NR_GETPPID), 3)
    if not recs and not seccomp_records(kernel_log_since(0), NR_GETPPID):
        pytest.skip("this kernel does not print seccomp audit records")
    assert recs, "no audit record of the denied call"
    assert "code=0x50000" in recs[-1]  # SECCOMP_RET_ERRNO (the record leaves out the errno)

    # Without the flag, ERRNO decisions are not logged.
    bundle.linux["seccomp"] = profile(rules)
    mark = kernel_log_mark()
    assert one(rt, bundle, "init", "getppid")["errno"] == errno.EXDEV
    time.sleep(0.5)
    assert not seccomp_records(kernel_log_since(mark), NR_GETPPID)


@pytest.mark.parametrize("flag", ["SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG",
                                  "SECCOMP_FILTER_FLAG_TSYNC"])
def test_flags_accepted_and_filter_in_force(rt, bundle, flag):
    bundle.linux["seccomp"] = dict(profile({"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}),
                                   flags=[flag])
    r = one(rt, bundle, "init", "getppid")
    assert r["errno"] == errno.EPERM


# ---- malformed profiles: refused by name, nothing left behind ----

MALFORMED = [
    ("unknown action", {"defaultAction": "SCMP_ACT_BOGUS"}, "SCMP_ACT_BOGUS"),
    ("bad operator", {"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO",
                                    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]},
     "SCMP_CMP_ABOUT"),
    ("unknown architecture", {"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"]},
     "SCMP_ARCH_PDP11"),
    ("unknown flag", {"flags": ["SECCOMP_FILTER_FLAG_BOGUS"]}, "SECCOMP_FILTER_FLAG_BOGUS"),
    ("arg index", {"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO",
                                 "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
     "index"),
    ("errnoRet on allow", {"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ALLOW",
                                         "errnoRet": 1}]}, "errnoRet"),
    ("notify default", {"defaultAction": "SCMP_ACT_NOTIFY"}, "SCMP_ACT_NOTIFY"),
    ("notify without listener", {"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]},
     "listenerPath"),
]


@pytest.mark.berth_only  # messages naming the culprit
@pytest.mark.parametrize("verb", ["create", "run"])
@pytest.mark.parametrize("what,change,named", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_profile_is_refused_by_name(rt, bundle, verb, what, change, named):
    sc = profile({"names": ["getppid"], "action": "SCMP_ACT_ERRNO"})
    sc.update(change)
    bundle.linux["seccomp"] = sc
    bundle.write()
    r = rt.create_r(bundle) if verb == "create" else rt.run(bundle)
    assert_error(r, named, "seccomp")
    assert rt.status(r.id) is None  # no state left; the leak check does the rest


def test_syscall_unknown_to_libseccomp_is_skipped(rt, bundle):
    bundle.linux["seccomp"] = profile({"names": ["getppid", "no_such_syscall_at_all"],
                                       "action": "SCMP_ACT_ERRNO"})
    bundle.probe("sys", "getppid")
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    assert last_json(r.stdout)["results"][0]["errno"] == errno.EPERM


# ---- the compiled-program cache (<root>/@cache, src/runtime/seccomp_cache.hpp) ----

def cache_entries(rt):
    d = os.path.join(rt.root, "@cache")
    return {n: os.path.join(d, n) for n in os.listdir(d)} if os.path.isdir(d) else {}


def getppid_errno(errno_ret):
    return profile({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno_ret})


@pytest.mark.berth_only
@pytest.mark.parametrize("mode", MODES)
def test_cache_serves_the_same_filter(rt, bundle, mode):
    bundle.linux["seccomp"] = getppid_errno(errno.EXDEV)
    assert one(rt, bundle, mode, "getppid")["errno"] == errno.EXDEV
    assert len(cache_entries(rt)) == 1
    assert one(rt, bundle, mode, "getppid")["errno"] == errno.EXDEV  # from the cache
    assert len(cache_entries(rt)) == 1


@pytest.mark.berth_only
def test_cache_entry_of_another_profile_is_not_used(rt, bundle):
    """An entry under this profile's name but with another key (a hash
    collision, or planted) costs a compile, never loads the wrong filter."""
    bundle.linux["seccomp"] = getppid_errno(errno.EXDEV)
    assert one(rt, bundle, "init", "getppid")["errno"] == errno.EXDEV
    (name_a, path_a), = cache_entries(rt).items()
    bundle.linux["seccomp"] = getppid_errno(errno.ENOTSUP)
    assert one(rt, bundle, "init", "getppid")["errno"] == errno.ENOTSUP
    path_b = next(p for n, p in cache_entries(rt).items() if n != name_a)
    with open(path_a, "rb") as f:
        a = f.read()
    with open(path_b, "wb") as f:
        f.write(a)  # B's name now holds A's program (EXDEV)
    assert one(rt, bundle, "init", "getppid")["errno"] == errno.ENOTSUP


@pytest.mark.berth_only
@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_cache_entry_is_compiled_again(rt, bundle, damage):
    bundle.linux["seccomp"] = getppid_errno(errno.EXDEV)
    assert one(rt, bundle, "init", "getppid")["errno"] == errno.EXDEV
    (_, path), = cache_entries(rt).items()
    with open(path, "rb") as f:
        data = f.read()
    data = {"truncated": data[:-5], "garbage": data[:-16] + b"\xff" * 16, "empty": b""}[damage]
    with open(path, "wb") as f:
        f.write(data)
    assert one(rt, bundle, "init", "getppid")["errno"] == errno.EXDEV


@pytest.mark.berth_only
def test_failed_create_leaves_no_cache_entry(rt, bundle):
    bundle.linux["seccomp"] = getppid_errno(errno.EXDEV)
    bundle.linux["resources"] = {"cpu": {"cpus": "no-such-cpus"}}
    bundle.write()
    assert_error(rt.create_r(bundle), "cpus")
    assert not cache_entries(rt)
