"""AppArmor and SELinux on this host, which has neither enabled (see
MACHINE-NOTES): like runc, a config that asks for a profile or a label fails
— berth before anything is made, with a message naming the field — and
nothing is left behind. The code that applies them when the modules are
there is unit-tested (src/linux/lsm_test.cpp)."""
import json
import os
from pathlib import Path

import pytest

from helpers import assert_error


def lsm_enabled():
    aa = Path("/sys/module/apparmor/parameters/enabled")
    return (aa.exists() and aa.read_text().startswith("Y")) or \
        Path("/sys/fs/selinux/enforce").exists()


pytestmark = pytest.mark.skipif(lsm_enabled(), reason="this host has an LSM enabled")

FIELDS = [
    ("process", "apparmorProfile", "berth-test-profile", "AppArmor"),
    ("process", "selinuxLabel", "system_u:system_r:container_t:s0:c1,c2", "SELinux"),
    ("linux", "mountLabel", "system_u:object_r:container_file_t:s0:c1,c2", "SELinux"),
]


@pytest.mark.parametrize("where,field,value,lsm", FIELDS, ids=[f[1] for f in FIELDS])
def test_asking_for_an_absent_lsm_fails(rt, bundle, where, field, value, lsm):
    bundle.cfg[where][field] = value
    bundle.write()
    r = rt.run(bundle)
    assert r.returncode != 0
    assert rt.status(r.id) is None


@pytest.mark.berth_only
@pytest.mark.parametrize("where,field,value,lsm", FIELDS, ids=[f[1] for f in FIELDS])
def test_the_error_names_field_and_module(rt, bundle, where, field, value, lsm):
    bundle.cfg[where][field] = value
    bundle.write()
    r = rt.create_r(bundle)
    assert_error(r, f"{where}.{field}", value, f"{lsm} is not enabled")


@pytest.mark.berth_only  # runc 1.1.5 fails writing "exec unconfined"
def test_apparmor_unconfined_is_nothing_to_do(rt, bundle):
    bundle.process["apparmorProfile"] = "unconfined"
    assert rt.run_probe(bundle)["seccomp"] == 0


@pytest.mark.berth_only
def test_exec_flags_and_process_file(rt, bundle):
    cid = rt.start_sigwait(bundle)
    r = rt("exec", "--apparmor", "berth-test-profile", cid, "/probe", check=False)
    assert_error(r, "apparmorProfile", "AppArmor")
    r = rt("exec", "--process-label", "system_u:system_r:container_t:s0", cid, "/probe",
           check=False)
    assert_error(r, "selinuxLabel", "SELinux")
    f = bundle.path / "process.json"
    f.write_text(json.dumps({"args": ["/probe"], "cwd": "/",
                             "apparmorProfile": "berth-test-profile"}))
    assert_error(rt("exec", "--process", f, cid, check=False), "apparmorProfile")
    assert rt.status(cid) == "running"
    assert rt.exec_probe(cid)["pid"] > 1  # a plain exec still works
