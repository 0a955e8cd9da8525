"""Test images for the registry tests, built with tests/image/imagegen.py
(once per run: they are read-only), and the peers (skopeo, podman) that
push and pull them."""
import functools
import hashlib
import json
import os
import re
import subprocess

from imagegen import Image, Layer, busybox_image, busybox_layer, config_for, listing, rich_image, sha256, tar_dir
from regserver import PASSWORD, USER

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@functools.lru_cache(None)
def single():
    """One gzip layer: busybox."""
    return busybox_image()


@functools.lru_cache(None)
def uncompressed():
    """One uncompressed layer (a flipped byte in it changes only the digest)."""
    t = busybox_layer().bytes()
    return Image([t], config_for([t]), ["none"])


@functools.lru_cache(None)
def layered():
    """Three layers: whiteouts, an opaque dir, hard and soft links, setuid,
    xattrs, devices (imagegen.rich_image)."""
    return rich_image()


class MultiPlatform:
    """An OCI index of two images, linux/amd64 and linux/arm64 (each a
    busybox layer plus /arch naming its platform)."""

    def __init__(self):
        self.images = {}
        for arch in ("amd64", "arm64"):
            t = busybox_layer(Layer().file("arch", arch)).bytes()
            cfg = config_for([t])
            cfg["architecture"] = arch
            if arch == "arm64":
                cfg["variant"] = "v8"
            self.images[arch] = Image([t], cfg)
        plat = {"amd64": {"os": "linux", "architecture": "amd64"},
                "arm64": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
        self.index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [
            {"mediaType": MANIFEST, "digest": sha256(img.manifest_bytes), "size": len(img.manifest_bytes),
             "platform": plat[a]} for a, img in self.images.items()]}
        self.index_bytes = json.dumps(self.index).encode()
        self.digest = sha256(self.index_bytes)

    def oci_layout(self, path, ref_name="latest"):
        os.makedirs(f"{path}/blobs/sha256", exist_ok=True)
        blobs = {self.digest: self.index_bytes}
        for img in self.images.values():
            blobs.update(img.blobs())
        for d, b in blobs.items():
            with open(f"{path}/blobs/sha256/{d[7:]}", "wb") as f:
                f.write(b)
        with open(f"{path}/index.json", "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [
                {"mediaType": INDEX, "digest": self.digest, "size": len(self.index_bytes),
                 "annotations": {"org.opencontainers.image.ref.name": ref_name}}]}, f)
        with open(f"{path}/oci-layout", "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        return path

    def oci_archive(self, path, ref_name="latest"):
        d = path + ".layout"
        self.oci_layout(d, ref_name)
        tar_dir(d, path)
        subprocess.run(["rm", "-rf", d], check=True)
        return path


@functools.lru_cache(None)
def multi():
    return MultiPlatform()


def manifest_digest(img):
    return img.digest if isinstance(img, MultiPlatform) else sha256(img.manifest_bytes)


def run(cmd, env, timeout=120, check=True):
    p = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout)
    p.out = p.stdout.decode(errors="replace")
    p.err = p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.err}{p.out}")
    return p


def skopeo_push(env, img, layout_dir, reg, dest, tag="latest"):
    """Pushes img (an imagegen.Image or MultiPlatform) with skopeo to
    docker://dest, exactly (--preserve-digests)."""
    img.oci_layout(layout_dir, ref_name=tag)
    run(["skopeo", "copy", "-q", "--preserve-digests", *(["--all"] if isinstance(img, MultiPlatform) else []),
         *reg.skopeo_flags("dest"), f"oci:{layout_dir}:{tag}", f"docker://{dest}"], env)


def skopeo_raw(env, reg, ref):
    return run(["skopeo", "inspect", "--raw", *reg.skopeo_flags(""), f"docker://{ref}"], env).stdout


def sha256_hex(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


# berth's side.
def load(berth, img, name):
    """berth load of img as an OCI archive named name."""
    path = f"{berth.tmp}/load-{hashlib.sha256(name.encode()).hexdigest()[:8]}.tar"
    if not os.path.exists(path):
        img.oci_archive(path, ref_name=name)
    berth("load", "-i", path)
    return name


_trees = [0]


def tree(berth, ref, platform=None):
    """The listing (imagegen.listing) of a copied bundle of ref."""
    _trees[0] += 1
    dest = f"{berth.tmp}/tree-{_trees[0]}"
    berth("bundle", "--copy", *(["--platform", platform] if platform else []), ref, dest)
    return listing(f"{dest}/rootfs")


def inspect(berth, ref, platform=None):
    return json.loads(berth("image", "inspect", *(["--platform", platform] if platform else []), ref).out)[0]


PUSH_LINE = re.compile(r"^(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)$")


def push_result(p):
    """(tag, digest, size) from berth push's last stdout line."""
    lines = p.out.strip().splitlines()
    assert lines, f"berth push printed nothing:\n{p.err}"
    m = PUSH_LINE.match(lines[-1])
    assert m, f"last line of berth push is not 'TAG: digest: sha256:HEX size: N': {lines[-1]!r}"
    return m.group(1), m.group(2), int(m.group(3))


def podman_pull(tmp, env, reg, ref):
    """podman pull into a private vfs store; returns (digest, RepoDigests)."""
    conf = f"{tmp}/podman/containers.conf"
    os.makedirs(f"{tmp}/podman", exist_ok=True)
    with open(conf, "w") as f:
        f.write('[containers]\ndefault_ulimits = ["nofile=20000:20000"]\n'
                f'[engine]\nevents_logger = "none"\ntmp_dir = "{tmp}/podman/tmp"\ncgroup_manager = "cgroupfs"\n')
    penv = dict(env, CONTAINERS_CONF=conf)
    base = ["podman", "--root", f"{tmp}/podman/root", "--runroot", f"{tmp}/podman/runroot", "--storage-driver", "vfs"]
    flags = ["--cert-dir", reg.cert_dir] if reg.kind == "tls" else ["--tls-verify=false"]
    if reg.kind == "basic":
        flags += ["--creds", f"{USER}:{PASSWORD}"]
    run([*base, "pull", "-q", *flags, ref], penv, timeout=180)
    info = json.loads(run([*base, "image", "inspect", ref], penv).out)[0]
    return info["Digest"], info["RepoDigests"]


def pushed(proxy, berth, img, repo, tag="1"):
    """img pushed by skopeo straight to the proxy's registry; its reference
    through the proxy."""
    skopeo_push(berth.env, img, f"{berth.tmp}/layout-{repo.replace('/', '-')}", proxy.registry,
                f"{proxy.registry.host}/{repo}:{tag}", tag=tag)
    return f"{proxy.host}/{repo}:{tag}"


def check_pulled(berth, img, ref):
    """ref in berth's store is img: its id, and the tree berth load gives."""
    assert inspect(berth, ref)["Id"] == img.id
    loaded = berth.other_store("loaded")
    load(loaded, img, "loaded/img:1")
    assert tree(berth, ref) == tree(loaded, "loaded/img:1")
