"""login/logout and credentials (--creds, --authfile, REGISTRY_AUTH_FILE)
against the basic-auth registry; TLS trust through --cert-dir and
BERTH_CERTS_D; 401 and certificate errors."""
import base64
import json
import os
import re
import shutil

from regimages import inspect, load, push_result, single, skopeo_push
from regserver import PASSWORD, USER

INSECURE = "--tls-verify=false"


def says_auth(err):
    """The message says authentication is required or failed."""
    return re.search(r"authenticat|unauthori[sz]ed|credentials", err.lower())


def files_under(d):
    return sorted(os.path.relpath(os.path.join(p, n), d) for p, ds, fs in os.walk(d) for n in fs + ds)


def test_login_logout(berth, registry_factory):
    reg = registry_factory("basic")
    authfile = f"{berth.tmp}/auth/auth.json"
    home_before = files_under(berth.env["HOME"])
    ref = f"{reg.host}/auth/img:1"
    skopeo_push(berth.env, single(), f"{berth.tmp}/layout", reg, ref, tag="1")

    # A wrong password fails and stores nothing.
    p = berth.fails("login", "-u", USER, "-p", "wrong", INSECURE, "--authfile", authfile, reg.host)
    assert reg.host in p.err and says_auth(p.err), p.err
    assert "Login Succeeded" not in p.out
    assert not os.path.exists(authfile)
    assert files_under(berth.env["HOME"]) == home_before

    # Without credentials the pull says authentication is required.
    p = berth.fails("pull", INSECURE, "--authfile", authfile, ref)
    assert says_auth(p.err) and ref.split(":1")[0] in p.err, p.err

    p = berth("login", "-u", USER, "--password-stdin", INSECURE, "--authfile", authfile, reg.host,
              input=PASSWORD.encode() + b"\n")
    assert "Login Succeeded" in p.out
    auths = json.load(open(authfile))["auths"]
    assert base64.b64decode(auths[reg.host]["auth"]).decode() == f"{USER}:{PASSWORD}"
    assert os.stat(authfile).st_mode & 0o077 == 0
    berth("pull", INSECURE, "--authfile", authfile, ref)
    assert inspect(berth, ref)["Id"] == single().id
    load(berth, single(), "src/one:1")
    push_result(berth("push", INSECURE, "--authfile", authfile, "src/one:1", f"{reg.host}/auth/pushed:1"))

    p = berth("logout", "--authfile", authfile, reg.host)
    assert reg.host in p.out
    assert reg.host not in json.load(open(authfile)).get("auths", {})
    p = berth.fails("pull", INSECURE, "--authfile", authfile, f"{reg.host}/auth/pushed:1")
    assert says_auth(p.err), p.err
    # Logging out again (docker: success; podman: an error naming the registry).
    p = berth("logout", "--authfile", authfile, reg.host, check=False)
    assert p.returncode == 0 or reg.host in p.err
    assert reg.host not in json.load(open(authfile)).get("auths", {})
    assert files_under(berth.env["HOME"]) == home_before  # --authfile: nothing in HOME


def test_login_default_files(berth, registry_factory):
    """REGISTRY_AUTH_FILE, else $XDG_CONFIG_HOME/berth/auth.json (the test's
    HOME); docker's config.json is read too."""
    reg = registry_factory("basic")
    ref = f"{reg.host}/auth/img:1"
    skopeo_push(berth.env, single(), f"{berth.tmp}/layout", reg, ref, tag="1")
    env = dict(berth.env, REGISTRY_AUTH_FILE=f"{berth.tmp}/env-auth.json")
    berth("login", "-u", USER, "-p", PASSWORD, INSECURE, reg.host, env=env)
    assert reg.host in json.load(open(f"{berth.tmp}/env-auth.json"))["auths"]
    assert not os.path.exists(f"{berth.env['XDG_CONFIG_HOME']}/berth/auth.json")
    berth("pull", "-q", INSECURE, ref, env=env)
    berth("rmi", ref)

    berth("login", "-u", USER, "-p", PASSWORD, INSECURE, reg.host)
    default = f"{berth.env['XDG_CONFIG_HOME']}/berth/auth.json"
    assert reg.host in json.load(open(default))["auths"]
    berth("pull", "-q", INSECURE, ref)
    berth("rmi", ref)
    berth("logout", reg.host)
    assert reg.host not in json.load(open(default)).get("auths", {})

    # docker's own file.
    with open(f"{berth.env['DOCKER_CONFIG']}/config.json", "w") as f:
        json.dump({"auths": {reg.host: {"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}}, f)
    berth("pull", "-q", INSECURE, ref)


def test_creds(berth, registry_factory):
    reg = registry_factory("basic")
    ref = f"{reg.host}/creds/img:1"
    skopeo_push(berth.env, single(), f"{berth.tmp}/layout", reg, ref, tag="1")
    before = berth.store_bytes()
    p = berth.fails("pull", INSECURE, "--creds", f"{USER}:nope", ref)
    assert says_auth(p.err), p.err
    assert berth.store_bytes() == before
    p = berth("pull", INSECURE, "--creds", USER, ref, check=False)  # no password: a usage error
    assert p.returncode != 0 and p.err.startswith("berth: ") and "--creds" in p.err, p.err
    assert berth("pull", "-q", INSECURE, "--creds", f"{USER}:{PASSWORD}", ref).out == ref + "\n"
    assert not os.path.exists(f"{berth.env['XDG_CONFIG_HOME']}/berth/auth.json")  # --creds stores nothing


def test_login_tls(berth, registry_factory):
    reg = registry_factory("tls")
    authfile = f"{berth.tmp}/auth.json"
    p = berth.fails("login", "-u", "a", "-p", "b", "--authfile", authfile, reg.host)
    assert "certificate" in p.err.lower() or "x509" in p.err.lower() or "tls" in p.err.lower(), p.err
    # The TLS registry has no auth: any credentials are accepted.
    p = berth("login", "-u", "a", "-p", "b", "--cert-dir", reg.cert_dir, "--authfile", authfile, reg.host)
    assert "Login Succeeded" in p.out


def test_tls_trust(berth, registry_factory):
    reg = registry_factory("tls")
    ref = f"{reg.host}/tls/img:1"
    skopeo_push(berth.env, single(), f"{berth.tmp}/layout", reg, ref, tag="1")
    before = berth.store_bytes()
    p = berth.fails("pull", ref)  # the CA is not trusted
    assert reg.host in p.err and any(w in p.err.lower() for w in ("certificate", "x509", "tls", "ssl")), p.err
    assert berth.store_bytes() == before
    certs_d = f"{berth.tmp}/certs.d"
    os.makedirs(f"{certs_d}/{reg.host}")
    shutil.copy(f"{reg.cert_dir}/ca.crt", f"{certs_d}/{reg.host}/ca.crt")
    assert berth("pull", "-q", ref, env=dict(berth.env, BERTH_CERTS_D=certs_d)).out == ref + "\n"
    berth("rmi", ref)
    assert berth("pull", "-q", "--cert-dir", reg.cert_dir, ref).out == ref + "\n"
    # --tls-verify=false takes the registry's word for it.
    berth("rmi", ref)
    assert berth("pull", "-q", INSECURE, ref).out == ref + "\n"
