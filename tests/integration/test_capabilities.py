"""process.capabilities: the five sets as /proc/self/status shows them, for
the init and for exec; names that are not capabilities are refused."""
import json

import pytest

from helpers import assert_error, cap_mask, caps_of, last_json

SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")
CAPS5 = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"],
    "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "effective": ["CAP_CHOWN", "CAP_KILL"],
    "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "ambient": ["CAP_KILL"],
}


def expected(user, nnp):
    """What /proc/self/status shows after execve of a file without file
    capabilities (capabilities(7))."""
    amb = cap_mask(CAPS5["ambient"])
    want = {"bounding": cap_mask(CAPS5["bounding"]),
            "inheritable": cap_mask(CAPS5["inheritable"]), "ambient": amb}
    if user != 0:  # P'(permitted) = P'(effective) = P'(ambient)
        want["permitted"] = want["effective"] = amb
    elif nnp:      # root keeps permitted; effective = permitted
        want["permitted"] = want["effective"] = cap_mask(CAPS5["permitted"])
    else:          # root without no_new_privs: bounding | inheritable
        want["permitted"] = want["effective"] = \
            cap_mask(CAPS5["bounding"]) | cap_mask(CAPS5["inheritable"])
    return want


def check(rep, want):
    got = {s: caps_of(rep, s) for s in SETS}
    assert got == want, {s: (hex(got[s]), hex(want[s])) for s in SETS}


CASES = [(1000, True), (0, True), (0, False)]


@pytest.mark.parametrize("uid,nnp", CASES)
def test_init_five_sets(rt, bundle, uid, nnp):
    bundle.process["user"] = {"uid": uid, "gid": uid}
    bundle.process["noNewPrivileges"] = nnp
    bundle.process["capabilities"] = CAPS5
    check(rt.run_probe(bundle), expected(uid, nnp))


@pytest.mark.parametrize("uid,nnp", CASES)
def test_exec_five_sets(rt, bundle, uid, nnp):
    cid = rt.start_sigwait(bundle)
    proc = {"args": ["/probe"], "cwd": "/", "user": {"uid": uid, "gid": uid},
            "noNewPrivileges": nnp, "capabilities": CAPS5}
    f = bundle.path / "process.json"
    f.write_text(json.dumps(proc))
    check(last_json(rt("exec", "--process", f, cid).stdout), expected(uid, nnp))


def test_exec_inherits_the_init_sets(rt, bundle):
    bundle.process["capabilities"] = {s: ["CAP_KILL", "CAP_CHOWN"] for s in SETS}
    cid = rt.start_sigwait(bundle)
    rep = rt.exec_probe(cid)
    for s in SETS:
        assert caps_of(rep, s) == cap_mask(["CAP_KILL", "CAP_CHOWN"]), s


# runc 1.1.5 only warns ("ignoring unknown or unavailable capabilities") and
# goes on; berth refuses a name that is no capability at all, and skips with
# a warning only real capabilities this kernel lacks (unit-tested: this
# host's kernel knows every capability there is).
@pytest.mark.berth_only
@pytest.mark.parametrize("which", SETS)
def test_unknown_capability_name_fails_create(rt, bundle, which):
    bundle.process["capabilities"][which] = ["CAP_KILL", "CAP_TIME_TRAVEL"]
    bundle.write()
    r = rt.create_r(bundle)
    assert_error(r, "CAP_TIME_TRAVEL", f"capabilities.{which}")
    assert rt.status(r.id) is None


@pytest.mark.berth_only
def test_unknown_capability_name_fails_run(rt, bundle):
    bundle.process["capabilities"]["bounding"] = ["not_a_cap"]
    bundle.write()
    assert_error(rt.run(bundle), "not_a_cap")


@pytest.mark.berth_only
def test_unknown_capability_name_fails_exec(rt, bundle):
    cid = rt.start_sigwait(bundle)
    assert_error(rt("exec", "--cap", "CAP_BOGUS", cid, "/probe", check=False),
                 "CAP_BOGUS")
    proc = {"args": ["/probe"], "cwd": "/",
            "capabilities": {"effective": ["CAP_MAGIC"]}}
    f = bundle.path / "process.json"
    f.write_text(json.dumps(proc))
    assert_error(rt("exec", "--process", f, cid, check=False), "CAP_MAGIC",
                 "capabilities.effective")
    assert rt.status(cid) == "running"
