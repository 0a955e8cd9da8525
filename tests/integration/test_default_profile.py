"""The config `berth-runtime spec` writes: Docker's default capabilities and
a seccomp profile equivalent to Docker's default. A busybox container runs
normally under it; namespace, mount and keyring calls fail with EPERM."""
import errno
import json

import pytest

from helpers import assert_error, cap_mask, caps_of, last_json

pytestmark = pytest.mark.berth_only  # runc's template has neither

DOCKER_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
               "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
               "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
               "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
CLONE_NEWNS = 0x20000


@pytest.fixture
def default(bundle):
    """A bundle on the runtime's own template, rootfs writable."""
    bundle.use_runtime_template()
    bundle.cfg["root"]["readonly"] = False
    bundle.write()
    return bundle


def sys_calls(rt, bundle, *calls):
    return {r["name"]: r for r in rt.run_probe(bundle, "sys", *calls)["results"]}


def test_spec_has_docker_caps_and_profile(rt, default):
    cfg = default.cfg
    for k in ("bounding", "effective", "permitted"):
        assert sorted(cfg["process"]["capabilities"][k]) == sorted(DOCKER_CAPS), k
    sc = cfg["linux"]["seccomp"]
    assert sc["defaultAction"] == "SCMP_ACT_ERRNO"
    assert sc["defaultErrnoRet"] == errno.EPERM
    assert sc["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                   "SCMP_ARCH_X32"]
    allowed = {n for r in sc["syscalls"] if r["action"] == "SCMP_ACT_ALLOW"
               and not r.get("args") for n in r["names"]}
    assert {"read", "write", "execve", "clone3"} - allowed == {"clone3"}
    assert not {"mount", "unshare", "setns", "keyctl", "add_key"} & allowed


def test_busybox_runs_normally(rt, default):
    default.args("/bin/sh", "-c",
                 "set -e; echo hello > /tmp/f; cat /tmp/f; mkdir -p /tmp/d/e; "
                 "ls /tmp/d; chown 1000:1000 /tmp/f; chmod 600 /tmp/f; "
                 "ls -ln /tmp/f | cut -c1-10; ps >/dev/null; "
                 "(sleep 0.1; echo sub) & wait; "
                 "echo x | sed s/x/y/ | grep y; "
                 "id -u; date >/dev/null; uname -s; "
                 "wget -q -T1 http://127.0.0.1:1/ 2>/dev/null || echo no-net; "
                 "chroot / /bin/true && echo chroot-ok")
    r = rt.run(default)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["hello", "e", "-rw-------", "sub", "y", "0",
                                "Linux", "no-net", "chroot-ok"], r.stdout
    assert r.stderr == ""  # no warning: libseccomp knows every name


def test_threads_and_fork_work(rt, default):
    rep = rt.run_probe(default, "thread-sys", "getpid")
    assert rep["survived"] and rep["thread"]["ret"] > 0


def test_capabilities_and_seccomp_in_force(rt, default):
    rep = rt.run_probe(default)
    want = cap_mask(DOCKER_CAPS)
    for which in ("bounding", "effective", "permitted"):
        assert caps_of(rep, which) == want, which
    assert caps_of(rep, "inheritable") == 0
    assert caps_of(rep, "ambient") == 0
    assert rep["seccomp"] == 2
    assert rep["no_new_privs"] == 1


def test_namespace_mount_keyring_calls_fail_with_eperm(rt, default):
    res = sys_calls(rt, default, "unshare,0", f"unshare,{CLONE_NEWNS}",
                    "mount", "umount2", "setns,0,0",
                    "keyctl,0,0xfffffffd", "add_key", "bpf", "reboot",
                    "personality,0x40000", "acct")
    for name, r in res.items():
        assert (r["ret"], r["errno"]) == (-1, errno.EPERM), r
    # unshare(0) is a no-op the kernel allows anyone: EPERM is the filter's.
    assert res["unshare"]["errno"] == errno.EPERM


def test_clone3_falls_back_and_personality_queries_pass(rt, default):
    res = sys_calls(rt, default, "clone3", "personality,0xffffffff", "getppid")
    assert res["clone3"]["errno"] == errno.ENOSYS  # glibc falls back to clone
    assert res["personality"]["ret"] >= 0
    assert res["getppid"]["ret"] >= 0


def test_busybox_unshare_and_mount_fail(rt, default):
    default.args("/bin/sh", "-c",
                 "unshare -m true; echo unshare=$?; "
                 "mount -t tmpfs none /mnt 2>&1; echo mount=$?; "
                 "hostname other 2>&1; echo hostname=$?")
    r = rt.run(default)
    out = r.stdout
    assert "unshare=1" in out and "mount=" in out and "mount=0" not in out, out
    assert "Operation not permitted" in out + r.stderr
    assert "hostname=0" not in out


def test_profile_denies_even_with_cap_sys_admin(rt, default):
    """The profile was made for Docker's capabilities: granting CAP_SYS_ADMIN
    afterwards does not open mount or unshare (the kernel would allow them)."""
    caps = default.process["capabilities"]
    for k in ("bounding", "effective", "permitted"):
        caps[k].append("CAP_SYS_ADMIN")
    default.write()
    res = sys_calls(rt, default, "unshare,0", f"unshare,{CLONE_NEWNS}")
    assert all(r["errno"] == errno.EPERM for r in res.values()), res


def test_exec_gets_the_same_filter(rt, default):
    cid = rt.start_sigwait(default)
    rep = last_json(rt("exec", cid, "/probe", "sys", "unshare,0",
                       "getppid").stdout)
    unshare, getppid = rep["results"]
    assert unshare["errno"] == errno.EPERM
    assert getppid["ret"] >= 0
    assert rt.exec_probe(cid)["seccomp"] == 2


def test_default_errno_ret_can_be_changed(rt, default):
    default.linux["seccomp"]["defaultErrnoRet"] = errno.ENOSYS
    default.write()
    res = sys_calls(rt, default, "keyctl,0,0xfffffffd")
    assert res["keyctl"]["errno"] == errno.ENOSYS


def test_allow_rule_opens_a_denied_call(rt, default):
    default.linux["seccomp"]["syscalls"].append(
        {"names": ["keyctl"], "action": "SCMP_ACT_ALLOW"})
    default.write()
    res = sys_calls(rt, default, "keyctl,0,0xfffffffd")
    assert res["keyctl"]["ret"] > 0  # the session keyring's id


def test_removing_the_profile_removes_the_filter(rt, default):
    del default.linux["seccomp"]
    default.write()
    assert rt.run_probe(default)["seccomp"] == 0


def test_rootless_template_has_the_profile_too(rt, bundle):
    d = bundle.hostdir("rootless")
    rt("spec", "--rootless", "--bundle", d)
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
