"""docker drives berth-runtime: dockerd (daemon.json: "runtimes": {"berth":
{"path": ...}}, default runtime berth) on a private containerd, whose runc
shim runs berth-runtime as its BinaryName. dockerd and containerd start once
for the module (clients.Docker); the scenarios shared with podman are in
engine_scenarios.py, the docker-only ones here."""
import pytest

from client_image import IMAGE
from clients import DOCKER, Docker, clean_fixture, client_fixture, have
from engine_scenarios import *  # noqa: F401,F403 -- the shared scenarios, collected here
from engine_scenarios import detached, name, wait_exit, wait_logs
from helpers import poll

pytestmark = [pytest.mark.skipif(not have(DOCKER, "dockerd", "containerd"),
                                 reason="docker.io/containerd not installed"),
              pytest.mark.usefixtures("clean")]

engine = client_fixture(Docker)
clean = clean_fixture()


def test_restart_policy_restarts_a_failing_container(engine, rt):
    cid = name(rt, "policy")
    engine.run("-d", "--name", cid, "--restart", "on-failure:2", IMAGE,
               "sh", "-c", "echo attempt; exit 5")
    assert wait_exit(engine, cid) == 5
    logs = wait_logs(engine, cid, "attempt")
    assert int(engine.inspect(cid, "{{.RestartCount}}")) == 2, logs
    assert logs.count("attempt") == 3


def test_attach_sees_output_and_exit(engine, rt):
    cid = detached(engine, rt, "attach", cmd=("sh", "-c", "sleep 1; echo late; exit 6"))
    r = engine("attach", cid, check=False)
    assert "late" in r.stdout and r.returncode == 6, r


def test_exec_detached(engine, rt):
    cid = detached(engine, rt, "execd")
    engine("exec", "-d", cid, "sh", "-c", "echo bg > /tmp/bg")
    assert poll(lambda: engine("exec", cid, "cat", "/tmp/bg", check=False).stdout == "bg\n",
                10, 0.1)
