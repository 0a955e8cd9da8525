"""Harness of the registry tests. Reuses tests/image (its Berth wrapper,
mounts_under, imagegen). Each test gets a scratch dir /tmp/berth-regtest-*
(its store, a HOME, DOCKER_CONFIG and XDG dirs so nothing touches /root),
and the registries and proxies it asks for, on free ports of 127.0.0.1;
all of them are stopped and the dir removed after the test, pass or fail.
A failing test's report shows the registries' and proxies' logs."""
import hashlib
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
IMAGE_TESTS = HERE.parent / "image"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(IMAGE_TESTS))

_spec = importlib.util.spec_from_file_location("image_conftest", IMAGE_TESTS / "conftest.py")
image_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(image_conftest)
BERTH = image_conftest.BERTH
mounts_under = image_conftest.mounts_under

from faultproxy import Proxy  # noqa: E402
from regserver import Registry  # noqa: E402

KINDS = ("plain", "basic", "tls")
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "ftp_proxy", "FTP_PROXY")


def make_env(tmp):
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and not k.startswith("BERTH_")
           and k not in ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR",
                         "CONTAINERS_CONF", "CONTAINERS_REGISTRIES_CONF", "REGISTRY_AUTH_FILE")}
    home = f"{tmp}/home"
    for d in (home, f"{home}/.docker", f"{home}/.config", f"{tmp}/run"):
        os.makedirs(d, exist_ok=True)
    os.chmod(f"{tmp}/run", 0o700)
    # podman insists on $DOCKER_CONFIG/config.json when DOCKER_CONFIG is set.
    with open(f"{home}/.docker/config.json", "w") as f:
        f.write("{}\n")
    env.update(HOME=home, DOCKER_CONFIG=f"{home}/.docker", XDG_CONFIG_HOME=f"{home}/.config",
               XDG_RUNTIME_DIR=f"{tmp}/run", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


class Berth(image_conftest.Berth):
    """tests/image's wrapper, run in the test's environment and in an empty
    working directory of the test (stray files show there)."""

    def __init__(self, root, tmp, env):
        super().__init__(root, tmp)
        self.env = env
        self.cwd = f"{tmp}/cwd"
        os.makedirs(self.cwd, exist_ok=True)

    def __call__(self, *args, input=None, check=True, env=None, timeout=120):
        cmd = [BERTH, "--root", self.root, *map(str, args)]
        p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, env=env or self.env, cwd=self.cwd)
        p.out = p.stdout.decode(errors="replace")
        p.err = p.stderr.decode(errors="replace")
        if check and p.returncode != 0:
            raise AssertionError(f"berth {' '.join(map(str, args))} exited {p.returncode}:\n{p.err}{p.out}")
        return p

    def fails(self, *args, input=None, env=None):
        p = self(*args, input=input, check=False, env=env)
        assert p.returncode == 1, f"berth {' '.join(map(str, args))} exited {p.returncode}:\n{p.err}{p.out}"
        assert p.err.startswith("berth: "), p.err
        return p

    def other_store(self, name):
        """A second, independent store in the same scratch dir."""
        return Berth(f"{self.tmp}/{name}", self.tmp, self.env)

    def store_bytes(self):
        """store_state, and what every file outside the snapshots holds."""
        state = self.store_state()  # first: it makes an empty store if there is none
        out = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            if rel.startswith("snapshots/"):
                dirnames[:] = []
                continue
            for n in filenames:
                if rel == "." and n in ("lock", "index.lock"):
                    continue
                with open(os.path.join(dirpath, n), "rb") as f:
                    out[os.path.join(rel, n)] = hashlib.sha256(f.read()).hexdigest()
        return state, out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for s in getattr(item, "_reg_servers", []):
            text = s.log()
            if text:
                rep.sections.append((f"{s.__class__.__name__} {s.host} log", text[-20000:]))


@pytest.fixture
def tmp():
    d = "/tmp/berth-regtest-" + secrets.token_hex(4)
    os.makedirs(d)
    yield d
    left = mounts_under(d)
    for mp in sorted(left, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], check=False)
    shutil.rmtree(d, ignore_errors=True)
    assert not left, f"mounts left behind: {left}"


@pytest.fixture
def env(tmp):
    return make_env(tmp)


@pytest.fixture
def berth(tmp, env):
    if not os.access(BERTH, os.X_OK):
        pytest.fail(f"BERTH={BERTH} is not an executable (build it: ninja -C build berth)")
    return Berth(f"{tmp}/store", tmp, env)


@pytest.fixture
def registry_factory(request, tmp):
    """registry_factory(kind) -> a started Registry; all stopped after the test."""
    started = []
    request.node._reg_servers = getattr(request.node, "_reg_servers", [])

    def make(kind):
        r = Registry(kind, f"{tmp}/{len(started)}")
        started.append(r)
        request.node._reg_servers.append(r)
        return r.start()
    yield make
    for r in started:
        r.stop()


@pytest.fixture(params=KINDS)
def reg(request, registry_factory):
    """The test once per set-up: plain HTTP, basic auth, TLS."""
    return registry_factory(request.param)


@pytest.fixture
def proxy_factory(request, registry_factory):
    """proxy_factory() -> a started fault proxy in front of a new plain
    registry (proxy.registry); all stopped after the test."""
    started = []
    request.node._reg_servers = getattr(request.node, "_reg_servers", [])

    def make():
        r = registry_factory("plain")
        p = Proxy(r.host)
        p.registry = r
        started.append(p)
        request.node._reg_servers.append(p)
        return p.start()
    yield make
    for p in started:
        p.stop()


@pytest.fixture
def proxy(proxy_factory):
    return proxy_factory()


@pytest.fixture
def forward_proxy(request):
    """A started forward HTTP proxy (faultproxy in forward mode), for
    http_proxy; stopped after the test."""
    p = Proxy(None, forward=True)
    request.node._reg_servers = getattr(request.node, "_reg_servers", [])
    request.node._reg_servers.append(p)
    p.start()
    yield p
    p.stop()
