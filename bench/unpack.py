#!/usr/bin/python3
"""Unpacking a multi-layer image: berth beside umoci, skopeo + tar, and tar
alone, interleaved in one run; see bench/README.md.

    /usr/bin/python3 bench/unpack.py [--iterations N] [--berth PATH] [--keep]

The image is made here, without network: four gzip layers of about 330 MB
unpacked, three of real files from this machine (/usr/include,
/usr/lib/python3.11, /usr/sbin) and one generated (20000 small files, a few
large ones, and whiteouts of the layers below). It is written once as an OCI
layout and as an OCI archive under /var/tmp/berth-bench-unpack (kept with
--keep, for reruns).

Timed, each from the same files, page cache warm for all, unpacking into a
tmpfs (--disk: /var/tmp):
  berth    `berth load -i image.tar`: read the archive, store its blobs,
           verify digests, unpack each layer into its snapshot (layers in
           parallel)
  umoci    `umoci unpack --image layout:bench DIR`: one rootfs
  skopeo   `skopeo copy oci:layout:bench dir:D` then `tar -xzf` each layer
  tar      `tar -xzf` of each layer blob, one after another, into one dir
Run as root. Python's standard library only.
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = Path("/var/tmp/berth-bench-unpack")
SOURCES = ["usr/include", "usr/lib/python3.11", "usr/sbin"]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def generated_tree(d):
    rnd = random.Random(42)
    for i in range(20000):
        p = d / f"gen/{i % 100:02d}/{i // 100:03d}/file{i}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"file {i}\n" * rnd.randint(1, 200))
    for i in range(4):
        (d / f"gen/big{i}.bin").write_bytes(rnd.randbytes(8 << 20))
    # Whiteouts of files and a directory of the layers below.
    (d / "usr/include").mkdir(parents=True)
    (d / "usr/include/.wh.stdio.h").write_bytes(b"")
    (d / "usr/sbin").mkdir(parents=True)
    (d / "usr/sbin/.wh..wh..opq").write_bytes(b"")
    (d / "usr/sbin/only-this").write_text("x")


def make_layer(src_root, paths, out):
    """A gzip layer of paths under src_root; returns (digest, size, diff_id)."""
    tar = subprocess.Popen(["tar", "-C", str(src_root), "--sort=name", "--numeric-owner", "--xattrs",
                            "-cf", "-", *paths], stdout=subprocess.PIPE)
    h = hashlib.sha256()
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
        while chunk := tar.stdout.read(1 << 20):
            h.update(chunk)
            gz.write(chunk)
    if tar.wait() != 0:
        sys.exit(f"tar of {paths} failed")
    digest = sha256_file(out)
    final = out.parent / digest.split(":")[1]
    os.rename(out, final)
    return digest, final.stat().st_size, "sha256:" + h.hexdigest()


def build_image():
    layout = WORK / "layout"
    if (WORK / "image.tar").exists():
        return layout
    shutil.rmtree(WORK, ignore_errors=True)
    blobs = layout / "blobs/sha256"
    blobs.mkdir(parents=True)
    layers = []
    for i, src in enumerate(SOURCES):
        print(f"  layer {i + 1}: /{src}", flush=True)
        layers.append(make_layer("/", [src], blobs / "tmp"))
    gen = WORK / "gen-src"
    generated_tree(gen)
    print("  layer 4: generated files and whiteouts", flush=True)
    layers.append(make_layer(gen, ["gen", "usr"], blobs / "tmp"))
    shutil.rmtree(gen)

    def put(doc):
        b = json.dumps(doc).encode()
        d = "sha256:" + hashlib.sha256(b).hexdigest()
        (blobs / d.split(":")[1]).write_bytes(b)
        return d, len(b)

    cfg_d, cfg_n = put({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                        "config": {"Cmd": ["/bin/sh"]},
                        "rootfs": {"type": "layers", "diff_ids": [l[2] for l in layers]}})
    man_d, man_n = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                   "digest": cfg_d, "size": cfg_n},
                        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                    "digest": d, "size": n} for d, n, _ in layers]})
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_d, "size": man_n,
         "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    subprocess.run(["tar", "-C", str(layout), "-cf", str(WORK / "image.tar"), "."], check=True)
    return layout


def layer_blobs(layout):
    index = json.loads((layout / "index.json").read_text())
    man = json.loads((layout / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text())
    return [layout / "blobs/sha256" / l["digest"].split(":")[1] for l in man["layers"]]


def timed(cmds):
    t0 = time.perf_counter()
    for c in cmds:
        p = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            sys.exit(f"{' '.join(map(str, c))} failed: {p.stderr.decode(errors='replace')}")
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--berth", default=str(REPO / "build-release/berth"))
    ap.add_argument("--keep", action="store_true", help="keep the generated image for the next run")
    ap.add_argument("--disk", action="store_true",
                    help="unpack to /var/tmp's disk (default: a tmpfs, so that the disk's writeback, "
                         "which varies by 3x from run to run here, does not hide the tools' own cost)")
    a = ap.parse_args()
    if not os.access(a.berth, os.X_OK):
        sys.exit(f"{a.berth}: not an executable (bench/build-release.sh builds it)")
    print("image:", flush=True)
    layout = build_image()
    blobs = layer_blobs(layout)
    scratch = WORK / "scratch"
    tools = {
        "berth": lambda d: [[a.berth, "--root", str(d / "store"), "load", "-q", "-i", str(WORK / "image.tar")]],
        "umoci": lambda d: [["umoci", "unpack", "--image", f"{layout}:bench", str(d / "bundle")]],
        "skopeo+tar": lambda d: [["skopeo", "--insecure-policy", "copy", f"oci:{layout}:bench", f"dir:{d}/dir"],
                                 ["mkdir", str(d / "rootfs")]] +
                                [["tar", "-C", str(d / "rootfs"), "-xzf", str(d / "dir" / b.name)] for b in blobs],
        "tar": lambda d: [["mkdir", str(d / "rootfs")]] +
                         [["tar", "-C", str(d / "rootfs"), "-xzf", str(b)] for b in blobs],
    }
    times = {k: [] for k in tools}
    scratch.mkdir(parents=True, exist_ok=True)
    if not a.disk:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8g", "berth-bench-unpack", str(scratch)], check=True)
    try:
        for i in range(a.iterations):
            for name, cmds in tools.items():
                for child in scratch.iterdir():
                    subprocess.run(["rm", "-rf", str(child)], check=True)
                subprocess.run(["sync"])
                times[name].append(timed(cmds(scratch)))
            print(f"  iteration {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    finally:
        if not a.disk:
            subprocess.run(["umount", str(scratch)])
        shutil.rmtree(scratch, ignore_errors=True)
        if not a.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    size = sum(b.stat().st_size for b in blobs) if a.keep else None
    print(f"\nmedian of {a.iterations}, {len(blobs)} gzip layers" + (f", {size / 1e6:.0f} MB compressed" if size else "") +
          (", unpacked to disk" if a.disk else ", unpacked to tmpfs"))
    print("| tool | time | berth is faster by |")
    print("|---|---|---|")
    for k, v in med.items():
        print(f"| {k} | {v:.2f} s | {v / med['berth']:.2f}x |")
    print(f"\ngoals: umoci/berth = {med['umoci'] / med['berth']:.2f} (>= 3), "
          f"berth/tar = {med['berth'] / med['tar']:.2f} (<= 1.5)")


if __name__ == "__main__":
    main()
