"""berth against more faults of the proxy: bearer tokens once per scope
set in a command (a cross-repository mount asks for pull on its source), a
429 with Retry-After, an upload dropped half-way, and a pull killed with
SIGKILL, cleaned up by image prune."""
import os
import signal
import subprocess
import time

import pytest
from conftest import BERTH
from imagegen import sha256
from regimages import check_pulled, layered, load, push_result, pushed, sha256_hex, single, skopeo_raw, tree

INSECURE = "--tls-verify=false"


def scope_sets(proxy):
    return [frozenset(s) for s in proxy.tokens_issued]


def test_token_once_per_scope_and_mount_scope(berth, proxy):
    img = layered()
    load(berth, img, "src/rich:1")
    proxy.token_auth = True
    blobs = [d["digest"] for d in img.manifest["layers"]] + [img.manifest["config"]["digest"]]

    # A push of four blobs, three at a time: one token, shared.
    push_result(berth("push", INSECURE, "src/rich:1", f"{proxy.host}/tok/a:1"))
    assert scope_sets(proxy) == [frozenset({"repository:tok/a:pull,push"})], proxy.tokens_issued
    assert len(proxy.requests("GET", "^/token$")) == 1
    authed = [r for r in proxy.requests() if r["path"].startswith("/v2/tok/a/")]
    assert len({r["headers"].get("Authorization") for r in authed}) == 1

    # To another repository of the registry: the blobs are mounted from
    # tok/a, with a token that allows pull there.
    proxy.clear()
    p = berth("push", INSECURE, "src/rich:1", f"{proxy.host}/tok/b:1")
    mount_scope = frozenset({"repository:tok/b:pull,push", "repository:tok/a:pull"})
    assert mount_scope in scope_sets(proxy), proxy.tokens_issued
    assert len(scope_sets(proxy)) == len(set(scope_sets(proxy))), proxy.tokens_issued  # each set once
    mounts = [r for r in proxy.requests("POST", "/blobs/uploads/") if "mount" in r["query"]]
    assert {r["query"]["mount"][0] for r in mounts if r["status"] == 201} == set(blobs), \
        [(r["query"], r["status"], r["note"]) for r in mounts]
    assert all(r["query"]["from"] == ["tok/a"] for r in mounts)
    assert not [r for r in proxy.requests() if r["note"].startswith("401") and "mount" in r["query"]]
    assert not proxy.requests("PATCH") and not proxy.requests("PUT", "/blobs/uploads/")  # nothing uploaded
    assert p.out.count("Mounted from tok/a") == len(blobs), p.out

    # A pull of it: one more scope, one more token.
    proxy.clear()
    other = berth.other_store("store2")
    other("pull", "-q", INSECURE, f"{proxy.host}/tok/b:1")
    assert scope_sets(proxy) == [frozenset({"repository:tok/b:pull"})], proxy.tokens_issued
    assert tree(other, f"{proxy.host}/tok/b:1") == tree(berth, "src/rich:1")


def test_retry_after_429(berth, proxy):
    img = single()
    ref = pushed(proxy, berth, img, "slow/down")
    layer = img.manifest["layers"][0]["digest"]
    proxy.fail = (f"/blobs/{layer}$", 1)
    proxy.fail_status = 429
    proxy.retry_after = "1"
    berth("pull", "-q", INSECURE, ref)
    gets = proxy.requests("GET", f"/blobs/{layer}$")
    assert [r["status"] for r in gets] == [429, 200], proxy.log()
    waited = gets[1]["time"] - gets[0]["time"]
    assert 0.95 <= waited < 5, f"retried {waited:.2f} s after a 429 with Retry-After: 1"
    assert " 429 " in proxy.log() and proxy.log().count(f"/blobs/{layer}") == 2
    check_pulled(berth, img, ref)


@pytest.mark.parametrize("chunked", [False, True], ids=["monolithic", "chunked"])
@pytest.mark.parametrize("reached", [False, True], ids=["lost", "half-received"])
@pytest.mark.parametrize("conn", ["reused", "fresh"])
def test_push_survives_a_dropped_upload(berth, proxy, chunked, reached, conn):
    """The connection drops in the middle of a PUT (or PATCH) body; lost:
    the registry never saw the request; half-received: it got the first
    part of the body, then the end of the connection. reused: on a
    keep-alive connection (curl's own retry on a fresh one needs a rewind);
    fresh: the proxy closes every connection after one answer."""
    img = layered()
    load(berth, img, "src/rich:1")
    proxy.drop_upload = (200000, reached, conn == "reused")
    proxy.no_keepalive = conn == "fresh"
    dest = f"{proxy.host}/dropped/img:1"
    flags = ["--chunk-size", "512k"] if chunked else []
    p = berth("push", INSECURE, *flags, "src/rich:1", dest, check=False)
    assert proxy.upload_dropped, f"no upload was dropped ({conn} connection)"
    assert proxy.upload_dropped[0][0] == ("PATCH" if chunked else "PUT")
    uploads = [(r["method"], r["path"].rsplit("/", 1)[1][:8], r["status"], r["note"])
               for r in proxy.requests(path="/blobs/uploads/")]
    assert p.returncode == 0, f"berth push exited {p.returncode}:\n{p.err}\nuploads: {uploads}"
    _, digest, _ = push_result(p)
    assert digest == sha256(img.manifest_bytes)
    assert sha256_hex(skopeo_raw(berth.env, proxy.registry, f"{proxy.registry.host}/dropped/img:1")) == digest
    other = berth.other_store("store2")
    other("pull", "-q", INSECURE, dest)
    assert tree(other, dest) == tree(berth, "src/rich:1")


def stray(state):
    return [e for e in state if e.startswith("ingest/") or e.startswith("snapshots/tmp-")]


def test_sigkill_during_pull_then_prune_and_pull(berth, proxy):
    img = layered()
    ref = pushed(proxy, berth, img, "killed/img")
    empty = berth.store_state()
    big = max(img.manifest["layers"], key=lambda d: d["size"])
    proxy.slow = (r"/blobs/", 32768, 0.05)  # the big layer: about 1.6 s
    proc = subprocess.Popen([BERTH, "--root", berth.root, "pull", INSECURE, "--max-concurrent-downloads", "3", ref],
                            env=berth.env, cwd=berth.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            gets = proxy.requests("GET", f"/blobs/{big['digest']}$")
            if gets and gets[0]["sent"] >= 300000:
                break
            assert proc.poll() is None, f"berth pull ended before the kill: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "the big layer's download did not get going"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    left = berth.store_state()
    assert stray(left), f"the kill left nothing half-done (the test missed its moment?): {left}"

    proxy.slow = None
    berth("image", "prune")
    after = berth.store_state()
    assert not stray(after), stray(after)
    assert after == empty, "image prune left something of the killed pull"

    p = berth("pull", INSECURE, ref)
    assert p.out.strip().splitlines()[-1] == ref
    check_pulled(berth, img, ref)
    assert not stray(berth.store_state())
