"""podman drives berth-runtime through conmon, as it drives runc
(`podman --runtime`): private vfs storage (no overlay mounts to leak), run
root, tmp dir and containers.conf; network off; cgroupfs; file events. podman
is set up once for the module (clients.Podman); the scenarios shared with
docker are in engine_scenarios.py, the podman-only ones here."""
import shutil

import pytest

from client_image import IMAGE
from clients import Podman, clean_fixture, client_fixture
from engine_scenarios import *  # noqa: F401,F403 -- the shared scenarios, collected here
from helpers import host_ns, json_lines

pytestmark = [pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed"),
              pytest.mark.usefixtures("clean")]

engine = client_fixture(Podman)
clean = clean_fixture()


@pytest.mark.berth_only
def test_impossible_memory_limit_reaches_user(engine):
    """podman passes 4k on to the runtime: berth-runtime's message reaches the user."""
    r = engine.run("--rm", "--memory", "4k", IMAGE, "true", check=False)
    # (podman 4.3 itself sometimes exits 0 here; the message is what we own)
    assert "berth-runtime" in r.stderr and "memory" in r.stderr.lower(), r.stderr


def test_user_namespace_uidmap(engine):
    out = engine.run("--rm", "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536",
                     IMAGE, "sh", "-c", "/probe read /proc/self/uid_map; /probe").stdout
    uid_map, rep = json_lines(out)
    assert uid_map["data"].split() == ["0", "100000", "65536"]
    assert rep["namespaces"]["user"] != host_ns("user")
    assert rep["uid"]["effective"] == 0
