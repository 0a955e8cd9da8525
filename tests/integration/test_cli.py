"""Global flags and the commands that need no running container."""
import json
import os
import re
import subprocess

import pytest

from conftest import RUNTIME
from helpers import assert_error, json_lines, run_cmd

COMMANDS = ["spec", "create", "start", "run", "state", "list", "kill",
            "delete", "exec", "ps", "features"]


def test_version(rt):
    r = rt("--version")
    lines = r.stdout.splitlines()
    assert re.match(r"^\S+ version \S+", lines[0])
    assert any(re.match(r"^spec: \d+\.\d+\.\d+", l) for l in lines)


@pytest.mark.berth_only
def test_version_is_berth(rt):
    lines = rt("--version").stdout.splitlines()
    assert re.match(r"^berth-runtime version \S+$", lines[0])
    assert lines[1] == "spec: 1.3.0"


def test_help(rt):
    r = rt("--help")
    for c in COMMANDS:
        assert c in r.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_on_every_command(rt, cmd):
    r = rt(cmd, "--help")
    assert cmd in r.stdout


def test_root_flag_holds_state(rt, bundle):
    cid = rt.create(bundle)
    assert os.path.isdir(os.path.join(rt.root, cid))
    other = rt.root + "-other"
    rt.files.append(other)
    r = run_cmd([RUNTIME, "--root", other, "list", "-q"],
                stdout=subprocess.PIPE, text=True)
    assert cid not in r.stdout.split()
    assert cid in rt("list", "-q").stdout.split()


def test_log_text(rt, bundle):
    log = bundle.path / "runtime.log"
    r = rt("state", "no-such-ctr", check=False, glob=("--log", log))
    assert r.returncode == 1
    assert "error" in log.read_text()


def test_log_json_records(rt, bundle):
    log = bundle.path / "runtime.log"
    cid = rt.new_id()
    r = rt("state", cid, check=False,
           glob=("--log", log, "--log-format", "json"))
    assert r.returncode == 1
    recs = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
    assert recs, "no log records"
    for rec in recs:
        assert {"level", "msg", "time"} <= rec.keys()
    assert any(rec["level"] == "error" for rec in recs)


def test_log_error_still_on_stderr(rt, bundle):
    log = bundle.path / "runtime.log"
    r = rt("state", rt.new_id(), check=False,
           glob=("--log", log, "--log-format", "json"))
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert r.returncode == 1 and len(lines) == 1


def test_log_format_invalid(rt):
    r = rt("list", check=False, glob=("--log-format", "xml"))
    assert_error(r, "xml")


def test_debug_logs_debug_records(rt, bundle):
    log = bundle.path / "debug.log"
    bundle.probe("exit", "0")
    r = rt.run(bundle, glob=("--debug", "--log", log, "--log-format", "json"))
    assert r.returncode == 0, r.stderr
    recs = json_lines(log.read_text())
    assert any(rec["level"] == "debug" for rec in recs)


def test_systemd_cgroup_is_a_clear_error(rt, bundle):
    bundle.probe("exit", "0")
    r = rt.run(bundle, glob=("--systemd-cgroup",))
    assert_error(r, "systemd")


def test_spec_writes_config(rt, bundle):
    d = bundle.hostdir("specdir")
    rt("spec", cwd=d)
    cfg = json.loads((d / "config.json").read_text())
    assert re.match(r"^\d+\.\d+\.\d+", cfg["ociVersion"])
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"] and cfg["process"]["cwd"] == "/"
    types = {n["type"] for n in cfg["linux"]["namespaces"]}
    assert {"pid", "mount"} <= types
    assert "user" not in types
    dests = [m["destination"] for m in cfg["mounts"]]
    assert "/proc" in dests and "/dev" in dests


def test_spec_bundle_flag(rt, bundle):
    d = bundle.hostdir("specdir")
    rt("spec", "--bundle", d)
    assert json.loads((d / "config.json").read_text())["root"]["path"]


def test_spec_refuses_to_overwrite(rt, bundle):
    d = bundle.hostdir("specdir")
    (d / "config.json").write_text("{}")
    r = rt("spec", "--bundle", d, check=False)
    assert_error(r, "config.json")
    assert (d / "config.json").read_text() == "{}"


def test_spec_rootless(rt, bundle):
    d = bundle.hostdir("specdir")
    rt("spec", "--rootless", "--bundle", d)
    cfg = json.loads((d / "config.json").read_text())
    types = {n["type"] for n in cfg["linux"]["namespaces"]}
    assert "user" in types and "network" not in types
    assert cfg["linux"]["uidMappings"][0]["hostID"] == os.geteuid()
    assert cfg["linux"]["gidMappings"][0]["hostID"] == os.getegid()


def test_features(rt):
    f = json.loads(rt("features").stdout)
    assert "ociVersionMin" in f and "ociVersionMax" in f
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                               "startContainer", "poststart", "poststop"}
    assert "bind" in f["mountOptions"] and "ro" in f["mountOptions"]
    assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= \
        set(f["linux"]["namespaces"])
    assert "CAP_SYS_ADMIN" in f["linux"]["capabilities"]


@pytest.mark.berth_only
def test_features_spec_1_3(rt):
    f = json.loads(rt("features").stdout)
    assert f["ociVersionMax"] == "1.3.0"
    assert "time" in f["linux"]["namespaces"]
    assert "idmap" in f["mountOptions"]


@pytest.mark.parametrize("flags", [(), ("--format", "table")])
def test_list_table(rt, bundle, flags):
    cid = rt.create(bundle)
    lines = rt("list", *flags).stdout.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED",
                                "OWNER"]
    row = next(l.split() for l in lines[1:] if l.startswith(cid))
    assert row[1] == str(rt.state(cid)["pid"])
    assert row[2] == "created" and row[3] == str(bundle.path)


def test_list_quiet(rt, make_bundle):
    ids = sorted(rt.create(make_bundle()) for _ in range(2))
    assert sorted(rt("list", "-q").stdout.split()) == ids


def test_list_json(rt, bundle):
    cid = rt.create(bundle)
    entries = json.loads(rt("list", "--format", "json").stdout)
    assert [e["id"] for e in entries] == [cid]
    e = entries[0]
    assert e["status"] == "created" and e["pid"] == rt.state(cid)["pid"]
    assert e["bundle"] == str(bundle.path)


def test_list_empty_root(rt):
    assert rt("list", "-q").stdout.strip() == ""
    assert json.loads(rt("list", "--format", "json").stdout) in (None, [])


@pytest.mark.parametrize("flags", [(), ("--format", "table")])
def test_ps_table(rt, bundle, flags):
    cid = rt.start_sigwait(bundle)
    lines = rt("ps", *flags, cid).stdout.splitlines()
    assert "PID" in lines[0].split()
    col = lines[0].split().index("PID")
    pids = [int(l.split()[col]) for l in lines[1:]]
    assert rt.state(cid)["pid"] in pids


def test_ps_json(rt, bundle):
    cid = rt.start_sigwait(bundle)
    assert json.loads(rt("ps", "--format", "json", cid).stdout) == \
        [rt.state(cid)["pid"]]
