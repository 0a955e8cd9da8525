"""linux.seccomp: the filter is in force in the container's process; bad
profiles are refused by name and leave nothing behind."""
import pytest

from helpers import assert_error


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
