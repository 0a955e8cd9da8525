"""Shared parts of the image benchmarks (unpack.py, pull.py): the test image's
generator, a scratch tmpfs, timing and the result table. Standard library only.

The image: four gzip layers, three of real files of this machine
(/usr/include, /usr/lib/python3.11, /usr/sbin: compressible text and less
compressible binaries) and one generated (20000 small text files, four 8 MiB
random ones, and whiteouts of a file and a directory of the layers below),
about 330 MB unpacked and 110 MB compressed. With size_mb every part is
scaled down (or up) to about that many MB unpacked: the real layers take the
first files of each tree in name order, the generated layer proportionally
fewer (more) files.
"""
import contextlib
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

SOURCES = ["usr/include", "usr/lib/python3.11", "usr/sbin"]
FULL_MB = 330  # the full image, unpacked (du of SOURCES + the generated layer)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def generated_tree(d, scale=1.0):
    rnd = random.Random(42)
    for i in range(max(1, int(20000 * scale))):
        p = d / f"gen/{i % 100:02d}/{i // 100:03d}/file{i}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"file {i}\n" * rnd.randint(1, 200))
    for i in range(4):
        (d / f"gen/big{i}.bin").write_bytes(rnd.randbytes(max(1 << 16, int((8 << 20) * scale))))
    # Whiteouts of files and a directory of the layers below.
    (d / "usr/include").mkdir(parents=True)
    (d / "usr/include/.wh.stdio.h").write_bytes(b"")
    (d / "usr/sbin").mkdir(parents=True)
    (d / "usr/sbin/.wh..wh..opq").write_bytes(b"")
    (d / "usr/sbin/only-this").write_text("x")


def first_files(root, src, budget):
    """src's entries under root in name order (directories first, as tar
    walks), as paths relative to root, skipping files that would take the
    total of their sizes over budget bytes."""
    out, total = [], 0
    for top, dirs, files in os.walk(Path(root) / src):
        dirs.sort()
        out.append(os.path.relpath(top, root))
        for f in sorted(files):
            p = os.path.join(top, f)
            n = os.lstat(p).st_size
            if total + n <= budget:
                out.append(os.path.relpath(p, root))
                total += n
    return out


def make_layer(src_root, paths, out, budget=None):
    """A gzip layer of paths under src_root (with budget: only the first
    files of each, about budget bytes in all); returns (digest, size, diff_id)."""
    if budget is None:
        opts, args, stdin = ["--sort=name"], paths, None
    else:
        names = [n for p in paths for n in first_files(src_root, p, budget / len(paths))]
        opts, args, stdin = ["--no-recursion", "--verbatim-files-from"], ["-T", "-"], "\n".join(names).encode() + b"\n"
    tar = subprocess.Popen(["tar", "-C", str(src_root), *opts, "--numeric-owner", "--xattrs", "-cf", "-", *args],
                           stdin=subprocess.PIPE if stdin else None, stdout=subprocess.PIPE)
    if stdin:
        tar.stdin.write(stdin)
        tar.stdin.close()
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


def build_image(work, size_mb=None, ref="bench"):
    """The test image in work/layout (an OCI layout, tag ref) and
    work/image.tar (the same as an OCI archive); reused if work holds one of
    the same size. Returns the layout's path."""
    work = Path(work)
    layout = work / "layout"
    params = json.dumps({"size_mb": size_mb, "ref": ref})
    if (work / "image.tar").exists() and (work / "params").exists() and (work / "params").read_text() == params:
        return layout
    shutil.rmtree(work, ignore_errors=True)
    blobs = layout / "blobs/sha256"
    blobs.mkdir(parents=True)
    scale = 1.0 if size_mb is None else size_mb / FULL_MB
    # du of SOURCES is ~290 of the 330 MB: each real layer gets its share
    budget = None if size_mb is None else scale * 290e6 / len(SOURCES)
    layers = []
    for i, src in enumerate(SOURCES):
        print(f"  layer {i + 1}: /{src}" + (f" (first {budget / 1e6:.1f} MB)" if budget else ""), flush=True)
        layers.append(make_layer("/", [src], blobs / "tmp", budget))
    gen = work / "gen-src"
    generated_tree(gen, scale)
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
         "annotations": {"org.opencontainers.image.ref.name": ref}}]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    subprocess.run(["tar", "-C", str(layout), "-cf", str(work / "image.tar"), "."], check=True)
    (work / "params").write_text(params)
    return layout


def layer_blobs(layout):
    index = json.loads((layout / "index.json").read_text())
    man = json.loads((layout / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text())
    return [layout / "blobs/sha256" / l["digest"].split(":")[1] for l in man["layers"]]


def unpacked_size(blobs):
    """Bytes of the layers' tar streams (what the layers hold, unpacked)."""
    n = 0
    for b in blobs:
        with gzip.open(b, "rb") as f:
            while chunk := f.read(1 << 20):
                n += len(chunk)
    return n


@contextlib.contextmanager
def scratch(path, disk=False, size="8g"):
    """path as an empty directory: a tmpfs mounted there, or (disk) a plain
    directory; unmounted and removed at the end."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    mounted = False
    try:
        if not disk:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", path.name, str(path)], check=True)
            mounted = True
        yield path
    finally:
        if mounted:
            subprocess.run(["umount", str(path)])
        shutil.rmtree(path, ignore_errors=True)


def run_timed(cmd, env=None, gap=0.0, sync=True, timeout=None):
    """Run cmd (stdout discarded), after sync and gap seconds of idle (both
    untimed); returns (wall seconds, returncode, stderr text). A command
    still running after timeout seconds is killed (returncode None)."""
    if sync:
        subprocess.run(["sync"])
    if gap:
        time.sleep(gap)
    t0 = time.perf_counter()
    try:
        p = subprocess.run([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return time.perf_counter() - t0, None, (e.stderr or b"").decode(errors="replace") + \
            f"\n(killed after {timeout} s)"
    return time.perf_counter() - t0, p.returncode, p.stderr.decode(errors="replace")


def summary(samples):
    return statistics.median(samples), min(samples), max(samples)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
