"""linux.namespaces (new / inherited / joined), id mappings, time offsets."""
import os

import pytest

from helpers import assert_error, host_ns

# config type -> /proc/self/ns name
NS = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts",
      "mount": "mnt", "cgroup": "cgroup", "user": "user", "time": "time"}
MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def with_userns(bundle):
    bundle.set_namespace("user")
    bundle.linux["uidMappings"] = MAP
    bundle.linux["gidMappings"] = MAP


@pytest.mark.parametrize("kind", ["pid", "network", "ipc", "uts", "mount",
                                  "cgroup"])
def test_new_namespace(rt, bundle, kind):
    bundle.set_namespace(kind)
    rep = rt.run_probe(bundle)
    assert rep["namespaces"][NS[kind]] != host_ns(NS[kind])


@pytest.mark.parametrize("kind", ["pid", "network", "ipc", "uts", "cgroup"])
def test_absent_namespace_is_inherited(rt, bundle, kind):
    bundle.set_namespace(kind, present=False)
    if kind == "uts":
        bundle.cfg.pop("hostname", None)
    rep = rt.run_probe(bundle)
    assert rep["namespaces"][NS[kind]] == host_ns(NS[kind])


def test_pid_namespace_makes_init_pid_1(rt, bundle):
    rep = rt.run_probe(bundle)
    assert rep["pid"] == 1 and rep["ppid"] == 0


def test_cgroup_namespace_root_is_container_cgroup(rt, bundle):
    bundle.set_namespace("cgroup")
    rep = rt.run_probe(bundle)
    assert all(line.endswith(":/") for line in rep["cgroup"]), rep["cgroup"]


def test_user_namespace_with_mappings(rt, bundle):
    with_userns(bundle)
    rep = rt.run_probe(bundle)
    assert rep["namespaces"]["user"] != host_ns("user")
    assert rep["uid"]["effective"] == 0 and rep["gid"]["effective"] == 0
    uid_map = rt.run_probe(bundle, "read", "/proc/self/uid_map")["data"]
    assert uid_map.split() == ["0", "100000", "65536"]


def test_user_namespace_gid_map(rt, bundle):
    with_userns(bundle)
    bundle.linux["gidMappings"] = [
        {"containerID": 0, "hostID": 200000, "size": 1000}]
    rep = rt.run_probe(bundle, "read", "/proc/self/gid_map")
    assert rep["data"].split() == ["0", "200000", "1000"]


def test_user_namespace_non_root_user(rt, bundle):
    with_userns(bundle)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    rep = rt.run_probe(bundle)
    assert rep["uid"]["real"] == 1000 and rep["gid"]["real"] == 1000


@pytest.mark.parametrize("kind", ["network", "ipc", "uts", "pid", "cgroup"])
def test_join_namespace_by_path(rt, make_bundle, kind):
    a = make_bundle()
    if kind == "cgroup":
        a.set_namespace("cgroup")
    cid = rt.start_sigwait(a)
    pid = rt.state(cid)["pid"]
    target = rt.exec_probe(cid)["namespaces"][NS[kind]]
    b = make_bundle()
    b.set_namespace(kind, path=f"/proc/{pid}/ns/{NS[kind]}")
    b.cfg.pop("hostname", None)  # not the joined uts namespace's to change
    rep = rt.run_probe(b)
    assert rep["namespaces"][NS[kind]] == target


def test_join_user_namespace_by_path(rt, make_bundle):
    a = make_bundle()
    with_userns(a)
    cid = rt.start_sigwait(a)
    pid = rt.state(cid)["pid"]
    b = make_bundle()
    with_userns(b)
    b.set_namespace("user", path=f"/proc/{pid}/ns/user")
    rep = rt.run_probe(b)
    assert rep["namespaces"]["user"] == rt.exec_probe(cid)["namespaces"]["user"]


def test_join_path_of_wrong_type_is_error(rt, make_bundle):
    a = make_bundle()
    cid = rt.start_sigwait(a)
    pid = rt.state(cid)["pid"]
    b = make_bundle()
    b.set_namespace("network", path=f"/proc/{pid}/ns/ipc")
    b.write()
    assert rt.run(b).returncode == 1


@pytest.mark.berth_only
def test_join_path_of_wrong_type_names_it(rt, make_bundle):
    a = make_bundle()
    cid = rt.start_sigwait(a)
    pid = rt.state(cid)["pid"]
    b = make_bundle()
    b.set_namespace("network", path=f"/proc/{pid}/ns/ipc")
    b.write()
    assert_error(rt.run(b), f"/proc/{pid}/ns/ipc")


def test_join_missing_path_is_error(rt, bundle):
    bundle.set_namespace("network", path=f"/tmp/{rt.token}-no-such-ns")
    bundle.write()
    assert_error(rt.run(bundle), f"{rt.token}-no-such-ns")


def test_unknown_namespace_type_is_error(rt, bundle):
    bundle.linux["namespaces"].append({"type": "bogus"})
    bundle.write()
    assert_error(rt.run(bundle), "bogus")


def test_duplicate_namespace_type_is_error(rt, bundle):
    bundle.linux["namespaces"].append({"type": "ipc"})
    bundle.write()
    assert_error(rt.run(bundle), "ipc")


@pytest.mark.berth_only
def test_time_namespace_new(rt, bundle):
    bundle.set_namespace("time")
    rep = rt.run_probe(bundle)
    assert rep["namespaces"]["time"] != host_ns("time")


@pytest.mark.berth_only
def test_time_offsets(rt, bundle):
    bundle.set_namespace("time")
    days = 50
    bundle.linux["timeOffsets"] = {
        "monotonic": {"secs": days * 86400, "nanosecs": 0},
        "boottime": {"secs": days * 86400, "nanosecs": 0}}
    rep = rt.run_probe(bundle, "read", "/proc/uptime")
    host_up = float(open("/proc/uptime").read().split()[0])
    assert float(rep["data"].split()[0]) >= host_up + days * 86400 - 60


@pytest.mark.parametrize("kind", ["network", "uts"] + (
    ["ipc"] if os.path.isdir("/dev/mqueue") else []))
def test_new_user_namespace_with_joined_namespace(rt, make_bundle, kind):
    """A new user namespace beside a namespace joined by path (as a pod's
    container joins its sandbox's network): the joined one is the one asked
    for, the user namespace is new and mapped, and the runtime itself is
    back in its own namespaces afterwards (hooks run there)."""
    a = make_bundle()
    if kind == "cgroup":
        a.set_namespace("cgroup")
    cid = rt.start_sigwait(a)
    pid = rt.state(cid)["pid"]
    target = rt.exec_probe(cid)["namespaces"][NS[kind]]
    b = make_bundle()
    with_userns(b)
    b.set_namespace(kind, path=f"/proc/{pid}/ns/{NS[kind]}")
    b.cfg.pop("hostname", None)
    hook_ns = b.path / "hook.ns"
    b.cfg["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": [
        "sh", "-c", f"readlink /proc/$$/ns/{NS[kind]} > {hook_ns}"]}]}
    rep = rt.run_probe(b)
    assert rep["namespaces"][NS[kind]] == target
    assert rep["namespaces"]["user"] != host_ns("user")
    assert rep["uid"]["effective"] == 0
    if kind != "pid":  # the runtime never enters a joined pid namespace itself
        assert hook_ns.read_text().strip() == host_ns(NS[kind])


@pytest.mark.parametrize("kind,mount", [("pid", "proc"), ("cgroup", "cgroup")] + (
    [] if os.path.isdir("/dev/mqueue") else [("ipc", "mqueue")]))
def test_new_user_namespace_with_joined_namespace_refused_mount(rt, make_bundle, kind, mount):
    """The kernel lets only the owner of a pid (cgroup, ipc) namespace mount
    its proc (cgroup, mqueue): from a new user namespace that is not the
    case, and create says which mount failed (runc fails there too)."""
    a = make_bundle()
    if kind == "cgroup":
        a.set_namespace("cgroup")
    cid = rt.start_sigwait(a)
    pid = rt.state(cid)["pid"]
    b = make_bundle()
    with_userns(b)
    b.set_namespace(kind, path=f"/proc/{pid}/ns/{NS[kind]}")
    b.probe()
    r = rt.run(b)
    assert r.returncode == 1
    assert f"mount {mount}" in r.stderr, r.stderr
