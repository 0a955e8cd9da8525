#!/usr/bin/python3
"""Unpacking a multi-layer image: berth beside umoci, skopeo + tar, and tar
alone, interleaved in one run; see bench/README.md.

    /usr/bin/python3 bench/unpack.py [--iterations N] [--berth PATH] [--keep]

The image is made here (bench/benchlib.py, shared with pull.py), without
network: four gzip layers of about 330 MB unpacked, three of real files from
this machine (/usr/include, /usr/lib/python3.11, /usr/sbin) and one
generated (20000 small files, a few large ones, and whiteouts of the layers
below). It is written once as an OCI
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
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchlib import build_image, layer_blobs, markdown_table, run_timed, scratch as scratch_dir

REPO = Path(__file__).resolve().parents[1]
WORK = Path("/var/tmp/berth-bench-unpack")


def timed(cmds):
    total = 0.0
    for c in cmds:
        t, rc, err = run_timed(c, sync=False)
        if rc != 0:
            sys.exit(f"{' '.join(map(str, c))} failed: {err}")
        total += t
    return total


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
    layout = build_image(WORK)
    blobs = layer_blobs(layout)
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
    try:
        with scratch_dir(WORK / "scratch", a.disk) as scratch:
            for i in range(a.iterations):
                for name, cmds in tools.items():
                    for child in scratch.iterdir():
                        subprocess.run(["rm", "-rf", str(child)], check=True)
                    subprocess.run(["sync"])
                    times[name].append(timed(cmds(scratch)))
                print(f"  iteration {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
                      flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    size = sum(b.stat().st_size for b in blobs) if a.keep else None
    print(f"\nmedian of {a.iterations}, {len(blobs)} gzip layers" + (f", {size / 1e6:.0f} MB compressed" if size else "") +
          (", unpacked to disk" if a.disk else ", unpacked to tmpfs"))
    print(markdown_table(["tool", "time", "berth is faster by"],
                         [[k, f"{v:.2f} s", f"{v / med['berth']:.2f}x"] for k, v in med.items()]))
    print(f"\ngoals: umoci/berth = {med['umoci'] / med['berth']:.2f} (>= 3), "
          f"berth/tar = {med['berth'] / med['tar']:.2f} (<= 1.5)")


if __name__ == "__main__":
    main()
