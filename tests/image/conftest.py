"""Harness of the image tests: each test gets its own store (--root) and
scratch dir under /tmp named with a token; after the test every mount under
them is undone and both are removed, and the test fails if a mount was left.
"""
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BERTH = os.path.abspath(os.environ.get("BERTH", REPO / "build" / "berth"))
RUNTIME = os.path.abspath(os.environ.get("BERTH_RUNTIME", REPO / "build" / "berth-runtime"))
sys.path.insert(0, str(Path(__file__).parent))


def pytest_sessionstart(session):
    if not os.access(BERTH, os.X_OK):
        pytest.exit(f"BERTH={BERTH} is not an executable", returncode=4)


def mounts_under(path):
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return out


class Berth:
    def __init__(self, root, tmp):
        self.root = root
        self.tmp = tmp

    def __call__(self, *args, input=None, check=True, env=None, timeout=300):
        p = subprocess.run([BERTH, "--root", self.root, *map(str, args)], input=input,
                           capture_output=True, timeout=timeout, env=env)
        p.out = p.stdout.decode(errors="replace")
        p.err = p.stderr.decode(errors="replace")
        if check and p.returncode != 0:
            raise AssertionError(f"berth {' '.join(map(str, args))} exited {p.returncode}:\n{p.err}{p.out}")
        return p

    def fails(self, *args, input=None):
        p = self(*args, input=input, check=False)
        assert p.returncode != 0, f"berth {' '.join(map(str, args))} succeeded:\n{p.out}"
        assert p.err.startswith("berth: "), p.err
        return p

    def store_state(self):
        """What is in the store, for 'nothing was left behind' checks."""
        if not os.path.exists(self.root):
            self("images")  # an empty store, as any command leaves it
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            for n in filenames + dirnames:
                rel = os.path.relpath(os.path.join(dirpath, n), self.root)
                if rel.startswith("snapshots/") and rel.count("/") > 1:
                    continue  # inside a snapshot
                if rel in ("lock", "index.lock"):
                    continue
                out.append(rel)
        with open(os.path.join(self.root, "index.json")) as f:
            out.append(f.read())
        return sorted(out)


@pytest.fixture
def berth():
    token = "berth-imgtest-" + secrets.token_hex(4)
    tmp = f"/tmp/{token}"
    os.makedirs(tmp)
    b = Berth(f"{tmp}/store", tmp)
    yield b
    left = mounts_under(tmp)
    for mp in sorted(left, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], check=False)
    shutil.rmtree(tmp, ignore_errors=True)
    assert not left, f"mounts left behind: {left}"
