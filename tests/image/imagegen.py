"""Test images made from scratch: layer tars (every entry type, whiteouts,
xattrs), OCI layouts and docker archives around them, and crafted bad ones.
Everything is generated in the test run: no network, no image from
elsewhere. busybox comes from Debian's busybox-static."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

BUSYBOX = "/bin/busybox"
# CAP_NET_RAW, effective, as `setcap cap_net_raw+ep` writes it (VFS v2).
CAP_NET_RAW = bytes([0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Layer:
    """A layer tar built entry by entry (pax, so long names and xattrs)."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _add(self, name, type_, data=b"", mode=0o644, uid=0, gid=0, mtime=1700000000,
             linkname="", xattrs=None, devmajor=0, devminor=0, size=None):
        ti = tarfile.TarInfo(name)
        ti.type = type_
        ti.mode = mode
        ti.uid, ti.gid = uid, gid
        ti.mtime = mtime
        ti.linkname = linkname
        ti.devmajor, ti.devminor = devmajor, devminor
        ti.size = len(data) if size is None else size
        if xattrs:
            ti.pax_headers = {"SCHILY.xattr." + k: (v if isinstance(v, str) else v.decode("utf-8", "surrogateescape"))
                              for k, v in xattrs.items()}
        self.tar.addfile(ti, io.BytesIO(data) if type_ == tarfile.REGTYPE else None)
        return self

    def file(self, name, data=b"", mode=0o644, **kw):
        return self._add(name, tarfile.REGTYPE, data if isinstance(data, bytes) else data.encode(), mode, **kw)

    def dir(self, name, mode=0o755, **kw):
        return self._add(name, tarfile.DIRTYPE, mode=mode, **kw)

    def symlink(self, name, target, **kw):
        return self._add(name, tarfile.SYMTYPE, mode=0o777, linkname=target, **kw)

    def hardlink(self, name, target, **kw):
        return self._add(name, tarfile.LNKTYPE, linkname=target, **kw)

    def chardev(self, name, major, minor, mode=0o666, **kw):
        return self._add(name, tarfile.CHRTYPE, mode=mode, devmajor=major, devminor=minor, **kw)

    def blockdev(self, name, major, minor, mode=0o660, **kw):
        return self._add(name, tarfile.BLKTYPE, mode=mode, devmajor=major, devminor=minor, **kw)

    def fifo(self, name, mode=0o644, **kw):
        return self._add(name, tarfile.FIFOTYPE, mode=mode, **kw)

    def whiteout(self, name):
        d, b = os.path.split(name)
        return self.file(os.path.join(d, ".wh." + b))

    def opaque(self, dirname):
        return self.file(os.path.join(dirname, ".wh..wh..opq"))

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def compress(data, how):
    if how == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout
    return data


MEDIA = {"none": "application/vnd.oci.image.layer.v1.tar",
         "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
         "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}


def busybox_layer(layer=None, extra_links=("sh", "ls", "cat", "echo", "id", "true", "sleep", "stat")):
    layer = layer or Layer()
    layer.dir("bin").dir("etc").dir("tmp", mode=0o1777)
    with open(BUSYBOX, "rb") as f:
        layer.file("bin/busybox", f.read(), mode=0o755)
    for n in extra_links:
        layer.symlink("bin/" + n, "busybox")
    layer.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n")
    layer.file("etc/group", "root:x:0:\nuser:x:1000:\nstaff:x:50:user\n")
    return layer


def config_for(layers_tars, cmd=("/bin/sh",), env=("PATH=/bin",), extra=None, history=None):
    cfg = {
        "created": "2024-05-01T10:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": list(cmd), "Env": list(env)},
        "rootfs": {"type": "layers", "diff_ids": [sha256(t) for t in layers_tars]},
        "history": history or [{"created": "2024-05-01T10:00:00Z", "created_by": f"layer {i}"}
                               for i in range(len(layers_tars))],
    }
    if extra:
        cfg["config"].update(extra)
    return cfg


class Image:
    """Layers (uncompressed tars with a compression each) and a config."""

    def __init__(self, layers, config=None, compressions=None):
        self.tars = layers
        self.compressions = compressions or ["gzip"] * len(layers)
        self.blobs_ = [compress(t, c) for t, c in zip(layers, self.compressions)]
        self.config = config or config_for(layers)
        self.config_bytes = json.dumps(self.config).encode()
        self.manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha256(self.config_bytes), "size": len(self.config_bytes)},
            "layers": [{"mediaType": MEDIA[c], "digest": sha256(b), "size": len(b)}
                       for b, c in zip(self.blobs_, self.compressions)],
        }
        self.manifest_bytes = json.dumps(self.manifest).encode()

    @property
    def id(self):
        return sha256(self.config_bytes)

    def blobs(self):
        out = {sha256(self.config_bytes): self.config_bytes, sha256(self.manifest_bytes): self.manifest_bytes}
        for b in self.blobs_:
            out[sha256(b)] = b
        return out

    def oci_layout(self, path, ref_name="latest", annotations=None):
        """An OCI image layout directory, as umoci and skopeo read it."""
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        for d, b in self.blobs().items():
            with open(os.path.join(path, "blobs", "sha256", d.split(":")[1]), "wb") as f:
                f.write(b)
        desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": sha256(self.manifest_bytes), "size": len(self.manifest_bytes)}
        ann = dict(annotations or {})
        if ref_name:
            ann["org.opencontainers.image.ref.name"] = ref_name
        if ann:
            desc["annotations"] = ann
        with open(os.path.join(path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [desc]}, f)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        return path

    def oci_archive(self, path, ref_name="latest", annotations=None, workdir=None):
        d = (workdir or path) + ".layout"
        self.oci_layout(d, ref_name, annotations)
        tar_dir(d, path)
        shutil.rmtree(d)
        return path

    def docker_archive_legacy(self, path, repo_tags=("test/legacy:1",)):
        """docker < 25's save format: <id>/layer.tar (uncompressed), <id>.json
        config, manifest.json, repositories; a repeated layer as a symlink."""
        t = tarfile.open(path, "w")

        def add(name, data, type_=tarfile.REGTYPE, linkname=""):
            ti = tarfile.TarInfo(name)
            ti.type = type_
            ti.size = len(data)
            ti.linkname = linkname
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(data) if type_ == tarfile.REGTYPE else None)

        layers, seen = [], {}
        for tar_ in self.tars:
            lid = hashlib.sha256(tar_ + b"id").hexdigest()
            d = sha256(tar_)
            if d in seen:  # docker wrote a symlink to the first copy
                add(lid + "/layer.tar", b"", tarfile.SYMTYPE, "../" + seen[d] + "/layer.tar")
            else:
                seen[d] = lid
                add(lid + "/VERSION", b"1.0")
                add(lid + "/json", b"{}")
                add(lid + "/layer.tar", tar_)
            layers.append(lid + "/layer.tar")
        cname = self.id.split(":")[1] + ".json"
        add(cname, self.config_bytes)
        add("manifest.json", json.dumps([{"Config": cname, "RepoTags": list(repo_tags), "Layers": layers}]).encode())
        t.close()
        return path


def tar_dir(src, dest):
    subprocess.run(["tar", "-C", src, "-cf", dest, "."], check=True)


def busybox_image(cmd=("/bin/sh", "-c", "echo hello from the image"), **kw):
    return Image([busybox_layer().bytes()], config_for([busybox_layer().bytes()], cmd=cmd, **kw))


def rich_image(compressions=("gzip", "gzip", "none")):
    """Three layers with every entry type, ownership, special modes, xattrs,
    whiteouts and an opaque directory. (Debian's umoci 0.4.7 has no zstd.)"""
    l1 = busybox_layer()
    (l1.dir("usr").dir("usr/bin").dir("var").dir("var/lib").dir("var/lib/app")
       .file("var/lib/app/a", "a").file("var/lib/app/b", "b")
       .dir("data").file("data/d1", "1").dir("data/sub").file("data/sub/s1", "s")
       .file("usr/bin/suid", "#!/bin/sh\n", mode=0o4755)
       .file("usr/bin/sgid", "x", mode=0o2755, gid=50)
       .dir("shared", mode=0o2775, gid=50)
       .dir("sticky", mode=0o1777)
       .hardlink("usr/bin/suid-link", "usr/bin/suid")
       .symlink("etc/abs-link", "/etc/passwd")
       .symlink("etc/rel-link", "../bin/busybox")
       .symlink("dangling", "/nowhere/at/all")
       .dir("dev")
       .chardev("dev/null", 1, 3)
       .blockdev("dev/loop9", 7, 9)
       .fifo("dev/pipe")
       .file("owned", "mine", mode=0o600, uid=1000, gid=1000)
       .file("xattr-file", "x", xattrs={"user.test": "hello", "user.empty": ""})
       .file("ping", "caps", mode=0o755, xattrs={"security.capability": CAP_NET_RAW})
       .file("old", "old", mtime=946684800)
       .file("gone-dir/inner", "x")
       .file("replaced", "file"))
    l2 = (Layer().whiteout("var/lib/app/a")
          .opaque("data").dir("data").file("data/new", "new")
          .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\napp:x:2000:2000::/:/bin/sh\n")
          .whiteout("gone-dir")
          .whiteout("replaced").symlink("replaced", "bin/busybox")
          .file("layer2", "two", mode=0o640, uid=2000, gid=2000))
    l3 = (Layer().dir("opt", mode=0o700).file("opt/one", "1").hardlink("opt/two", "opt/one")
          .file("usr/bin/suid", "#!/bin/sh\necho v2\n", mode=0o4755)
          .file("var/lib/app/c", "c"))
    tars = [l1.bytes(), l2.bytes(), l3.bytes()]
    cfg = config_for(tars, cmd=("/bin/sh", "-c", "cat /layer2"), extra={"User": "user", "WorkingDir": "/tmp",
                     "Labels": {"org.example": "yes"}, "StopSignal": "SIGINT", "ExposedPorts": {"80/tcp": {}}})
    return Image(tars, cfg, list(compressions))


def listing(root, links=True):
    """path, type, mode, owner, size, link target, device, xattrs (without
    trusted.overlay.*), and (links) for files with several links the group
    they share: what two unpacks of one image must agree on. overlayfs shows
    a lower file's own link count, so an overlay is compared without it."""
    out = []
    inode_names = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = {0o040000: "d", 0o100000: "f", 0o120000: "l", 0o020000: "c", 0o060000: "b",
                    0o010000: "p", 0o140000: "s"}[st.st_mode & 0o170000]
            row = [rel, kind, oct(st.st_mode & 0o7777), st.st_uid, st.st_gid]
            if kind == "f":
                row.append(st.st_size)
                if links and st.st_nlink > 1:
                    row.append("links:" + inode_names.setdefault(st.st_ino, rel))
            if kind == "l":
                row.append(os.readlink(p))
            if kind in "cb":
                row.append((os.major(st.st_rdev), os.minor(st.st_rdev)))
            try:
                names = sorted(os.listxattr(p, follow_symlinks=False))
            except OSError:
                names = []
            xs = {n: os.getxattr(p, n, follow_symlinks=False).hex() for n in names
                  if not n.startswith("trusted.overlay.")}
            if xs:
                row.append(xs)
            out.append(tuple(str(x) for x in row))
    return out
