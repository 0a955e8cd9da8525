"""root, mounts, rootfsPropagation, maskedPaths, readonlyPaths, --no-pivot."""
import errno
import os

import pytest

from helpers import assert_error, mount_at, run_cmd


def opts(m):
    return set(m["options"].split(","))


def superopts(m):
    return set(m["super_options"].split(","))


# ---- root ----

def test_root_readonly(rt, bundle):
    bundle.cfg["root"]["readonly"] = True
    rep = rt.run_probe(bundle, "write", "/newfile", "x")
    assert rep["errno"] == errno.EROFS
    assert not (bundle.rootfs / "newfile").exists()


def test_root_readwrite(rt, bundle):
    bundle.cfg["root"]["readonly"] = False
    rep = rt.run_probe(bundle, "write", "/newfile", "hello")
    assert rep["ok"], rep
    assert (bundle.rootfs / "newfile").read_text() == "hello"


def test_root_readonly_in_mountinfo(rt, bundle):
    bundle.cfg["root"]["readonly"] = True
    assert "ro" in opts(mount_at(rt.run_probe(bundle), "/"))


def test_root_is_the_rootfs(rt, bundle):
    (bundle.rootfs / "marker").write_text("m")
    rep = rt.run_probe(bundle, "read", "/marker")
    assert rep["data"] == "m"


def test_root_absolute_path(rt, bundle):
    bundle.cfg["root"]["path"] = str(bundle.rootfs)
    assert rt.run_probe(bundle)["pid"] == 1


def test_no_pivot(rt, bundle):
    (bundle.rootfs / "marker").write_text("np")
    bundle.probe("read", "/marker")
    r = rt.run(bundle, flags=("--no-pivot",))
    assert r.returncode == 0, r.stderr
    assert '"data":"np"' in r.stdout


def test_create_no_pivot(rt, bundle):
    (bundle.rootfs / "marker").write_text("np")
    bundle.probe("read", "/marker")
    cid = rt.create(bundle, flags=("--no-pivot",))
    rt("start", cid)
    rt.wait_status(cid, "stopped")
    assert '"data":"np"' in rt.output(bundle, cid)


def test_old_root_not_visible(rt, bundle):
    rep = rt.run_probe(bundle)
    points = [m["mount_point"] for m in rep["mounts"]]
    assert all(not p.startswith(str(bundle.path)) for p in points), points
    # the host's own mounts (its devtmpfs /dev, say) are gone
    assert "devtmpfs" not in [m["fstype"] for m in rep["mounts"]]


def test_rootfs_propagation_private(rt, bundle):
    bundle.linux["rootfsPropagation"] = "private"
    assert mount_at(rt.run_probe(bundle), "/")["propagation"] == "none"


@pytest.mark.berth_only
@pytest.mark.parametrize("prop,want", [
    ("shared", "shared:"), ("unbindable", "unbindable")])
def test_rootfs_propagation(rt, bundle, prop, want):
    """runc 1.1.5 leaves "/" private for shared and fails on unbindable."""
    bundle.linux["rootfsPropagation"] = prop
    m = mount_at(rt.run_probe(bundle), "/")
    assert want in m["propagation"], m


def test_rootfs_propagation_slave(rt, bundle):
    bundle.linux["rootfsPropagation"] = "slave"
    m = mount_at(rt.run_probe(bundle), "/")
    assert "shared:" not in m["propagation"], m


# ---- bind mounts ----

def test_bind_mount_dir(rt, bundle):
    src = bundle.hostdir("vol")
    (src / "f").write_text("data")
    bundle.add_mount("/vol", "bind", str(src), ["rbind"])
    rep = rt.run_probe(bundle, "read", "/vol/f")
    assert rep["data"] == "data"


def test_bind_mount_file(rt, bundle):
    src = bundle.path / "single"
    src.write_text("one file")
    bundle.add_mount("/etc/single", "none", str(src), ["bind", "ro"])
    assert rt.run_probe(bundle, "read", "/etc/single")["data"] == "one file"


def test_bind_mount_type_none(rt, bundle):
    src = bundle.hostdir("vol")
    bundle.add_mount("/vol", "none", str(src), ["bind"])
    assert mount_at(rt.run_probe(bundle), "/vol") is not None


def test_bind_ro(rt, bundle):
    src = bundle.hostdir("vol")
    bundle.add_mount("/vol", "bind", str(src), ["bind", "ro"])
    rep = rt.run_probe(bundle, "write", "/vol/x", "y")
    assert rep["errno"] == errno.EROFS
    assert not (src / "x").exists()


def test_bind_rw_writes_reach_host(rt, bundle):
    src = bundle.hostdir("vol")
    bundle.add_mount("/vol", "bind", str(src), ["bind", "rw"])
    assert rt.run_probe(bundle, "write", "/vol/x", "from-ctr")["ok"]
    assert (src / "x").read_text() == "from-ctr"


def test_bind_ro_remount_denied(rt, bundle):
    """Without CAP_SYS_ADMIN the container cannot make a ro mount rw."""
    src = bundle.hostdir("vol")
    bundle.add_mount("/vol", "bind", str(src), ["bind", "ro"])
    rep = rt.run_probe(bundle, "mount-ro", "/vol")
    assert not rep["ok"] and rep["errno"] == errno.EPERM


@pytest.fixture
def nested(bundle):
    """A host dir with a tmpfs mounted below it (unmounted afterwards)."""
    src = bundle.hostdir("tree")
    (src / "sub").mkdir()
    assert run_cmd(["mount", "-t", "tmpfs", "-o", "size=1m", "nestedtmp",
                    str(src / "sub")]).returncode == 0
    (src / "sub" / "inner").write_text("nested")
    yield src
    assert run_cmd(["umount", "-l", str(src / "sub")]).returncode == 0


def test_bind_is_not_recursive(rt, bundle, nested):
    bundle.add_mount("/tree", "bind", str(nested), ["bind"])
    rep = rt.run_probe(bundle, "read", "/tree/sub/inner")
    assert not rep["ok"]


def test_rbind_is_recursive(rt, bundle, nested):
    bundle.add_mount("/tree", "bind", str(nested), ["rbind"])
    rep = rt.run_probe(bundle, "read", "/tree/sub/inner")
    assert rep["data"] == "nested"


def test_rro_is_recursive_read_only(rt, bundle, nested):
    bundle.add_mount("/tree", "bind", str(nested), ["rbind", "rro"])
    rep = rt.run_probe(bundle, "write", "/tree/sub/new", "x")
    assert rep["errno"] == errno.EROFS


def test_ro_rbind_leaves_submounts_writable(rt, bundle, nested):
    """Plain ro applies to the top mount only (as in runc 1.1)."""
    bundle.add_mount("/tree", "bind", str(nested), ["rbind", "ro"])
    top, sub = rt.run_sh(bundle, "/probe write /tree/new x; "
                         "/probe write /tree/sub/new x")
    assert top["errno"] == errno.EROFS
    assert sub["ok"], sub


@pytest.mark.parametrize("flag", ["nosuid", "nodev", "noexec"])
def test_mount_flags(rt, bundle, flag):
    bundle.add_mount("/mnt", "tmpfs", "tmpfs", [flag])
    assert flag in opts(mount_at(rt.run_probe(bundle), "/mnt"))


def test_mount_flags_absent(rt, bundle):
    bundle.add_mount("/mnt", "tmpfs", "tmpfs", [])
    o = opts(mount_at(rt.run_probe(bundle), "/mnt"))
    assert not o & {"nosuid", "nodev", "noexec", "ro"}


def test_noexec_enforced(rt, bundle):
    src = bundle.hostdir("bins")
    os.link(bundle.rootfs / "probe", src / "probe")
    bundle.add_mount("/bins", "bind", str(src), ["bind", "noexec"])
    bundle.args("/bins/probe")
    r = rt.run(bundle)
    assert r.returncode != 0


@pytest.mark.parametrize("flag,want", [
    ("noatime", "noatime"), ("relatime", "relatime"),
    ("strictatime", None), ("nodiratime", "nodiratime")])
def test_atime_flags(rt, bundle, flag, want):
    bundle.add_mount("/mnt", "tmpfs", "tmpfs", [flag])
    o = opts(mount_at(rt.run_probe(bundle), "/mnt"))
    if want:
        assert want in o
    else:  # strictatime: neither relatime nor noatime
        assert not o & {"relatime", "noatime"}


def test_ro_tmpfs(rt, bundle):
    bundle.add_mount("/mnt", "tmpfs", "tmpfs", ["ro"])
    rep = rt.run_probe(bundle, "write", "/mnt/x", "y")
    assert rep["errno"] == errno.EROFS


@pytest.mark.parametrize("prop,want", [
    ("shared", "shared:"), ("rshared", "shared:"), ("private", "none"),
    ("rprivate", "none"), ("unbindable", "unbindable"),
    ("runbindable", "unbindable")])
def test_mount_propagation_flags(rt, bundle, prop, want):
    src = bundle.hostdir("vol")
    bundle.add_mount("/vol", "bind", str(src), ["rbind", prop])
    m = mount_at(rt.run_probe(bundle), "/vol")
    assert want in m["propagation"], m


@pytest.mark.parametrize("prop", ["slave", "rslave"])
def test_mount_propagation_slave(rt, bundle, prop):
    bundle.linux["rootfsPropagation"] = "shared"
    src = bundle.hostdir("vol")
    bundle.add_mount("/vol", "bind", str(src), ["rbind", prop])
    m = mount_at(rt.run_probe(bundle), "/vol")
    assert "shared:" not in m["propagation"], m


def test_tmpfs_size_and_mode(rt, bundle):
    bundle.add_mount("/mnt", "tmpfs", "tmpfs", ["size=1m", "mode=0700"])
    m = mount_at(rt.run_probe(bundle), "/mnt")
    assert {"size=1024k", "mode=700"} <= superopts(m), m


def test_tmpfs_mode_on_new_dir(rt, bundle):
    bundle.add_mount("/newdir", "tmpfs", "tmpfs", ["mode=0710"])
    assert rt.run_probe(bundle, "stat", "/newdir")["mode"] == "0710"


def test_tmpfs_size_enforced(rt, bundle):
    bundle.add_mount("/mnt", "tmpfs", "tmpfs", ["size=64k"])
    bundle.args("/bin/sh", "-c",
                "dd if=/dev/zero of=/mnt/f bs=1k count=256 2>/dev/null")
    assert rt.run(bundle).returncode != 0


def test_mount_proc(rt, bundle):
    m = mount_at(rt.run_probe(bundle), "/proc")
    assert m["fstype"] == "proc"


def test_proc_shows_container_pids(rt, bundle):
    rep = rt.run_probe(bundle, "ls", "/proc")
    pids = [e for e in rep["entries"] if e.isdigit()]
    assert pids == ["1"]


def test_mount_sysfs(rt, bundle):
    m = mount_at(rt.run_probe(bundle), "/sys")
    assert m["fstype"] == "sysfs" and "ro" in opts(m)


def test_mount_sysfs_rw(rt, bundle):
    for m in bundle.cfg["mounts"]:
        if m["destination"] == "/sys":
            m["options"] = ["nosuid", "noexec", "nodev"]
    bundle.cfg["mounts"] = [m for m in bundle.cfg["mounts"]
                            if m["destination"] != "/sys/fs/cgroup"]
    m = mount_at(rt.run_probe(bundle), "/sys")
    assert "rw" in opts(m)


def test_mount_cgroup(rt, bundle):
    rep = rt.run_probe(bundle)
    cg = [m for m in rep["mounts"]
          if m["mount_point"].startswith("/sys/fs/cgroup")]
    assert any(m["fstype"] in ("cgroup", "cgroup2") for m in cg), cg
    for m in cg:
        if m["fstype"] in ("cgroup", "cgroup2"):
            assert "ro" in opts(m)


def test_mount_cgroup_shows_own_cgroup(rt, bundle):
    rep = rt.run_probe(bundle, "ls", "/sys/fs/cgroup")
    if "pids" in rep["entries"]:  # v1: one dir per controller
        path = "/sys/fs/cgroup/pids/cgroup.procs"
    else:
        path = "/sys/fs/cgroup/cgroup.procs"
    assert rt.run_probe(bundle, "read", path)["data"].split() == ["1"]


def test_mount_mqueue(rt, bundle):
    m = mount_at(rt.run_probe(bundle), "/dev/mqueue")
    assert m["fstype"] == "mqueue"


def test_mount_devpts(rt, bundle):
    m = mount_at(rt.run_probe(bundle), "/dev/pts")
    assert m["fstype"] == "devpts"
    assert {"ptmxmode=666", "mode=620", "gid=5"} <= superopts(m)


def test_mount_shm(rt, bundle):
    m = mount_at(rt.run_probe(bundle), "/dev/shm")
    assert m["fstype"] == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= opts(m)


def test_mount_destination_created(rt, bundle):
    bundle.add_mount("/a/b/c", "tmpfs", "tmpfs", [])
    assert mount_at(rt.run_probe(bundle), "/a/b/c") is not None
    assert (bundle.rootfs / "a" / "b" / "c").is_dir()


def test_mount_order_is_config_order(rt, bundle):
    bundle.add_mount("/mnt", "tmpfs", "tmpfs", ["size=1m"])
    bundle.add_mount("/mnt/inner", "tmpfs", "tmpfs", ["size=2m"])
    rep = rt.run_probe(bundle)
    pts = [m["mount_point"] for m in rep["mounts"]]
    assert pts.index("/mnt") < pts.index("/mnt/inner")


def test_mount_destination_symlink_stays_in_rootfs(rt, bundle):
    """A symlink in the rootfs to an absolute host path must be resolved
    inside the rootfs: nothing is created or mounted on the host."""
    host_target = f"/tmp/{rt.token}-escape"
    rt.files.append(host_target)
    os.symlink(host_target + "/newdir", bundle.rootfs / "evil")
    bundle.add_mount("/evil", "tmpfs", "tmpfs", ["size=1m"])
    rep = rt.run_probe(bundle)
    assert not os.path.exists(host_target)
    pts = [m["mount_point"] for m in rep["mounts"]]
    assert host_target + "/newdir" in pts  # resolved inside the container


def test_mount_destination_dotdot_stays_in_rootfs(rt, bundle):
    host_target = f"/tmp/{rt.token}-dotdot"
    rt.files.append(host_target)
    bundle.add_mount("/../../../../.." + host_target, "tmpfs", "tmpfs", [])
    rt.run_probe(bundle)
    assert not os.path.exists(host_target)


def test_bind_source_symlink_is_followed_on_host(rt, bundle):
    src = bundle.hostdir("real")
    (src / "f").write_text("via link")
    os.symlink(src, bundle.path / "link")
    bundle.add_mount("/vol", "bind", str(bundle.path / "link"), ["bind"])
    assert rt.run_probe(bundle, "read", "/vol/f")["data"] == "via link"


@pytest.mark.berth_only
def test_idmap_mount(rt, bundle):
    """on-disk id = containerID appears as hostID outside the mount"""
    src = bundle.hostdir("idm")
    (src / "f").write_text("x")
    os.chown(src / "f", 5, 5)
    (bundle.rootfs / "idm").mkdir()
    bundle.set_namespace("user")
    mapping = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["uidMappings"] = mapping
    bundle.linux["gidMappings"] = mapping
    bundle.add_mount("/idm", "bind", str(src), ["bind", "idmap"],
                     uidMappings=mapping, gidMappings=mapping)
    st = rt.run_probe(bundle, "stat", "/idm/f")
    assert st["uid"] == 5 and st["gid"] == 5


@pytest.mark.berth_only
def test_idmap_mount_without_userns(rt, bundle):
    src = bundle.hostdir("idm")
    (src / "f").write_text("x")  # owned by 0 on disk
    mapping = [{"containerID": 0, "hostID": 1000, "size": 1}]
    bundle.add_mount("/idm", "bind", str(src), ["bind", "idmap"],
                     uidMappings=mapping, gidMappings=mapping)
    st = rt.run_probe(bundle, "stat", "/idm/f")
    assert st["uid"] == 1000 and st["gid"] == 1000


@pytest.mark.berth_only
def test_idmap_without_any_mapping_is_error(rt, bundle):
    bundle.add_mount("/idm", "bind", str(bundle.hostdir("idm")),
                     ["bind", "idmap"])
    bundle.write()
    assert_error(rt.run(bundle), "/idm")


# ---- masked and read-only paths ----

def test_masked_file(rt, bundle):
    bundle.linux["maskedPaths"] = ["/proc/timer_list", "/proc/keys"]
    assert rt.run_probe(bundle, "read", "/proc/timer_list")["data"] == ""
    assert rt.run_probe(bundle, "read", "/proc/keys")["data"] == ""


def test_unmasked_file_readable(rt, bundle):
    bundle.linux["maskedPaths"] = []
    assert rt.run_probe(bundle, "read", "/proc/timer_list")["data"] != ""


def test_masked_dir(rt, bundle):
    bundle.linux["maskedPaths"] = ["/sys/firmware"]
    rep = rt.run_probe(bundle, "ls", "/sys/firmware")
    assert rep["entries"] == []


def test_masked_missing_path_ignored(rt, bundle):
    bundle.linux["maskedPaths"] = ["/proc/no-such-thing"]
    assert rt.run_probe(bundle)["pid"] == 1


def test_readonly_paths(rt, bundle):
    bundle.cfg["root"]["readonly"] = False
    bundle.linux["readonlyPaths"] = ["/tmp", "/proc/sys"]
    rep = rt.run_probe(bundle, "write", "/tmp/x", "y")
    assert rep["errno"] == errno.EROFS
    m = mount_at(rt.run_probe(bundle), "/proc/sys")
    assert "ro" in opts(m)


def test_readonly_path_writable_without(rt, bundle):
    bundle.cfg["root"]["readonly"] = False
    bundle.linux["readonlyPaths"] = []
    assert rt.run_probe(bundle, "write", "/tmp/x", "y")["ok"]
