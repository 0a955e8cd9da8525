"""Bad flags and references: exit non-zero, a message starting "berth: "
that names what was wrong, and nothing left behind (store unchanged, no
files in the working directory, the scratch dir or HOME)."""
import os

import pytest
from regimages import load, single

INSECURE = "--tls-verify=false"


def snapshot(berth):
    files = sorted(os.path.relpath(os.path.join(p, n), berth.tmp) for p, ds, fs in os.walk(berth.tmp)
                   for n in fs + ds if not os.path.relpath(p, berth.tmp).startswith("store"))
    return berth.store_bytes(), files


CASES = [
    # (args, a word the message must contain)
    (["pull"], "pull"),
    (["pull", INSECURE, "Bad/Name:1"], "Bad/Name"),
    (["pull", INSECURE, "127.0.0.1:1/a:b:c"], "a:b:c"),
    (["pull", INSECURE, "127.0.0.1:1/a@sha256:abc"], "sha256:abc"),
    (["pull", INSECURE, "127.0.0.1:1/a@md5:" + "0" * 32], "md5"),
    (["pull", "--platform", "linux/amd64/v1/extra", INSECURE, "127.0.0.1:1/a:1"], "--platform"),
    (["pull", "--max-concurrent-downloads", "0", INSECURE, "127.0.0.1:1/a:1"], "--max-concurrent-downloads"),
    (["pull", "--max-concurrent-downloads", "many", INSECURE, "127.0.0.1:1/a:1"], "--max-concurrent-downloads"),
    (["pull", "--tls-verify=maybe", "127.0.0.1:1/a:1"], "--tls-verify"),
    (["pull", "--no-such-flag", "127.0.0.1:1/a:1"], "--no-such-flag"),
    (["pull", "--cert-dir", "/nonexistent/certs", "127.0.0.1:1/a:1"], "/nonexistent/certs"),
    (["pull", "--creds", ":pass", INSECURE, "127.0.0.1:1/a:1"], "--creds"),
    (["pull", INSECURE, "127.0.0.1:1/a:1", "extra"], "extra"),
    (["push"], "push"),
    (["push", INSECURE, "src/one:1", "127.0.0.1:1/UPPER:1"], "UPPER"),
    (["push", INSECURE, "src/one:1", "127.0.0.1:1/a@sha256:" + "0" * 64], "digest"),
    (["push", INSECURE, "--chunk-size", "-5", "src/one:1", "127.0.0.1:1/a:1"], "--chunk-size"),
    (["push", INSECURE, "--chunk-size", "big", "src/one:1", "127.0.0.1:1/a:1"], "--chunk-size"),
    (["push", INSECURE, "nothere:1", "127.0.0.1:1/a:1"], "nothere"),
    (["login"], "username"),  # docker.io, as docker; stdin is no terminal
    (["login", "-u", "u", "-p", "p", "--password-stdin", "127.0.0.1:1"], "--password-stdin"),
    (["login", "-u", "u", "-p", "p", "no such host"], "no such host"),
    (["logout", "127.0.0.1:1", "127.0.0.1:2"], "127.0.0.1:2"),
    (["manifest", "inspect"], "inspect"),
    (["manifest", "inspect", INSECURE, "Bad/Name"], "Bad/Name"),
]


@pytest.mark.parametrize("args,word", CASES, ids=[" ".join(c[0]) or "empty" for c in CASES])
def test_bad_invocation(berth, args, word):
    load(berth, single(), "src/one:1")
    before = snapshot(berth)
    p = berth(*args, check=False, input=b"p\n", timeout=60)
    assert p.returncode != 0, f"berth {' '.join(args)} succeeded:\n{p.out}"
    assert p.err.startswith("berth: ") and word in p.err, p.err
    assert "Login Succeeded" not in p.out
    assert snapshot(berth) == before


def test_unreachable_registry(berth):
    """Nothing listens on the port: a message naming it, quickly."""
    from regserver import free_port
    host = f"127.0.0.1:{free_port()}"
    load(berth, single(), "src/one:1")
    before = snapshot(berth)
    for args in (["pull", INSECURE, f"{host}/a:1"], ["push", INSECURE, "src/one:1", f"{host}/a:1"],
                 ["manifest", "inspect", INSECURE, f"{host}/a:1"],
                 ["login", "-u", "u", "-p", "p", INSECURE, "--authfile", f"{berth.tmp}/auth.json", host]):
        p = berth.fails(*args)
        assert host in p.err, p.err
    assert snapshot(berth) == before
