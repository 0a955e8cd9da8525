"""Unpacking: the rich test image (every entry type, whiteouts, opaque dirs,
hard and soft links, setuid, xattrs, devices) gives exactly the tree umoci
gives, through an overlay bundle and a copied one; the bundle runs."""
import json
import os
import subprocess

import pytest
from conftest import RUNTIME, mounts_under
from imagegen import busybox_image, listing, rich_image


def umoci_unpack(layout, tag, dest):
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:{tag}", dest], check=True, capture_output=True)
    return f"{dest}/rootfs"


@pytest.fixture
def rich(berth):
    img = rich_image()
    archive = img.oci_archive(f"{berth.tmp}/rich.tar", ref_name="rich:1")
    berth("load", "-i", archive)
    ref = umoci_unpack(img.oci_layout(f"{berth.tmp}/layout", ref_name="rich"), "rich", f"{berth.tmp}/umoci")
    return img, ref


def test_copy_bundle_matches_umoci(berth, rich):
    img, ref = rich
    berth("bundle", "--copy", "rich:1", f"{berth.tmp}/copy")
    got = listing(f"{berth.tmp}/copy/rootfs")
    assert got == listing(ref)
    # Spot checks of what the listing encodes.
    root = f"{berth.tmp}/copy/rootfs"
    assert not os.path.exists(f"{root}/var/lib/app/a")            # whiteout
    assert sorted(os.listdir(f"{root}/data")) == ["new"]          # opaque dir
    assert not os.path.exists(f"{root}/gone-dir")
    assert os.readlink(f"{root}/replaced") == "bin/busybox"
    assert os.stat(f"{root}/usr/bin/suid").st_mode & 0o7777 == 0o4755
    assert os.getxattr(f"{root}/ping", "security.capability")[:4] == bytes([0, 0, 0, 2])
    assert "user.empty" not in os.listxattr(f"{root}/xattr-file")  # an empty pax value deletes
    assert os.stat(f"{root}/opt/one").st_ino == os.stat(f"{root}/opt/two").st_ino
    assert os.stat(f"{root}/old").st_mtime == 946684800
    # The same layers compressed with zstd unpack to the same tree.
    zimg = rich_image(("zstd", "zstd", "zstd"))
    berth("load", "-i", zimg.oci_archive(f"{berth.tmp}/zstd.tar", ref_name="richz:1"))
    berth("bundle", "--copy", "richz:1", f"{berth.tmp}/zcopy")
    assert listing(f"{berth.tmp}/zcopy/rootfs") == got


def test_overlay_bundle_matches_umoci(berth, rich):
    img, ref = rich
    bundle = f"{berth.tmp}/ovl"
    p = berth("bundle", "rich:1", bundle)
    assert "copied" not in p.err, p.err  # overlayfs is there on this machine
    assert any(line.split()[4] == f"{bundle}/rootfs" for line in open("/proc/self/mountinfo"))
    assert listing(f"{bundle}/rootfs", links=False) == listing(ref, links=False)
    # Writes go to the bundle's upper dir, not to the shared snapshots.
    with open(f"{bundle}/rootfs/etc/passwd", "a") as f:
        f.write("new:x:1:1::/:/bin/sh\n")
    assert os.path.exists(f"{bundle}/.berth/upper/etc/passwd")
    berth("bundle", "--remove", bundle)
    assert not os.path.exists(bundle)
    assert mounts_under(bundle) == []
    berth("bundle", "--copy", "rich:1", f"{berth.tmp}/again")
    assert "new:x" not in open(f"{berth.tmp}/again/rootfs/etc/passwd").read()


def test_config_json_from_the_image(berth, rich):
    berth("bundle", "rich:1", f"{berth.tmp}/b")
    spec = json.load(open(f"{berth.tmp}/b/config.json"))
    p = spec["process"]
    assert p["args"] == ["/bin/sh", "-c", "cat /layer2"]
    assert p["cwd"] == "/tmp"
    assert p["user"]["uid"] == 1000 and p["user"]["gid"] == 1000 and p["user"]["additionalGids"] == [50]
    assert "PATH=/bin" in p["env"]
    a = spec["annotations"]
    assert a["org.opencontainers.image.stopSignal"] == "SIGINT"
    assert a["org.opencontainers.image.exposedPorts"] == "80/tcp"
    assert a["org.example"] == "yes"
    assert spec["root"]["path"] == "rootfs"
    berth("bundle", "--remove", f"{berth.tmp}/b")


def test_bundle_runs_with_berth_runtime(berth):
    img = busybox_image(cmd=("/bin/sh", "-c", "id -u; cat /etc/hostname 2>/dev/null; echo ran in $PWD"))
    berth("load", "-i", img.oci_archive(f"{berth.tmp}/bb.tar", ref_name="bb:1"))
    state = f"{berth.tmp}/state"
    for mode in ("overlay", "copy"):
        bundle = f"{berth.tmp}/bundle-{mode}"
        berth("bundle", *(["--copy"] if mode == "copy" else []), "bb:1", bundle)
        cid = os.path.basename(berth.tmp) + "-" + mode
        p = subprocess.run([RUNTIME, "--root", state, "run", "--bundle", bundle, cid],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines()[0] == "0" and "ran in /" in p.stdout
        berth("bundle", "--remove", bundle)


def test_rmi_refuses_an_image_a_bundle_uses(berth, rich):
    berth("bundle", "rich:1", f"{berth.tmp}/b")
    p = berth.fails("rmi", "rich:1")
    assert "used by a bundle" in p.err
    berth("image", "prune", "-a")  # keeps it: in use
    assert berth("images", "-q").out.strip()
    berth("rmi", "-f", "rich:1")
    # Its snapshots stay while the bundle uses them.
    assert os.listdir(f"{berth.tmp}/b/rootfs")
    berth("image", "prune")
    assert os.listdir(f"{berth.root}/snapshots")
    berth("bundle", "--remove", f"{berth.tmp}/b")
    berth("image", "prune")
    assert os.listdir(f"{berth.root}/snapshots") == []


def test_bundle_errors_leave_nothing(berth, rich):
    before = berth.store_state()
    os.makedirs(f"{berth.tmp}/full")
    open(f"{berth.tmp}/full/config.json", "w").close()
    p = berth.fails("bundle", "rich:1", f"{berth.tmp}/full")
    assert "must be empty" in p.err
    assert os.listdir(f"{berth.tmp}/full") == ["config.json"]
    p = berth.fails("bundle", "nothere:1", f"{berth.tmp}/x")
    assert "no such image" in p.err and not os.path.exists(f"{berth.tmp}/x")
    p = berth.fails("bundle", "--remove", f"{berth.tmp}/full")
    assert "not a bundle" in p.err and os.path.exists(f"{berth.tmp}/full/config.json")
    assert berth.store_state() == before
