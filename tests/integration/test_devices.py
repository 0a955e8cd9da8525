"""/dev: default devices and symlinks, linux.devices, the device cgroup."""
import errno

import pytest

DEFAULT_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7),
                   "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
DEFAULT_LINKS = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
                 "/dev/stdout": "/proc/self/fd/1",
                 "/dev/stderr": "/proc/self/fd/2", "/dev/ptmx": "pts/ptmx"}


def stat_in(rt, bundle, path):
    return rt.run_probe(bundle, "stat", path)


@pytest.mark.parametrize("name", sorted(DEFAULT_DEVICES))
def test_default_device(rt, bundle, name):
    st = stat_in(rt, bundle, f"/dev/{name}")
    assert st["type"] == "char"
    assert (st["major"], st["minor"]) == DEFAULT_DEVICES[name]
    assert st["mode"] == "0666"


@pytest.mark.parametrize("name", ["null", "zero", "full", "random", "urandom"])
def test_default_device_usable(rt, bundle, name):
    assert rt.run_probe(bundle, "open", f"/dev/{name}", "w")["ok"]


@pytest.mark.parametrize("path", sorted(DEFAULT_LINKS))
def test_default_symlinks(rt, bundle, path):
    st = stat_in(rt, bundle, path)
    assert st["type"] == "symlink" and st["target"] == DEFAULT_LINKS[path]


def test_dev_pts_and_shm_dirs(rt, bundle):
    assert stat_in(rt, bundle, "/dev/pts")["type"] == "dir"
    assert stat_in(rt, bundle, "/dev/shm")["type"] == "dir"


def test_no_console_without_terminal(rt, bundle):
    st = stat_in(rt, bundle, "/dev/console")
    assert not st["ok"] or st["type"] != "char" or st["major"] != 136


def test_no_host_devices(rt, bundle):
    rep = rt.run_probe(bundle, "ls", "/dev")
    assert not {"vda", "kmsg", "mem", "sda"} & set(rep["entries"])


def test_dev_is_tmpfs_from_config(rt, bundle):
    rep = rt.run_probe(bundle)
    dev = [m for m in rep["mounts"] if m["mount_point"] == "/dev"]
    assert dev and dev[-1]["fstype"] == "tmpfs"


def add_device(bundle, path, type_, major, minor, **kw):
    dev = {"path": path, "type": type_, "major": major, "minor": minor, **kw}
    bundle.linux.setdefault("devices", []).append(dev)
    return dev


def allow(bundle, type_, major, minor, access="rwm"):
    bundle.linux["resources"].setdefault("devices", []).append(
        {"allow": True, "type": type_, "major": major, "minor": minor,
         "access": access})


def test_linux_device_char(rt, bundle):
    add_device(bundle, "/dev/mynull", "c", 1, 3, fileMode=0o640, uid=1000,
               gid=1000)
    st = stat_in(rt, bundle, "/dev/mynull")
    assert st["type"] == "char" and (st["major"], st["minor"]) == (1, 3)
    assert st["mode"] == "0640"
    assert (st["uid"], st["gid"]) == (1000, 1000)


def test_linux_device_block(rt, bundle):
    add_device(bundle, "/dev/myloop", "b", 7, 200, fileMode=0o600)
    st = stat_in(rt, bundle, "/dev/myloop")
    assert st["type"] == "block" and (st["major"], st["minor"]) == (7, 200)


def test_linux_device_in_subdir(rt, bundle):
    add_device(bundle, "/dev/sub/dir/mydev", "c", 1, 5)
    st = stat_in(rt, bundle, "/dev/sub/dir/mydev")
    assert st["type"] == "char" and (st["major"], st["minor"]) == (1, 5)


def test_linux_device_allowed_by_cgroup(rt, bundle):
    add_device(bundle, "/dev/myzero", "c", 1, 5, fileMode=0o666)
    allow(bundle, "c", 1, 5)
    assert rt.run_probe(bundle, "open", "/dev/myzero", "r")["ok"]


def test_device_cgroup_denies_unlisted(rt, bundle):
    """An extra device not allowed in linux.resources.devices: EPERM."""
    add_device(bundle, "/dev/myloop", "b", 7, 0, fileMode=0o600)
    rep = rt.run_probe(bundle, "open", "/dev/myloop", "r")
    assert not rep["ok"] and rep["errno"] == errno.EPERM


def test_device_cgroup_mknod_allowed_but_not_open(rt, bundle):
    """Like runc: the default rules allow mknod (m) of any device, but not
    reading or writing one that is not allowed."""
    caps = bundle.process["capabilities"]
    for k in caps:
        caps[k] = caps[k] + ["CAP_MKNOD"]
    bundle.cfg["root"]["readonly"] = False
    # In /dev: a tmpfs without nodev (the bundle may live on a nodev /tmp,
    # where the open would fail with EACCES before the cgroup is asked).
    mk, op = rt.run_sh(bundle, "/probe mknod /dev/loop-test b 7 0; "
                       "/probe open /dev/loop-test r")
    assert mk["ok"], mk
    assert not op["ok"] and op["errno"] == errno.EPERM


def test_mknod_needs_cap(rt, bundle):
    bundle.cfg["root"]["readonly"] = False
    rep = rt.run_probe(bundle, "mknod", "/tmp/null2", "c", "1", "3")
    assert not rep["ok"] and rep["errno"] == errno.EPERM


def test_device_cgroup_allow_read_only(rt, bundle):
    add_device(bundle, "/dev/myloop", "b", 7, 0, fileMode=0o600)
    allow(bundle, "b", 7, 0, access="r")
    assert rt.run_probe(bundle, "open", "/dev/myloop", "r")["ok"]
    rep = rt.run_probe(bundle, "open", "/dev/myloop", "w")
    assert not rep["ok"] and rep["errno"] == errno.EPERM


def test_linux_device_with_user_namespace(rt, bundle):
    """With a user namespace devices cannot be mknod'ed: bind-mounted."""
    bundle.set_namespace("user")
    m = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["uidMappings"] = bundle.linux["gidMappings"] = m
    st = stat_in(rt, bundle, "/dev/null")
    assert st["type"] == "char" and (st["major"], st["minor"]) == (1, 3)
    assert rt.run_probe(bundle, "open", "/dev/null", "w")["ok"]
