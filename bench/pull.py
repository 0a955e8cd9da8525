#!/usr/bin/python3
"""Pulling a multi-layer image from a local registry: berth pull beside
podman pull and skopeo + umoci, with berth load of the same image (no
network: the unpack alone) and tar -xzf for reference; see bench/README.md.

    /usr/bin/python3 bench/pull.py [--runs N] [--size MB] [--berth PATH] [--disk] [--keep]

The image is unpack.py's (benchlib.py): four gzip layers, ~330 MB unpacked,
real files of this machine and generated ones (--size MB: scaled to about MB
unpacked). It is pushed once with skopeo into Debian's docker-registry,
started here on 127.0.0.1 (a free port, plain HTTP, storage in a temp dir).

Then N interleaved rounds, each tool from an empty store every run (removed
between runs, untimed), on a tmpfs mounted here (--disk: /var/tmp), after a
sync and --gap-ms of idle before each timed command:
  berth pull     berth --root R pull --tls-verify=false 127.0.0.1:PORT/bench/img:bench
  podman pull    podman --root R --runroot RR --storage-driver overlay pull --tls-verify=false docker://...
                 (vfs if overlay fails; a private CONTAINERS_CONF; storage reset after each run)
  skopeo copy    skopeo copy docker://... oci:DIR:bench
  umoci unpack   umoci unpack --image DIR:bench BUNDLE   (timed apart; the sum is a row too)
  berth load     berth --root R load -i image.tar: the same image as an OCI archive on the
                 tmpfs, no network (the unpack alone)
  tar -xzf       of each layer blob, one after another, into one dir
The table: median, min-max and ratio to berth pull; goals: berth pull within
1.5x of berth load, podman pull at least 2x berth pull. Run as root. Python's
standard library only.
"""
import argparse
import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchlib import build_image, layer_blobs, markdown_table, run_timed, scratch, summary, unpacked_size

REPO = Path(__file__).resolve().parents[1]
WORK = Path("/var/tmp/berth-bench-pull")  # the generated image (kept with --keep)
NAME, TAG = "bench/img", "bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Registry:
    """Debian's docker-registry on 127.0.0.1:free port, storage in dir."""

    def __init__(self, base):
        self.dir, self.proc = base / "registry", None
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log = base / "registry.log"
        (base / "registry.yml").write_text(json.dumps({  # YAML is a superset of JSON
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.dir)}},
            "http": {"addr": self.host}}))
        self.proc = subprocess.Popen(["/usr/bin/docker-registry", "serve", str(base / "registry.yml")],
                                     stdin=subprocess.DEVNULL, stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    sys.exit(f"docker-registry did not start:\n{self.log.read_text(errors='replace')}")
                time.sleep(0.05)

    def manifest(self):
        req = urllib.request.Request(f"http://{self.host}/v2/{NAME}/manifests/{TAG}",
                                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def warm(self):
        """Read every stored file once: the page cache is warm for the first run as for the others."""
        for top, _, files in os.walk(self.dir):
            for f in files:
                with open(os.path.join(top, f), "rb") as fh:
                    while fh.read(1 << 20):
                        pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def mounts_under(path):
    """Mount points strictly below path, deepest first."""
    prefix = str(path).rstrip("/") + "/"
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")  # \040 etc.
            if mp.startswith(prefix):
                out.append(mp)
    return sorted(out, key=len, reverse=True)


def unmount_under(path):
    for mp in mounts_under(path):
        if subprocess.run(["umount", mp], stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["umount", "-l", mp])


class Podman:
    def __init__(self, base, ref, tmp):
        self.driver, self.note = "overlay", ""
        self.conf = base / "containers.conf"
        limits = []
        for name, res in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
            hard = resource.getrlimit(res)[1]
            if hard != resource.RLIM_INFINITY:
                limits.append(f'"{name}={hard}:{hard}"')
        # default_ulimits: the host's hard limits (no CAP_SYS_RESOURCE here, see MACHINE-NOTES);
        # image_copy_tmp_dir: the blobs podman downloads go to the store's file system, not /var/tmp
        self.conf.write_text(f"[containers]\ndefault_ulimits = [{', '.join(limits)}]\n"
                             f'[engine]\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\n'
                             f'image_copy_tmp_dir = "{tmp}"\n')
        self.ref = ref

    def base(self, run):
        return ["podman", "--root", run / "podman", "--runroot", run / "podman-run",
                "--tmpdir", run / "podman-run/libpod", "--storage-driver", self.driver]

    def pull(self, run):
        return self.base(run) + ["pull", "--tls-verify=false", f"docker://{self.ref}"]

    def reset(self, run):
        if (run / "podman").exists():
            subprocess.run(self.base(run) + ["system", "reset", "-f"], env=self.env(run),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def env(self, run):
        return dict(os.environ, CONTAINERS_CONF=str(self.conf), TMPDIR=str(run / "tmp"))


def gist(stderr):
    """The lines of stderr that say error (else its last lines), shortened."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if "error" in l.lower()]
    return " ".join((errors or lines)[-3:])[:300]


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="interleaved rounds (default 5; the median is reported)")
    ap.add_argument("--size", type=float, metavar="MB",
                    help="the image's size unpacked, about (default: unpack.py's image, ~330 MB)")
    ap.add_argument("--berth", default=str(REPO / "build-release/berth"),
                    help="the berth binary (default: build-release/berth, made by bench/build-release.sh)")
    ap.add_argument("--disk", action="store_true", help="the stores in /var/tmp instead of a tmpfs")
    ap.add_argument("--keep", action="store_true", help=f"keep the generated image in {WORK} for the next run")
    ap.add_argument("--gap-ms", type=int, default=100, help="idle before each timed command (default 100)")
    ap.add_argument("--timeout", type=int, default=600, help="kill a command after this many seconds")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (mounts a tmpfs, podman and berth stores)")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: the finally blocks clean up
    gap = a.gap_ms / 1000

    print("image:", flush=True)
    layout = build_image(WORK, a.size, TAG)
    blobs = layer_blobs(layout)
    compressed, unpacked = sum(b.stat().st_size for b in blobs), unpacked_size(blobs)
    # short: podman refuses a runroot of more than 50 characters (s/run/podman-run below)
    base = Path(tempfile.mkdtemp(prefix="berth-pull.", dir="/var/tmp"))
    registry = podman = None
    try:
        registry = Registry(base)
        ref = f"{registry.host}/{NAME}:{TAG}"
        print(f"registry: {registry.host}, pushing with skopeo", flush=True)
        subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
                        f"oci:{layout}:{TAG}", f"docker://{ref}"], check=True)
        pushed = [l["digest"] for l in registry.manifest()["layers"]]
        if pushed != [f"sha256:{b.name}" for b in blobs]:
            sys.exit("the registry holds other layers than the image's (skopeo recompressed them?)")
        registry.warm()

        with scratch(base / "s", a.disk) as s:
            try:
                shutil.copy(WORK / "image.tar", s / "image.tar")
                run = s / "run"
                podman = Podman(base, ref, run / "tmp")
                berth_ok = os.access(a.berth, os.X_OK)
                # tool -> steps: (row, command(run dir), env(run dir))
                tools = {
                    "berth pull": [("berth pull", lambda r: [a.berth, "--root", r / "berth", "pull",
                                                             "--tls-verify=false", ref], None)],
                    "podman pull": [("podman pull", podman.pull, podman.env)],
                    "skopeo + umoci": [
                        ("skopeo copy", lambda r: ["skopeo", "--insecure-policy", "copy",
                                                   "--src-tls-verify=false", f"docker://{ref}",
                                                   f"oci:{r / 'oci'}:{TAG}"], None),
                        ("umoci unpack", lambda r: ["umoci", "unpack", "--image", f"{r / 'oci'}:{TAG}",
                                                    r / "bundle"], None)],
                    "berth load": [("berth load (unpack alone)", lambda r: [a.berth, "--root", r / "berth",
                                                                           "load", "-i", s / "image.tar"], None)],
                    "tar -xzf": [("tar -xzf", lambda r, b=b: ["tar", "-C", r / "rootfs", "-xzf", b], None)
                                 for b in blobs],
                }
                times = {}  # row -> samples (skopeo + umoci: the sum, after its two steps)
                for tool, steps in tools.items():
                    for row, _, _ in steps:
                        times[row] = []
                    if len({row for row, _, _ in steps}) > 1:
                        times[tool] = []
                failed = {}  # tool -> message
                if not berth_ok:
                    for t in ("berth pull", "berth load"):
                        failed[t] = f"{a.berth}: not an executable (bench/build-release.sh builds it)"

                def one_run(tool, steps):
                    """Time one run of tool's steps from an empty run dir; None or the error."""
                    run.mkdir()
                    (run / "tmp").mkdir()
                    (run / "rootfs").mkdir()
                    sample = {}
                    try:
                        for row, cmd, env in steps:
                            env = env(run) if env else dict(os.environ, TMPDIR=str(run / "tmp"))
                            t, rc, err = run_timed(cmd(run), env=env, gap=gap, timeout=a.timeout)
                            if rc != 0:
                                return f"exit {rc}: {gist(err)}"
                            sample[row] = sample.get(row, 0) + t
                    finally:
                        if tool == "podman pull":
                            podman.reset(run)
                        unmount_under(run)
                        shutil.rmtree(run)
                    for row, t in sample.items():
                        times[row].append(t)
                    if tool in times and tool not in sample:
                        times[tool].append(sum(sample.values()))
                    return None

                for i in range(a.runs):
                    for tool, steps in tools.items():
                        if tool in failed:
                            continue
                        err = one_run(tool, steps)
                        if err and tool == "podman pull" and podman.driver == "overlay":
                            podman.driver = "vfs"
                            vfs_err = one_run(tool, steps)
                            if vfs_err:
                                podman.driver, err = "overlay", f"{err} (and with vfs: {vfs_err})"
                            else:
                                podman.note, err = f"overlay failed ({err}); vfs instead", None
                                print(f"  podman: {podman.note}", flush=True)
                        if err:
                            failed[tool] = err
                            print(f"  {tool} failed: {err}", flush=True)
                    print(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()
                                                          if len(v) == i + 1), flush=True)
            finally:
                if podman and (s / "run").exists():
                    podman.reset(s / "run")
                unmount_under(s)
    finally:
        if registry:
            registry.stop()
        shutil.rmtree(base, ignore_errors=True)
        if not a.keep:
            shutil.rmtree(WORK, ignore_errors=True)

    report(a, times, failed, podman, compressed, unpacked, len(blobs))


def report(a, times, failed, podman, compressed, unpacked, nlayers):
    src = Path(a.berth).parent / "SOURCE"
    load = os.getloadavg()[0]
    print(f"\n{nlayers} gzip layers, {compressed / 1e6:.0f} MB compressed, {unpacked / 1e6:.0f} MB as tar; "
          f"stores on {'disk (/var/tmp)' if a.disk else 'tmpfs'}; {a.runs} interleaved round(s), "
          f"{a.gap_ms} ms idle before each command; load average {load:.1f} at the end")
    print(f"berth = {a.berth}" + (f" ({src.read_text().strip()})" if src.exists() else "") +
          f"; {version(['podman', '--version'])} ({podman.driver} driver); {version(['skopeo', '--version'])}; "
          f"{version(['umoci', '--version'])}; {version(['/usr/bin/docker-registry', '--version'])}")
    if podman.note:
        print(f"podman: {podman.note}")
    ref = summary(times["berth pull"])[0] if times["berth pull"] else None
    owner = {"skopeo copy": "skopeo + umoci", "umoci unpack": "skopeo + umoci",
             "berth load (unpack alone)": "berth load"}
    rows = []
    for row, v in times.items():
        name = f"podman pull ({podman.driver})" if row == "podman pull" else row
        tool = owner.get(row, row)
        if tool in failed:
            rows.append([name, "failed", failed[tool].replace("|", "/"), ""])
            continue
        if not v:
            continue
        med, lo, hi = summary(v)
        rows.append([name, f"{med:.2f} s", f"{lo:.2f}-{hi:.2f} s", f"{med / ref:.2f}" if ref else "-"])
    print(markdown_table(["tool", "median", "min-max", "ratio to berth pull"], rows))

    def goal(name, op, bound, num, den):
        """One PASS/FAIL line: num/den against bound; FAIL naming what has no time."""
        if num[1] and den[1]:
            r = num[1] / den[1]
            ok = r <= bound if op == "<=" else r >= bound
            print(f"goal: {name} = {r:.2f} ({op} {bound}): {'PASS' if ok else 'FAIL'}")
        else:
            print(f"goal: {name} {op} {bound}: FAIL (no time for " +
                  " and ".join(n for n, t in (num, den) if not t) + ")")

    def med(row):
        return summary(times[row])[0] if times[row] and owner.get(row, row) not in failed else None
    pull, load, pod = med("berth pull"), med("berth load (unpack alone)"), med("podman pull")
    print()
    goal("berth pull / berth load", "<=", 1.5, ("berth pull", pull), ("berth load", load))
    goal("podman pull / berth pull", ">=", 2, ("podman pull", pod), ("berth pull", pull))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted (registry stopped, stores, mounts and temp dirs removed)")
