"""berth pull's progress: on a terminal (script(1) gives it one) rows
redrawn in place, with bars and a Total row; elsewhere one plain line per
change of a layer's status, no escape sequences."""
import re
import shlex
import subprocess

from conftest import BERTH
from regimages import inspect, layered, skopeo_push

INSECURE = "--tls-verify=false"


def pushed(proxy, berth, img, repo):
    skopeo_push(berth.env, img, f"{berth.tmp}/layout", proxy.registry, f"{proxy.registry.host}/{repo}:1", tag="1")
    return f"{proxy.host}/{repo}:1"


def shorts(img):
    return [d["digest"][7:19] for d in img.manifest["layers"]]


def test_progress_on_a_terminal(berth, proxy):
    img = layered()
    ref = pushed(proxy, berth, img, "progress/tty")
    # The big layer takes about a second: bars between 0 and 100%.
    proxy.slow = (r"/blobs/", 65536, 0.06)
    cmd = shlex.join([BERTH, "--root", berth.root, "pull", INSECURE, ref])
    p = subprocess.run(["script", "-qefc", cmd, "/dev/null"], env=berth.env, cwd=berth.cwd,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out + p.stderr.decode(errors="replace")
    assert inspect(berth, ref)["Id"] == img.id
    assert "\x1b[2K" in out, repr(out[-2000:])              # rows cleared and redrawn
    assert re.search(r"\x1b\[\d+A", out), repr(out[-2000:])  # the cursor moved back up over them
    assert "[==" in out, repr(out[-2000:])                   # a bar part-filled
    assert re.search(r"Total: [\d.]+ ?[kMG]?i?B/[\d.]+ ?[kMG]?i?B", out), repr(out[-2000:])
    # The last drawing: every layer complete.
    last = out[out.rindex("Total:") - 2000:]
    for s in shorts(img):
        assert f"{s}: Pull complete" in last, repr(last)
    assert out.rstrip().splitlines()[-1].strip() == ref


def test_progress_without_a_terminal(berth, proxy):
    img = layered()
    ref = pushed(proxy, berth, img, "progress/plain")
    proxy.slow = (r"/blobs/", 65536, 0.02)
    p = berth("pull", INSECURE, ref)
    assert "\x1b" not in p.out and "\x1b" not in p.err, repr(p.out)
    lines = p.out.splitlines()
    for s in shorts(img):
        assert f"{s}: Pull complete" in lines, p.out
        assert lines.count(f"{s}: Downloading") <= 1, p.out  # a line per change, not per chunk
    assert "[=" not in p.out and "Total:" not in p.out
    assert lines[-1] == ref
