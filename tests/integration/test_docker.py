"""docker drives berth-runtime: dockerd (daemon.json: "runtimes": {"berth":
{"path": ...}}, default runtime berth) on a private containerd, whose runc
shim runs berth-runtime as its BinaryName. dockerd and containerd start once
for the module (clients.Docker); the scenarios shared with podman are in
engine_scenarios.py, the docker-only ones here."""
import pytest

from clients import DOCKER, Docker, clean_fixture, client_fixture, have
from engine_scenarios import *  # noqa: F401,F403 -- the shared scenarios, collected here

pytestmark = [pytest.mark.skipif(not have(DOCKER, "dockerd", "containerd"),
                                 reason="docker.io/containerd not installed"),
              pytest.mark.usefixtures("clean")]

engine = client_fixture(Docker)
clean = clean_fixture()
