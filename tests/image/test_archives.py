"""save and load, against skopeo and umoci (Debian's) and docker's formats;
a bad archive is refused whole; a killed load leaves a store that prune and
the next load handle."""
import hashlib
import json
import os
import signal
import subprocess
import tarfile
import time

import pytest
from conftest import BERTH, mounts_under
from imagegen import Image, Layer, busybox_image, busybox_layer, config_for, listing, rich_image, sha256, tar_dir


def skopeo(*args):
    p = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"skopeo {' '.join(args)}: {p.stderr}"
    return p.stdout


def test_load_a_layout_written_by_umoci(berth):
    layout = f"{berth.tmp}/umoci-layout"
    subprocess.run(["umoci", "init", "--layout", layout], check=True)
    subprocess.run(["umoci", "new", "--image", f"{layout}:base"], check=True)
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:base", f"{berth.tmp}/b"], check=True)
    with open("/bin/busybox", "rb") as src, open(f"{berth.tmp}/b/rootfs/busybox", "wb") as dst:
        dst.write(src.read())
    os.chmod(f"{berth.tmp}/b/rootfs/busybox", 0o755)
    subprocess.run(["umoci", "repack", "--image", f"{layout}:base", f"{berth.tmp}/b"], check=True)
    subprocess.run(["umoci", "config", "--image", f"{layout}:base", "--config.cmd", "/busybox"], check=True)
    # A tag only in ref.name names no repository: loaded untagged, by id.
    tar_dir(layout, f"{berth.tmp}/umoci.tar")
    p = berth("load", "-i", f"{berth.tmp}/umoci.tar")
    assert p.out.startswith("Loaded image ID: sha256:"), p.out
    image_id = p.out.split()[-1]
    info = json.loads(berth("image", "inspect", image_id).out)[0]
    assert info["Config"]["Cmd"] == ["/busybox"]
    berth("bundle", "--copy", image_id, f"{berth.tmp}/bundle")
    assert os.path.getsize(f"{berth.tmp}/bundle/rootfs/busybox") == os.path.getsize("/bin/busybox")


def test_skopeo_reads_what_berth_saves_in_both_formats(berth):
    img = rich_image()
    berth("load", "-i", img.oci_archive(f"{berth.tmp}/in.tar", ref_name="rich:1"))
    for fmt, transport in (("docker-archive", "docker-archive"), ("oci-archive", "oci-archive")):
        out = f"{berth.tmp}/saved-{fmt}.tar"
        berth("save", "--format", fmt, "-o", out, "rich:1")
        ref = f"{transport}:{out}" + (":docker.io/library/rich:1" if transport == "oci-archive" else "")
        info = json.loads(skopeo("inspect", ref))
        # skopeo serves a docker archive's layers uncompressed: by diff_id.
        want = img.config["rootfs"]["diff_ids"] if fmt == "docker-archive" else \
            [l["digest"] for l in img.manifest["layers"]]
        assert info["Layers"] == want
        config = json.loads(skopeo("inspect", "--config", ref))
        assert config["rootfs"]["diff_ids"] == img.config["rootfs"]["diff_ids"]
        # And copies it on, to a layout umoci unpacks to the same tree.
        layout = f"{berth.tmp}/copied-{fmt}"
        skopeo("copy", ref, f"oci:{layout}:x")
        subprocess.run(["umoci", "unpack", "--image", f"{layout}:x", f"{layout}.b"], check=True, capture_output=True)
        berth("bundle", "--copy", "rich:1", f"{berth.tmp}/mine-{fmt}")
        assert listing(f"{layout}.b/rootfs") == listing(f"{berth.tmp}/mine-{fmt}/rootfs")


def test_berth_loads_what_skopeo_writes(berth):
    img = busybox_image()
    layout = img.oci_layout(f"{berth.tmp}/layout", ref_name="bb")
    skopeo("copy", f"oci:{layout}:bb", f"docker-archive:{berth.tmp}/skopeo-docker.tar:skopeo/bb:docker")
    skopeo("copy", f"oci:{layout}:bb", f"oci-archive:{berth.tmp}/skopeo-oci.tar:skopeo/bb:oci")
    assert berth("load", "-i", f"{berth.tmp}/skopeo-docker.tar").out == "Loaded image: skopeo/bb:docker\n"
    assert berth("load", "-i", f"{berth.tmp}/skopeo-oci.tar").out == "Loaded image: skopeo/bb:oci\n"
    ids = berth("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").out.splitlines()
    assert len(ids) == 2 and all(line.split()[1] == img.id[7:19] for line in ids), ids


def test_docker_legacy_archive_loads(berth):
    l1 = busybox_layer().bytes()
    l2 = Layer().file("etc/motd", "hi").bytes()
    img = Image([l1, l2, l2], config_for([l1, l2, l2]), ["none"] * 3)  # a repeated layer: a symlink
    archive = img.docker_archive_legacy(f"{berth.tmp}/legacy.tar", repo_tags=("legacy/app:1", "legacy/app:2"))
    p = berth("load", "-i", archive)
    assert p.out == "Loaded image: legacy/app:1\nLoaded image: legacy/app:2\n"
    info = json.loads(berth("image", "inspect", "legacy/app:2").out)[0]
    assert info["Id"] == img.id
    berth("bundle", "--copy", "legacy/app:1", f"{berth.tmp}/b")
    assert open(f"{berth.tmp}/b/rootfs/etc/motd").read() == "hi"
    # Compressed archives load too (docker load takes gzip).
    subprocess.run(["gzip", "-k", archive], check=True)
    berth.fails("rmi", "legacy/app:1", "legacy/app:2")  # the bundle uses it
    berth("bundle", "--remove", f"{berth.tmp}/b")
    berth("rmi", "legacy/app:2")
    assert berth("load", "-i", archive + ".gz").out.startswith("Loaded image: legacy/app:1")


def test_save_load_round_trip(berth):
    img = rich_image()
    berth("load", "-i", img.oci_archive(f"{berth.tmp}/in.tar", ref_name="docker.io/library/rich:1"))
    berth("tag", "rich:1", "rich:2")
    berth("save", "-o", f"{berth.tmp}/out.tar", "rich:1", "rich:2")
    with tarfile.open(f"{berth.tmp}/out.tar") as t:
        names = t.getnames()
        manifest = json.load(t.extractfile("manifest.json"))
    assert "index.json" in names and "oci-layout" in names
    assert [m["RepoTags"] for m in manifest] == [["rich:1"], ["rich:2"]]
    berth("rmi", "rich:1", "rich:2")
    p = berth("load", "-i", f"{berth.tmp}/out.tar")
    assert p.out == "Loaded image: rich:1\nLoaded image: rich:2\n"
    assert berth("images", "--format", "{{.ID}}").out.split() == [img.id[7:19]] * 2
    # To standard output, and from standard input.
    with open(f"{berth.tmp}/stdout.tar", "wb") as f:
        assert subprocess.run([BERTH, "--root", berth.root, "save", "rich:1"], stdout=f).returncode == 0
    berth("rmi", "rich:1", "rich:2")
    with open(f"{berth.tmp}/stdout.tar", "rb") as f:
        assert berth("load", input=f.read()).out == "Loaded image: rich:1\n"


def bad_layer_archive(berth, name, layer_tar, **kw):
    img = Image([busybox_layer().bytes(), layer_tar], compressions=["gzip", "gzip"], **kw)
    return img, img.oci_archive(f"{berth.tmp}/{name}.tar", ref_name=f"bad/{name}:1")


def test_digest_and_diff_id_mismatches_are_refused_whole(berth):
    before = berth.store_state()
    good = Layer().file("a", "a").bytes()
    # diff_id: the config says another tar.
    img = Image([good], config_for([Layer().file("a", "b").bytes()]))
    p = berth.fails("load", "-i", img.oci_archive(f"{berth.tmp}/diffid.tar", ref_name="bad/diffid:1"))
    assert "diff_id" in p.err
    # digest: a blob whose content does not match its name.
    img = busybox_image()
    layout = img.oci_layout(f"{berth.tmp}/tampered")
    layer = img.manifest["layers"][0]["digest"].split(":")[1]
    with open(f"{layout}/blobs/sha256/{layer}", "r+b") as f:
        f.seek(100)
        f.write(b"tampered")
    tar_dir(layout, f"{berth.tmp}/tampered.tar")
    p = berth.fails("load", "-i", f"{berth.tmp}/tampered.tar")
    assert layer in p.err and "does not match" in p.err
    # A manifest naming a blob the archive lacks.
    img = busybox_image()
    layout = img.oci_layout(f"{berth.tmp}/missing")
    os.unlink(f"{layout}/blobs/sha256/" + img.manifest["config"]["digest"].split(":")[1])
    tar_dir(layout, f"{berth.tmp}/missing.tar")
    p = berth.fails("load", "-i", f"{berth.tmp}/missing.tar")
    assert "not in the archive" in p.err
    # Neither format.
    with tarfile.open(f"{berth.tmp}/neither.tar", "w") as t:
        t.add("/etc/hostname", "hostname")
    p = berth.fails("load", "-i", f"{berth.tmp}/neither.tar")
    assert "neither a docker archive" in p.err
    assert berth.store_state() == before


def test_killed_load_then_prune_and_load_again(berth):
    # Big enough that the kill lands while the archive is being read.
    big = Layer().file("big", os.urandom(64 << 20)).bytes()
    img = Image([busybox_layer().bytes(), big], compressions=["gzip", "none"])
    archive = img.oci_archive(f"{berth.tmp}/big.tar", ref_name="big:1")
    for delay in (0.05, 0.3):
        p = subprocess.Popen([BERTH, "--root", berth.root, "load", "-i", archive],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
    berth("image", "prune")
    assert os.listdir(f"{berth.root}/ingest") == []
    assert [n for n in os.listdir(f"{berth.root}/snapshots") if n.startswith("tmp-")] == []
    assert berth("load", "-i", archive).out == "Loaded image: big:1\n"
    berth("bundle", "--copy", "big:1", f"{berth.tmp}/b")
    assert os.path.getsize(f"{berth.tmp}/b/rootfs/big") == 64 << 20
    # A kill during a bundle's unpack: its snapshot dirs were temp dirs.
    berth("bundle", "--remove", f"{berth.tmp}/b")
    berth("rmi", "big:1")
    berth("load", "-i", archive)
    for d in os.listdir(f"{berth.root}/snapshots"):
        subprocess.run(["rm", "-rf", f"{berth.root}/snapshots/{d}"], check=True)
    p = subprocess.Popen([BERTH, "--root", berth.root, "bundle", "big:1", f"{berth.tmp}/k"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.2)
    p.send_signal(signal.SIGKILL)
    p.wait()
    for mp in mounts_under(f"{berth.tmp}/k"):
        subprocess.run(["umount", mp], check=True)
    subprocess.run(["rm", "-rf", f"{berth.tmp}/k"], check=True)
    berth("image", "prune")
    assert [n for n in os.listdir(f"{berth.root}/snapshots") if n.startswith("tmp-")] == []
    berth("bundle", "--copy", "big:1", f"{berth.tmp}/k2")
    assert os.path.getsize(f"{berth.tmp}/k2/rootfs/big") == 64 << 20


def test_multi_platform_index(berth):
    """An index with amd64 and arm64 images (Docker's manifest list media
    types for one of them): the host's is used, --platform picks the other."""
    amd = Image([Layer().file("arch", "amd64").bytes()])
    arm_tar = Layer().file("arch", "arm64").bytes()
    arm_cfg = config_for([arm_tar])
    arm_cfg["architecture"], arm_cfg["variant"] = "arm64", "v8"
    arm = Image([arm_tar], arm_cfg)
    layout = f"{berth.tmp}/multi"
    amd.oci_layout(layout)
    arm.oci_layout(f"{layout}.arm")
    for name in os.listdir(f"{layout}.arm/blobs/sha256"):
        os.rename(f"{layout}.arm/blobs/sha256/{name}", f"{layout}/blobs/sha256/{name}")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
             "manifests": [
                 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(arm.manifest_bytes),
                  "size": len(arm.manifest_bytes), "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(amd.manifest_bytes),
                  "size": len(amd.manifest_bytes), "platform": {"os": "linux", "architecture": "amd64"}}]}
    ib = json.dumps(index).encode()
    with open(f"{layout}/blobs/sha256/" + hashlib.sha256(ib).hexdigest(), "wb") as f:
        f.write(ib)
    with open(f"{layout}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": index["mediaType"], "digest": sha256(ib), "size": len(ib),
             "annotations": {"org.opencontainers.image.ref.name": "multi/arch:1"}}]}, f)
    tar_dir(layout, f"{berth.tmp}/multi.tar")
    assert berth("load", "-i", f"{berth.tmp}/multi.tar").out == "Loaded image: multi/arch:1\n"
    assert berth("images", "-q").out.split() == [amd.id[7:19]]
    info = json.loads(berth("image", "inspect", "multi/arch:1").out)[0]
    assert info["Id"] == amd.id and info["Descriptor"]["digest"] == sha256(ib)
    info = json.loads(berth("image", "inspect", "--platform", "linux/arm64", "multi/arch:1").out)[0]
    assert info["Id"] == arm.id and info["Architecture"] == "arm64"
    berth("bundle", "--copy", "--platform", "linux/arm64", "multi/arch:1", f"{berth.tmp}/arm")
    assert open(f"{berth.tmp}/arm/rootfs/arch").read() == "arm64"
    p = berth.fails("image", "inspect", "--platform", "linux/s390x", "multi/arch:1")
    assert "s390x" in p.err


def test_sha512_blobs(berth):
    """A layout whose manifest, config and layer go by sha512."""
    layer = Layer().file("hello", "sha512").bytes()
    img = Image([layer], compressions=["gzip"])
    layout = f"{berth.tmp}/s512"
    os.makedirs(f"{layout}/blobs/sha512")

    def put(b):
        h = hashlib.sha512(b).hexdigest()
        with open(f"{layout}/blobs/sha512/{h}", "wb") as f:
            f.write(b)
        return {"digest": "sha512:" + h, "size": len(b)}

    manifest = dict(img.manifest)
    manifest["config"] = {**img.manifest["config"], **put(img.config_bytes)}
    manifest["layers"] = [{**img.manifest["layers"][0], **put(img.blobs_[0])}]
    mb = json.dumps(manifest).encode()
    with open(f"{layout}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": manifest["mediaType"], **put(mb),
                   "annotations": {"org.opencontainers.image.ref.name": "s512/img:1"}}]}, f)
    with open(f"{layout}/oci-layout", "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    tar_dir(layout, f"{berth.tmp}/s512.tar")
    assert berth("load", "-i", f"{berth.tmp}/s512.tar").out == "Loaded image: s512/img:1\n"
    assert len(os.listdir(f"{berth.root}/blobs/sha512")) == 3
    info = json.loads(berth("image", "inspect", "s512/img:1").out)[0]
    assert info["Id"].startswith("sha512:")
    berth("bundle", "--copy", "s512/img:1", f"{berth.tmp}/b")
    assert open(f"{berth.tmp}/b/rootfs/hello").read() == "sha512"
    berth("bundle", "--remove", f"{berth.tmp}/b")
    berth("rmi", "s512/img:1")
    assert os.listdir(f"{berth.root}/blobs/sha512") == []


def test_an_image_of_another_platform_is_listed_and_removable(berth):
    tar_ = Layer().file("arch", "s390x").bytes()
    cfg = config_for([tar_])
    cfg["architecture"] = "s390x"
    img = Image([tar_], cfg)
    layout = img.oci_layout(f"{berth.tmp}/s390x")
    ib = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(img.manifest_bytes),
         "size": len(img.manifest_bytes), "platform": {"os": "linux", "architecture": "s390x"}}]}).encode()
    with open(f"{layout}/blobs/sha256/" + hashlib.sha256(ib).hexdigest(), "wb") as f:
        f.write(ib)
    with open(f"{layout}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha256(ib), "size": len(ib),
             "annotations": {"org.opencontainers.image.ref.name": "other/arch:1"}}]}, f)
    tar_dir(layout, f"{berth.tmp}/s390x.tar")
    assert berth("load", "-i", f"{berth.tmp}/s390x.tar").out == "Loaded image: other/arch:1\n"
    assert "other/arch" in berth("images").out
    p = berth.fails("bundle", "other/arch:1", f"{berth.tmp}/b")
    assert "s390x" in p.err or "platform" in p.err
    berth("tag", "other/arch:1", "other/arch:2")
    assert info_of(berth, "other/arch:2", "linux/s390x")["Architecture"] == "s390x"
    berth("rmi", "other/arch:1", "other/arch:2")
    assert berth("images", "-q").out == ""
    assert os.listdir(f"{berth.root}/blobs/sha256") == []


def info_of(berth, name, platform):
    return json.loads(berth("image", "inspect", "--platform", platform, name).out)[0]


def test_save_then_load_keeps_the_manifest_digest(berth):
    img = busybox_image()
    berth("load", "-i", img.oci_archive(f"{berth.tmp}/in.tar", ref_name="keep/digest:1"))
    before = json.loads(berth("image", "inspect", "keep/digest:1").out)[0]["Descriptor"]["digest"]
    assert before == sha256(img.manifest_bytes)
    berth("save", "-o", f"{berth.tmp}/out.tar", "keep/digest:1")
    berth("rmi", "keep/digest:1")
    berth("load", "-i", f"{berth.tmp}/out.tar")
    assert json.loads(berth("image", "inspect", "keep/digest:1").out)[0]["Descriptor"]["digest"] == before
    assert berth("image", "inspect", f"keep/digest@{before}").returncode == 0
