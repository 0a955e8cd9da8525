"""The image commands as docker users type them: import, images, inspect,
tag, rmi, history, prune, and their --format, -q and errors."""
import json
import os

from imagegen import busybox_image, busybox_layer, sha256


def import_busybox(berth, name="test/bb:1", changes=()):
    tar = f"{berth.tmp}/rootfs.tar"
    with open(tar, "wb") as f:
        f.write(busybox_layer().bytes())
    args = ["import"]
    for c in changes:
        args += ["--change", c]
    p = berth(*args, tar, name)
    image_id = p.out.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71, p.out
    return image_id


def test_import_then_images_inspect_history(berth):
    image_id = import_busybox(berth, changes=["CMD [\"/bin/sh\", \"-c\", \"echo hi\"]", "ENV A=1 B=\"two words\"",
                                             "WORKDIR /tmp", "USER user", "EXPOSE 8080", "LABEL k=v",
                                             "STOPSIGNAL SIGINT", "ENTRYPOINT [\"/bin/busybox\"]", "VOLUME /data"])
    out = berth("images").out.splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert out[1].split()[:3] == ["test/bb", "1", image_id[7:19]]
    assert berth("images", "-q").out.split() == [image_id[7:19]]
    assert berth("images", "-q", "--no-trunc").out.split() == [image_id]
    rows = [json.loads(line) for line in berth("images", "--format", "json").out.splitlines()]
    assert rows[0]["Repository"] == "test/bb" and rows[0]["Tag"] == "1"
    assert berth("images", "--format", "{{.Repository}}:{{.Tag}}").out == "test/bb:1\n"
    assert berth("image", "ls", "--format", "table {{.ID}}\\t{{.Tag}}").out.splitlines()[0].split() == ["IMAGE", "ID", "TAG"]

    info = json.loads(berth("image", "inspect", "test/bb:1").out)[0]
    assert info["Id"] == image_id
    assert info["RepoTags"] == ["test/bb:1"]
    c = info["Config"]
    assert c["Cmd"] == ["/bin/sh", "-c", "echo hi"] and c["Entrypoint"] == ["/bin/busybox"]
    assert "A=1" in c["Env"] and "B=two words" in c["Env"]
    assert c["WorkingDir"] == "/tmp" and c["User"] == "user" and c["StopSignal"] == "SIGINT"
    assert c["ExposedPorts"] == {"8080/tcp": {}} and c["Labels"] == {"k": "v"} and c["Volumes"] == {"/data": {}}
    assert info["RootFS"]["Layers"][0].startswith("sha256:")
    assert berth("image", "inspect", "--format", "{{.Config.WorkingDir}} {{json .Config.Cmd}}", image_id[7:19]).out == \
        '/tmp ["/bin/sh","-c","echo hi"]\n'

    hist = berth("history", "test/bb:1").out.splitlines()
    assert hist[0].split()[:2] == ["IMAGE", "CREATED"]
    assert hist[1].split()[0] == image_id[7:19] and "berth import" in hist[1]


def test_tag_and_rmi(berth):
    image_id = import_busybox(berth, "one:latest")
    berth("tag", "one", "localhost:5000/two/three:v2")
    berth("tag", image_id[7:19], "four")
    names = sorted(berth("images", "--format", "{{.Repository}}:{{.Tag}}").out.split())
    assert names == ["four:latest", "localhost:5000/two/three:v2", "one:latest"]
    # By name: only that name goes; the image stays while it has names.
    assert berth("rmi", "four").out == "Untagged: four:latest\n"
    # By id with several names: refused without -f.
    p = berth.fails("rmi", image_id[7:19])
    assert "several names" in p.err
    p = berth("rmi", "-f", image_id[7:19])
    assert "Untagged: one:latest" in p.out and f"Deleted: {image_id}" in p.out
    assert berth("images", "-q").out == ""
    # Deleting the last name removed the blobs and the snapshot.
    assert os.listdir(f"{berth.root}/blobs/sha256") == []
    assert os.listdir(f"{berth.root}/snapshots") == []


def test_errors_name_what_was_wrong_and_leave_nothing(berth):
    import_busybox(berth, "keep:1")
    before = berth.store_state()
    p = berth.fails("rmi", "nothere")
    assert "no such image: nothere" in p.err
    p = berth.fails("tag", "keep:1", "Bad/Name")
    assert "Bad/Name" in p.err
    p = berth.fails("image", "inspect", "sha256:" + "0" * 64)
    assert "no such image" in p.err
    tar = f"{berth.tmp}/rootfs.tar"
    p = berth.fails("import", "--change", "FROM scratch", tar, "x:1")
    assert "FROM is not allowed" in p.err
    p = berth.fails("import", "--change", "CMD [\"unterminated", tar, "x:1")
    assert "CMD" in p.err
    p = berth.fails("import", f"{berth.tmp}/missing.tar")
    assert "missing.tar" in p.err
    with open(f"{berth.tmp}/junk.tar", "wb") as f:
        f.write(os.urandom(4096))
    p = berth.fails("import", f"{berth.tmp}/junk.tar", "junk:1")
    assert "junk.tar" in p.err
    p = berth.fails("images", "--format", "{{.Nope}}")
    assert "Nope" in p.err
    p = berth.fails("images", "--filter", "color=blue")
    assert "color=blue" in p.err
    p = berth.fails("image", "inspect", "--platform", "linux/amd64/v1/extra", "keep:1")
    assert "--platform" in p.err
    p = berth.fails("load", "-i", f"{berth.tmp}/junk.tar")
    assert "junk.tar" in p.err
    assert berth.store_state() == before


def test_prune_removes_untagged_and_garbage(berth):
    image_id = import_busybox(berth, "named:1")
    tar = f"{berth.tmp}/rootfs.tar"
    with open(tar, "wb") as f:
        f.write(busybox_layer(extra_links=("sh",)).bytes())
    untagged = berth("import", tar).out.strip()
    assert "<none>" in berth("images").out
    assert berth("images", "--filter", "dangling=true", "-q").out.split() == [untagged[7:19]]
    p = berth("image", "prune", "-f")
    assert f"deleted: {untagged}" in p.out and "Total reclaimed space" in p.out
    assert berth("images", "-q").out.split() == [image_id[7:19]]
    # A blob nobody names, and the leftovers of a killed writer.
    with open(f"{berth.root}/blobs/sha256/" + "a" * 64, "w") as f:
        f.write("orphan")
    os.makedirs(f"{berth.root}/snapshots/tmp-killed/fs/x")
    os.makedirs(f"{berth.root}/ingest/load-killed")
    berth("image", "prune")
    assert not os.path.exists(f"{berth.root}/blobs/sha256/" + "a" * 64)
    assert os.listdir(f"{berth.root}/ingest") == []
    assert [n for n in os.listdir(f"{berth.root}/snapshots") if n.startswith("tmp-")] == []
    assert berth("images", "-q").out.split() == [image_id[7:19]]
    berth("image", "prune", "-a")
    assert berth("images", "-q").out == ""


def test_import_directory(berth):
    root = f"{berth.tmp}/tree"
    os.makedirs(f"{root}/bin")
    os.makedirs(f"{root}/etc")
    with open("/bin/busybox", "rb") as src, open(f"{root}/bin/busybox", "wb") as dst:
        dst.write(src.read())
    os.chmod(f"{root}/bin/busybox", 0o755)
    os.symlink("busybox", f"{root}/bin/sh")
    os.link(f"{root}/bin/busybox", f"{root}/bin/bb2")
    os.setxattr(f"{root}/etc", "user.k", b"v")
    image_id = berth("import", "-c", "CMD [\"/bin/sh\"]", root, "dir:1").out.strip()
    info = json.loads(berth("image", "inspect", "dir:1").out)[0]
    assert info["Id"] == image_id and info["Config"]["Cmd"] == ["/bin/sh"]
    berth("bundle", "--copy", "dir:1", f"{berth.tmp}/b")
    rootfs = f"{berth.tmp}/b/rootfs"
    assert os.readlink(f"{rootfs}/bin/sh") == "busybox"
    assert os.stat(f"{rootfs}/bin/bb2").st_ino == os.stat(f"{rootfs}/bin/busybox").st_ino
    assert os.getxattr(f"{rootfs}/etc", "user.k") == b"v"
    berth("bundle", "--remove", f"{berth.tmp}/b")
    assert not os.path.exists(f"{berth.tmp}/b")


def test_references_are_normalised(berth):
    import_busybox(berth, "busybox")
    assert berth("images", "--format", "{{.Repository}}:{{.Tag}}").out == "busybox:latest\n"
    for name in ("busybox", "busybox:latest", "docker.io/library/busybox", "docker.io/library/busybox:latest",
                 "library/busybox"):
        assert json.loads(berth("image", "inspect", name).out)[0]["RepoTags"] == ["busybox:latest"], name
    berth.fails("image", "inspect", "busybox:other")


def test_a_name_moved_away_leaves_the_old_image_untagged(berth):
    first = import_busybox(berth, "app:1")
    tar = f"{berth.tmp}/other.tar"
    with open(tar, "wb") as f:
        f.write(busybox_layer(extra_links=("sh",)).bytes())
    second = berth("import", tar, "app:1").out.strip()
    rows = sorted(berth("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").out.splitlines())
    assert rows == sorted([f"app:1 {second[7:19]}", f"<none>:<none> {first[7:19]}"])
    berth("rmi", first[7:19])
    assert berth("images", "-q").out.split() == [second[7:19]]


def test_bundle_dir_must_be_empty(berth):
    import_busybox(berth, "b:1", changes=["CMD [\"sh\"]"])
    d = f"{berth.tmp}/project"
    os.makedirs(d)
    with open(f"{d}/precious", "w") as f:
        f.write("keep me")
    p = berth.fails("bundle", "b:1", d)
    assert "must be empty" in p.err
    assert os.listdir(d) == ["precious"]
    os.makedirs(f"{berth.tmp}/empty")
    berth("bundle", "--copy", "b:1", f"{berth.tmp}/empty")
    berth("bundle", "--remove", f"{berth.tmp}/empty")
