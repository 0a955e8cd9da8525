"""Credential helpers end to end: a fake docker-credential-test first on
PATH, named by $DOCKER_CONFIG/config.json (credHelpers, credsStore) or by
berth's auth file; get for pulls, store for login, erase for logout."""
import json
import os
import textwrap

import pytest
from regimages import inspect, single, skopeo_push
from regserver import PASSWORD, USER

INSECURE = "--tls-verify=false"

HELPER = textwrap.dedent('''\
    #!/usr/bin/python3
    # A fake docker-credential helper: secrets in STATE/store.json, each call
    # logged to STATE/calls.jsonl as [action, stdin].
    import json, os, sys
    state = {state!r}
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    data = sys.stdin.read()
    with open(state + "/calls.jsonl", "a") as f:
        f.write(json.dumps([action, data]) + "\\n")
    path = state + "/store.json"
    store = json.load(open(path)) if os.path.exists(path) else {{}}
    def save():
        with open(path, "w") as f:
            json.dump(store, f)
    if action == "get":
        url = data.strip()
        if url not in store:
            print("credentials not found in native keychain")
            sys.exit(1)
        print(json.dumps({{"ServerURL": url, "Username": store[url][0], "Secret": store[url][1]}}))
    elif action == "store":
        j = json.loads(data)
        store[j["ServerURL"]] = [j["Username"], j["Secret"]]
        save()
    elif action == "erase":
        url = data.strip()
        if url not in store:
            print("credentials not found in native keychain")
            sys.exit(1)
        del store[url]
        save()
    else:
        print("unknown action " + action)
        sys.exit(1)
''')


class FakeHelper:
    def __init__(self, tmp, env):
        self.state = f"{tmp}/helper"
        bindir = f"{tmp}/bin"
        os.makedirs(self.state)
        os.makedirs(bindir)
        path = f"{bindir}/docker-credential-test"
        with open(path, "w") as f:
            f.write(HELPER.format(state=self.state))
        os.chmod(path, 0o755)
        env["PATH"] = bindir + ":" + env.get("PATH", "/usr/bin:/bin")

    def calls(self):
        try:
            with open(f"{self.state}/calls.jsonl") as f:
                return [tuple(json.loads(l)) for l in f]
        except FileNotFoundError:
            return []

    def store(self):
        try:
            with open(f"{self.state}/store.json") as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def set(self, store):
        with open(f"{self.state}/store.json", "w") as f:
            json.dump(store, f)


@pytest.fixture
def helper(berth):
    return FakeHelper(berth.tmp, berth.env)


def write_json(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f)


@pytest.mark.parametrize("how", ["credHelpers", "credsStore"])
def test_pull_with_credentials_from_a_helper(berth, registry_factory, helper, how):
    reg = registry_factory("basic")
    ref = f"{reg.host}/helped/img:1"
    skopeo_push(berth.env, single(), f"{berth.tmp}/layout", reg, ref, tag="1")
    conf = {"credHelpers": {reg.host: "test"}} if how == "credHelpers" else {"credsStore": "test"}
    write_json(f"{berth.env['DOCKER_CONFIG']}/config.json", conf)

    # Nothing in the helper: no credentials, the registry says 401.
    p = berth.fails("pull", INSECURE, ref)
    assert "auth" in p.err.lower() or "credentials" in p.err.lower(), p.err
    assert ("get", reg.host) in [(a, d.strip()) for a, d in helper.calls()], helper.calls()
    # A wrong secret from it: refused (so the helper's answer is what is sent).
    helper.set({reg.host: [USER, "wrong"]})
    p = berth.fails("pull", INSECURE, ref)
    assert "auth" in p.err.lower() or "credentials" in p.err.lower(), p.err
    helper.set({reg.host: [USER, PASSWORD]})
    assert berth("pull", "-q", INSECURE, ref).out == ref + "\n"
    assert inspect(berth, ref)["Id"] == single().id
    assert {a for a, _ in helper.calls()} == {"get"}, helper.calls()


def test_login_logout_through_a_helper(berth, registry_factory, helper):
    reg = registry_factory("basic")
    ref = f"{reg.host}/helped/img:1"
    skopeo_push(berth.env, single(), f"{berth.tmp}/layout", reg, ref, tag="1")
    authfile = f"{berth.env['XDG_CONFIG_HOME']}/berth/auth.json"  # berth's default
    write_json(authfile, {"credsStore": "test"})

    p = berth("login", "-u", USER, "--password-stdin", INSECURE, reg.host, input=PASSWORD.encode() + b"\n")
    assert "Login Succeeded" in p.out
    stores = [json.loads(d) for a, d in helper.calls() if a == "store"]
    assert stores == [{"ServerURL": reg.host, "Username": USER, "Secret": PASSWORD}], helper.calls()
    assert helper.store() == {reg.host: [USER, PASSWORD]}
    with open(authfile) as f:
        text = f.read()
    doc = json.loads(text)  # the secret went to the helper only
    assert doc.get("credsStore") == "test" and not doc.get("auths", {}).get(reg.host), text

    assert berth("pull", "-q", INSECURE, ref).out == ref + "\n"
    assert ("get", reg.host) in [(a, d.strip()) for a, d in helper.calls()]

    p = berth("logout", reg.host)
    assert reg.host in p.out
    erases = [d.strip() for a, d in helper.calls() if a == "erase"]
    assert erases == [reg.host], helper.calls()
    assert helper.store() == {}
    berth("rmi", ref)
    p = berth.fails("pull", INSECURE, ref)
    assert "auth" in p.err.lower() or "credentials" in p.err.lower(), p.err
