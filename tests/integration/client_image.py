"""The clients' test image: the busybox-static + berth-probe rootfs of the
runtime tests (conftest.template_rootfs) as one image archive, made at run time
(no registry, no network).

The archive is both an OCI image layout (index.json, oci-layout, blobs/) and a
docker archive (manifest.json naming the same blobs), as `docker save` writes
it since docker 25: `docker load` (docker 20.10 reads only manifest.json),
`podman load` and `ctr images import` all take it."""
import hashlib
import io
import json
import tarfile

IMAGE = "localhost/berth-test-image:latest"

_OCI = "application/vnd.oci.image."
PLATFORM = {"architecture": "amd64", "os": "linux"}


def _layer(rootfs):
    """The rootfs as an uncompressed tar layer (owners and modes kept)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.add(str(rootfs), arcname=".")
    return buf.getvalue()


def _blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def _descriptor(media_type, digest, data, **extra):
    return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}


def _add(t, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    t.addfile(info, io.BytesIO(data))


def write_image_archive(path, rootfs, name=IMAGE):
    layer_digest, layer = _blob(_layer(rootfs))
    config = {
        **PLATFORM,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "berth integration tests: busybox-static + berth-probe"}],
    }
    config_digest, config_data = _blob(json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": _OCI + "manifest.v1+json",
        "config": _descriptor(_OCI + "config.v1+json", config_digest, config_data),
        "layers": [_descriptor(_OCI + "layer.v1.tar", layer_digest, layer)],
    }
    manifest_digest, manifest_data = _blob(json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": _OCI + "index.v1+json",
        "manifests": [_descriptor(
            _OCI + "manifest.v1+json", manifest_digest, manifest_data,
            platform=PLATFORM,
            annotations={"io.containerd.image.name": name,
                         "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]})],
    }

    def blob_path(digest):
        return "blobs/sha256/" + digest.split(":", 1)[1]
    docker_manifest = [{"Config": blob_path(config_digest), "RepoTags": [name],
                        "Layers": [blob_path(layer_digest)]}]
    with tarfile.open(path, "w") as t:
        _add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add(t, "index.json", json.dumps(index).encode())
        _add(t, "manifest.json", json.dumps(docker_manifest).encode())
        for d in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            t.addfile(info)
        for digest, data in ((layer_digest, layer), (config_digest, config_data),
                             (manifest_digest, manifest_data)):
            _add(t, blob_path(digest), data)
    return path
