"""berth push and pull against the three set-ups (plain HTTP, basic auth,
TLS with a private CA), and against the peers: what skopeo pushed berth
pulls, what berth pushed skopeo and podman pull, with identical digests."""
import json
import os
from urllib.parse import parse_qs, urlsplit

import pytest
from imagegen import sha256
from regimages import (inspect, layered, load, multi, podman_pull, push_result, run, sha256_hex, single,
                       skopeo_push, skopeo_raw, tree)

IMAGES = {"single": single, "layered": layered, "multi": multi}


def digest_of(img):
    return img.digest if hasattr(img, "images") else sha256(img.manifest_bytes)


@pytest.mark.parametrize("what", IMAGES)
def test_push_then_pull(berth, reg, what):
    """berth push of a loaded image; berth pull of it into another store
    gives the same digest and the same tree."""
    img = IMAGES[what]()
    load(berth, img, f"src/{what}:1")
    dest = f"{reg.host}/push/{what}:v1"
    p = berth("push", *reg.berth_flags(), f"src/{what}:1", dest)
    tag, digest, size = push_result(p)
    raw = skopeo_raw(berth.env, reg, dest)
    assert (tag, digest, size) == ("v1", sha256_hex(raw), len(raw))
    assert digest == digest_of(img)  # the manifest went as it was loaded
    assert f"{reg.host}/push/{what}@{digest}" in inspect(berth, f"src/{what}:1")["RepoDigests"]

    other = berth.other_store("store2")
    p = other("pull", *reg.berth_flags(), dest)
    assert p.out.strip().splitlines()[-1] == dest
    info = inspect(other, dest)
    assert f"{reg.host}/push/{what}@{digest}" in info["RepoDigests"]
    assert tree(other, dest) == tree(berth, f"src/{what}:1")
    if what == "multi":
        assert info["Architecture"] == "amd64"
        # One platform is pulled: the other comes with --platform.
        other("pull", *reg.berth_flags(), "--platform", "linux/arm64", dest)
        arm = inspect(other, dest)
        assert arm["Architecture"] == "arm64" and arm["Id"] == img.images["arm64"].id
        assert tree(other, dest) == tree(berth, f"src/{what}:1", "linux/arm64")


@pytest.mark.parametrize("what", IMAGES)
def test_pull_what_skopeo_pushed(berth, reg, what):
    img = IMAGES[what]()
    ref = f"{reg.host}/skopeo/{what}:s1"
    skopeo_push(berth.env, img, f"{berth.tmp}/layout", reg, ref, tag="s1")
    digest = sha256_hex(skopeo_raw(berth.env, reg, ref))
    p = berth("pull", *reg.berth_flags(), ref)
    assert p.out.strip().splitlines()[-1] == ref
    assert f"{reg.host}/skopeo/{what}@{digest}" in inspect(berth, ref)["RepoDigests"]
    loaded = berth.other_store("loaded")
    load(loaded, img, "loaded/img:1")
    assert tree(berth, ref) == tree(loaded, "loaded/img:1")
    if what == "multi":
        assert tree(berth, ref, "linux/arm64") == tree(loaded, "loaded/img:1", "linux/arm64")


def test_skopeo_and_podman_pull_what_berth_pushed(berth, reg):
    img = layered()
    load(berth, img, "src/rich:1")
    ref = f"{reg.host}/peers/rich:p1"
    _, digest, _ = push_result(berth("push", *reg.berth_flags(), "src/rich:1", ref))
    run(["skopeo", "copy", "-q", "--preserve-digests", *reg.skopeo_flags("src"), f"docker://{ref}",
         f"oci:{berth.tmp}/out:p1"], berth.env)
    index = json.load(open(f"{berth.tmp}/out/index.json"))
    assert index["manifests"][0]["digest"] == digest
    pd, repo_digests = podman_pull(berth.tmp, berth.env, reg, ref)
    assert pd == digest and f"{reg.host}/peers/rich@{digest}" in repo_digests


def test_skopeo_pulls_a_multi_platform_index_berth_pushed(berth, reg):
    img = multi()
    load(berth, img, "src/multi:1")
    ref = f"{reg.host}/peers/multi:m1"
    _, digest, _ = push_result(berth("push", *reg.berth_flags(), "src/multi:1", ref))
    assert digest == img.digest
    run(["skopeo", "copy", "-q", "--all", "--preserve-digests", *reg.skopeo_flags("src"), f"docker://{ref}",
         f"oci:{berth.tmp}/out:m1"], berth.env)
    assert json.load(open(f"{berth.tmp}/out/index.json"))["manifests"][0]["digest"] == img.digest
    for a in img.images.values():
        assert os.path.exists(f"{berth.tmp}/out/blobs/sha256/{sha256(a.manifest_bytes)[7:]}")


def test_pull_by_digest_and_quiet(berth, reg):
    img = single()
    ref = f"{reg.host}/bydigest/img"
    skopeo_push(berth.env, img, f"{berth.tmp}/layout", reg, f"{ref}:d1", tag="d1")
    digest = sha256(img.manifest_bytes)
    p = berth("pull", "-q", *reg.berth_flags(), f"{ref}@{digest}")
    assert p.out == f"{ref}@{digest}\n"
    info = inspect(berth, f"{ref}@{digest}")
    assert info["Id"] == img.id and f"{ref}@{digest}" in info["RepoDigests"]
    # Pulling again is a no-op that still names what was pulled.
    p = berth("pull", "--quiet", *reg.berth_flags(), f"{ref}:d1")
    assert p.out == f"{ref}:d1\n"
    # Without -q (not on a terminal) plain progress lines, the reference last.
    other = berth.other_store("store2")
    p = other("pull", *reg.berth_flags(), f"{ref}:d1")
    lines = p.out.strip().splitlines()
    assert len(lines) > 1 and lines[-1] == f"{ref}:d1"
    assert "\r" not in p.out and "\x1b" not in p.out  # no terminal control


def test_pull_platform(berth, reg):
    img = multi()
    ref = f"{reg.host}/plat/img:1"
    skopeo_push(berth.env, img, f"{berth.tmp}/layout", reg, ref, tag="1")
    berth("pull", "--platform", "linux/arm64", *reg.berth_flags(), ref)
    arm = img.images["arm64"]
    info = inspect(berth, ref, "linux/arm64")
    assert info["Id"] == arm.id and info["Architecture"] == "arm64"
    t = tree(berth, ref, "linux/arm64")
    assert ("arch", "f", "0o644", "0", "0", "5") in t
    # Only that platform's blobs came.
    blobs = set(os.listdir(f"{berth.root}/blobs/sha256"))
    assert arm.manifest["layers"][0]["digest"][7:] in blobs
    assert img.images["amd64"].manifest["layers"][0]["digest"][7:] not in blobs
    p = berth.fails("pull", "--platform", "linux/s390x", *reg.berth_flags(), ref)
    assert "s390x" in p.err


def test_push_to_another_repo_mounts(berth, reg):
    img = layered()
    load(berth, img, "src/rich:1")
    berth("push", *reg.berth_flags(), "src/rich:1", f"{reg.host}/mount/a:1")
    berth("tag", "src/rich:1", f"{reg.host}/mount/b:1")
    before = len(reg.access_log())
    _, digest, _ = push_result(berth("push", *reg.berth_flags(), f"{reg.host}/mount/b:1"))
    assert digest == sha256(img.manifest_bytes)
    log = reg.access_log()[before:]
    blobs = [d["digest"] for d in img.manifest["layers"]] + [img.manifest["config"]["digest"]]
    for d in blobs:
        mounts = [x for x in log if x[0] == "POST" and urlsplit(x[1]).path == "/v2/mount/b/blobs/uploads/"
                  and parse_qs(urlsplit(x[1]).query) == {"mount": [d], "from": ["mount/a"]}]
        assert mounts and mounts[-1][2] == 201, f"{d} not mounted from mount/a:\n{log}"
    assert not [x for x in log if x[0] in ("PATCH", "PUT") and "/blobs/uploads/" in x[1]], log
    assert skopeo_raw(berth.env, reg, f"{reg.host}/mount/b:1") == img.manifest_bytes


def test_push_twice_skips_blobs(berth, reg):
    img = layered()
    load(berth, img, "src/rich:1")
    dest = f"{reg.host}/twice/img:1"
    first = push_result(berth("push", *reg.berth_flags(), "src/rich:1", dest))
    before = len(reg.access_log())
    second = push_result(berth("push", *reg.berth_flags(), "src/rich:1", dest))
    assert first == second
    log = reg.access_log()[before:]
    assert not [x for x in log if "/blobs/uploads/" in x[1]], log
    heads = [x for x in log if x[0] == "HEAD" and "/v2/twice/img/blobs/" in x[1]]
    blobs = [d["digest"] for d in img.manifest["layers"]] + [img.manifest["config"]["digest"]]
    assert sorted({x[1].rsplit("/", 1)[1] for x in heads}) == sorted(blobs)
    assert all(x[2] == 200 for x in heads)


def test_manifest_inspect_is_raw(berth, reg):
    for what, img in (("single", single()), ("multi", multi())):
        ref = f"{reg.host}/raw/{what}:1"
        skopeo_push(berth.env, img, f"{berth.tmp}/layout-{what}", reg, ref, tag="1")
        before = berth.store_bytes()
        p = berth("manifest", "inspect", *reg.berth_flags(), ref)
        assert p.stdout == skopeo_raw(berth.env, reg, ref)
        assert sha256_hex(p.stdout) == digest_of(img)
        assert berth.store_bytes() == before  # inspect stores nothing
