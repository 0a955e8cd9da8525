"""config.json `process`: what the container process sees, via the probe."""
import json
import os

import pytest

from helpers import assert_error, cap_mask, caps_of


def test_args_and_exit_status(rt, bundle):
    bundle.probe("exit", "7")
    assert rt.run(bundle).returncode == 7


def test_args_resolved_through_path(rt, bundle):
    bundle.args("sh", "-c", "exit 5")
    assert rt.run(bundle).returncode == 5


def test_args_passed_verbatim(rt, bundle):
    bundle.args("/bin/sh", "-c", 'printf "[%s]" "$0" "$@"', "zero", "a b", "",
                "*", "$HOME")
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "[zero][a b][][*][$HOME]"


def test_env_exact(rt, bundle):
    bundle.process["env"] = ["PATH=/bin", "A=1", "B=two words", "HOME=/x"]
    rep = rt.run_probe(bundle)
    assert sorted(rep["env"]) == sorted(bundle.process["env"])


def test_env_home_defaults_from_passwd(rt, bundle):
    bundle.process["env"] = ["PATH=/bin"]
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    rep = rt.run_probe(bundle)
    assert "HOME=/home/user" in rep["env"]


def test_cwd(rt, bundle):
    bundle.process["cwd"] = "/tmp"
    assert rt.run_probe(bundle)["cwd"] == "/tmp"


def test_cwd_created_if_missing(rt, bundle):
    bundle.process["cwd"] = "/new/dir"
    bundle.cfg["root"]["readonly"] = False
    assert rt.run_probe(bundle)["cwd"] == "/new/dir"


def test_cwd_symlink_resolved_in_rootfs(rt, bundle):
    """A cwd through an absolute symlink lands inside the rootfs."""
    os.symlink("/etc", bundle.rootfs / "lnk")
    bundle.process["cwd"] = "/lnk"
    rep = rt.run_probe(bundle)
    assert rep["cwd"] == "/etc"


def test_user_uid_gid(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    rep = rt.run_probe(bundle)
    assert rep["uid"] == {"real": 1000, "effective": 1000, "saved": 1000}
    assert rep["gid"] == {"real": 1000, "effective": 1000, "saved": 1000}
    assert rep["groups"] == []


def test_user_not_in_passwd(rt, bundle):
    bundle.process["user"] = {"uid": 4321, "gid": 4322}
    rep = rt.run_probe(bundle)
    assert rep["uid"]["effective"] == 4321 and rep["gid"]["effective"] == 4322


def test_user_additional_gids(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000,
                              "additionalGids": [10, 20, 4000]}
    rep = rt.run_probe(bundle)
    assert sorted(rep["groups"]) == [10, 20, 4000]


def test_user_umask(rt, bundle):
    bundle.process["user"]["umask"] = 0o077
    assert rt.run_probe(bundle)["umask"] == "0077"


def test_umask_default(rt, bundle):
    assert rt.run_probe(bundle)["umask"] == "0022"


CAPS5 = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"],
    "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "effective": ["CAP_CHOWN", "CAP_KILL"],
    "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "ambient": ["CAP_KILL"],
}


def test_capabilities_five_sets_non_root(rt, bundle):
    """Non-root after execve: permitted = effective = ambient (no file caps)."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = CAPS5
    rep = rt.run_probe(bundle)
    assert caps_of(rep, "bounding") == cap_mask(CAPS5["bounding"])
    assert caps_of(rep, "inheritable") == cap_mask(CAPS5["inheritable"])
    for which in ("ambient", "permitted", "effective"):
        assert caps_of(rep, which) == cap_mask(CAPS5["ambient"]), which


def test_capabilities_five_sets_root_nnp(rt, bundle):
    """Root with no_new_privs: execve keeps permitted, effective = permitted."""
    bundle.process["noNewPrivileges"] = True
    bundle.process["capabilities"] = CAPS5
    rep = rt.run_probe(bundle)
    assert caps_of(rep, "bounding") == cap_mask(CAPS5["bounding"])
    assert caps_of(rep, "inheritable") == cap_mask(CAPS5["inheritable"])
    assert caps_of(rep, "ambient") == cap_mask(CAPS5["ambient"])
    assert caps_of(rep, "permitted") == cap_mask(CAPS5["permitted"])
    assert caps_of(rep, "effective") == cap_mask(CAPS5["permitted"])


def test_capabilities_root_without_nnp_gets_bounding(rt, bundle):
    """Root without no_new_privs: execve grants bounding | inheritable."""
    bundle.process["noNewPrivileges"] = False
    bundle.process["capabilities"] = CAPS5
    rep = rt.run_probe(bundle)
    want = cap_mask(CAPS5["bounding"]) | cap_mask(CAPS5["inheritable"])
    assert caps_of(rep, "permitted") == want
    assert caps_of(rep, "effective") == want


def test_capabilities_ambient_for_non_root(rt, bundle):
    names = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {k: names for k in (
        "bounding", "permitted", "effective", "inheritable", "ambient")}
    rep = rt.run_probe(bundle)
    assert caps_of(rep, "effective") == cap_mask(names)
    assert caps_of(rep, "ambient") == cap_mask(names)


def test_capabilities_none(rt, bundle):
    bundle.process["capabilities"] = {}
    rep = rt.run_probe(bundle)
    for which in ("effective", "permitted", "bounding", "ambient"):
        assert caps_of(rep, which) == 0, which


def test_capabilities_non_root_without_ambient_drop(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {
        "bounding": ["CAP_KILL"], "permitted": ["CAP_KILL"],
        "effective": ["CAP_KILL"]}
    rep = rt.run_probe(bundle)
    assert caps_of(rep, "bounding") == cap_mask(["CAP_KILL"])
    assert caps_of(rep, "ambient") == 0


def test_rlimits(rt, bundle):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
        {"type": "RLIMIT_MSGQUEUE", "soft": 8192, "hard": 8192},
    ]
    rep = rt.run_probe(bundle)
    for rl in bundle.process["rlimits"]:
        assert rep["rlimits"][rl["type"]] == {"soft": rl["soft"],
                                              "hard": rl["hard"]}


def test_rlimit_above_host_hard_limit_fails(rt, bundle):
    """The sandbox lacks CAP_SYS_RESOURCE: raising nofile past 20000 fails."""
    host_hard = int(open("/proc/self/limits").read().split(
        "Max open files")[1].split()[1])
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": host_hard * 2, "hard": host_hard * 2}]
    bundle.write()
    r = rt.run(bundle)
    if r.returncode == 0:
        pytest.skip("this host lets the runtime raise RLIMIT_NOFILE")
    assert_error(r)


def test_rlimit_unknown_type_is_error(rt, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    bundle.write()
    assert_error(rt.run(bundle), "RLIMIT_BOGUS")


@pytest.mark.berth_only
def test_rlimit_duplicate_type_is_error(rt, bundle):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 200, "hard": 200},
        {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 100}]
    bundle.write()
    assert_error(rt.run(bundle), "RLIMIT_NOFILE")


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(rt, bundle, nnp):
    bundle.process["noNewPrivileges"] = nnp
    assert rt.run_probe(bundle)["no_new_privs"] == int(nnp)


def test_oom_score_adj(rt, bundle):
    bundle.process["oomScoreAdj"] = 500
    assert rt.run_probe(bundle)["oom_score_adj"] == 500


def test_oom_score_adj_unset_is_inherited(rt, bundle):
    bundle.process.pop("oomScoreAdj", None)
    mine = int(open("/proc/self/oom_score_adj").read())
    assert rt.run_probe(bundle)["oom_score_adj"] == mine


@pytest.mark.berth_only
def test_scheduler_batch_nice(rt, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 5}
    rep = rt.run_probe(bundle)
    assert rep["scheduler"]["policy"] == os.SCHED_BATCH
    assert rep["scheduler"]["nice"] == 5


@pytest.mark.berth_only
def test_scheduler_rr_priority(rt, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_RR", "priority": 10,
                                   "flags": ["SCHED_FLAG_RESET_ON_FORK"]}
    if os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        # v1 with RT group scheduling: a new cgroup has no RT budget
        bundle.linux["resources"]["cpu"] = {"realtimePeriod": 1000000,
                                            "realtimeRuntime": 10000}
    rep = rt.run_probe(bundle)
    assert rep["scheduler"]["policy"] == os.SCHED_RR
    assert rep["scheduler"]["priority"] == 10
    assert rep["scheduler"]["reset_on_fork"] is True


@pytest.mark.berth_only
def test_io_priority(rt, bundle):
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    rep = rt.run_probe(bundle)
    assert rep["ioprio"]["class"] == 2 and rep["ioprio"]["level"] == 6


@pytest.mark.berth_only
def test_io_priority_idle(rt, bundle):
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}
    assert rt.run_probe(bundle)["ioprio"]["class"] == 3


def test_default_sched_and_ioprio_untouched(rt, bundle):
    rep = rt.run_probe(bundle)
    assert rep["scheduler"]["policy"] == os.SCHED_OTHER
    assert rep["scheduler"]["nice"] == os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.berth_only
def test_exec_cpu_affinity_final(rt, bundle):
    bundle.process["execCPUAffinity"] = {"initial": "0", "final": "0"}
    cid = rt.start_sigwait(bundle)
    # not applied to init, applied to exec'd processes
    assert rt.exec_probe(cid)["cpu_affinity"] == "0"


def test_ambient_not_inheritable_is_skipped_with_warning(rt, bundle):
    """runc 1.1's `spec` writes an ambient set without an inheritable one;
    the kernel cannot raise those, and runc and crun go on without them:
    so do we, with a warning naming each."""
    caps = ["CAP_KILL", "CAP_AUDIT_WRITE"]
    bundle.process["capabilities"] = {"bounding": caps, "effective": caps,
                                      "permitted": caps, "ambient": caps}
    bundle.probe()
    r = rt.run(bundle)
    assert r.returncode == 0, r.stderr
    assert "ambient" in r.stderr and "CAP_KILL" in r.stderr, r.stderr
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    assert caps_of(rep, "ambient") == 0
