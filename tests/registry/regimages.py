"""Test images for the registry tests, built with tests/image/imagegen.py
(once per run: they are read-only), and the peers (skopeo, podman) that
push and pull them."""
import functools
import hashlib
import json
import os
import subprocess

from imagegen import Image, Layer, busybox_image, busybox_layer, config_for, rich_image, sha256, tar_dir

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
