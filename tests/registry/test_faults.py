"""berth against the fault proxy: a dropped blob download resumed with a
Range request, retries after 500s, bearer tokens (fetched once per scope,
reused, refreshed when expired), corrupted manifests and blobs, a huge
manifest, chunked uploads; and the registry's 404 and 401 in the messages."""
import re

from imagegen import sha256
from regimages import check_pulled, inspect, layered, load, push_result, pushed, run, single, tree, uncompressed

INSECURE = "--tls-verify=false"


def says_auth(err):
    """The message says authentication is required or failed."""
    return re.search(r"authenticat|unauthori[sz]ed|credentials", err.lower())


def test_resume_after_a_dropped_connection(berth, proxy):
    img = layered()
    ref = pushed(proxy, berth, img, "faults/resume")
    big = max(img.manifest["layers"], key=lambda d: d["size"])
    proxy.drop_blob_after = big["size"] // 2
    p = berth("pull", INSECURE, ref)
    assert p.out.strip().splitlines()[-1] == ref
    assert proxy.dropped == [f"/v2/faults/resume/blobs/{big['digest']}"]
    gets = proxy.requests("GET", f"/blobs/{big['digest']}$")
    assert gets[0]["note"].startswith("dropped")
    ranges = [r["headers"].get("Range") for r in gets[1:]]
    assert f"bytes={big['size'] // 2}-" in ranges, f"no resume from the byte it had: {ranges}"
    assert [r["status"] for r in gets[1:] if r["headers"].get("Range")][-1] == 206
    check_pulled(berth, img, ref)


def test_retry_after_500(berth, proxy):
    img = layered()
    ref = pushed(proxy, berth, img, "faults/retry")
    layer = img.manifest["layers"][0]["digest"]
    proxy.fail = (f"/blobs/{layer}$", 2)
    berth("pull", "-q", INSECURE, ref)
    assert [r["status"] for r in proxy.requests("GET", f"/blobs/{layer}$")] == [500, 500, 200]
    check_pulled(berth, img, ref)


def test_persistent_500_fails_naming_the_registry_error(berth, proxy):
    img = single()
    ref = pushed(proxy, berth, img, "faults/broken")
    proxy.fail = (r"/manifests/", 1000)
    before = berth.store_bytes()
    p = berth.fails("pull", INSECURE, ref)
    assert "injected failure" in p.err or "UNKNOWN" in p.err, p.err
    assert "faults/broken" in p.err
    assert berth.store_bytes() == before
    assert len(proxy.requests(path="/manifests/")) < 20  # gave up


def scopes_of(proxy):
    """Each scope a token was fetched for, as (repo, frozenset(actions))."""
    out = []
    for scopes in proxy.tokens_issued:
        for s in scopes:
            kind, rest = s.split(":", 1)
            repo, actions = rest.rsplit(":", 1)
            out.append((repo, frozenset(actions.split(","))))
    return out


def test_token_flow_pull_and_push(berth, proxy):
    img = layered()
    ref = pushed(proxy, berth, img, "tok/img")
    proxy.token_auth = True
    berth("pull", "-q", INSECURE, ref)
    check_pulled(berth, img, ref)
    assert scopes_of(proxy) == [("tok/img", frozenset({"pull"}))], proxy.tokens_issued  # once, not per request
    blob_gets = proxy.requests("GET", "/blobs/")
    assert len(blob_gets) == len(img.manifest["layers"]) + 1
    assert all(r["status"] == 200 and r["headers"]["Authorization"].startswith("Bearer ") for r in blob_gets)
    assert len({r["headers"]["Authorization"] for r in blob_gets}) == 1  # one token reused across layers

    proxy.clear()
    load(berth, uncompressed(), "src/unc:1")
    push_result(berth("push", INSECURE, "src/unc:1", f"{proxy.host}/tok/pushed:1"))
    got = scopes_of(proxy)
    assert ("tok/pushed", frozenset({"pull", "push"})) in got
    assert len(got) == len(set(got)), got  # each scope fetched once
    writes = [r for r in proxy.requests() if r["method"] in ("POST", "PATCH", "PUT")]
    assert writes and all(r["status"] in (201, 202) for r in writes)


def test_token_with_credentials(berth, proxy):
    img = single()
    ref = pushed(proxy, berth, img, "tok/creds")
    proxy.token_auth = True
    proxy.token_creds = ("tuser", "tpass")
    before = berth.store_bytes()
    p = berth.fails("pull", INSECURE, ref)
    assert says_auth(p.err), p.err
    p = berth.fails("pull", INSECURE, "--creds", "tuser:wrong", ref)
    assert says_auth(p.err), p.err
    assert berth.store_bytes() == before
    berth("pull", "-q", INSECURE, "--creds", "tuser:tpass", ref)
    assert inspect(berth, ref)["Id"] == img.id


def test_expired_token_is_refreshed(berth, proxy):
    img = layered()
    ref = pushed(proxy, berth, img, "tok/expiry")
    proxy.token_auth = True
    proxy.token_ttl = 1          # what the proxy honours
    proxy.expires_in = 300       # what it tells the client: only a 401 shows the expiry
    proxy.delay = (r"/manifests/", 1.5)
    berth("pull", "-q", INSECURE, "--max-concurrent-downloads", "1", ref)
    expired = [r for r in proxy.requests() if r["note"] == "401: expired token"]
    assert expired, "the test did not make a token expire"
    assert len(proxy.requests("GET", "^/token$")) >= 2
    assert all(r["status"] == 200 for r in proxy.requests("GET", "/blobs/")
               if r["note"] != "401: expired token")
    check_pulled(berth, img, ref)


def flip_config_digest(body):
    """A manifest, still valid JSON, naming another config."""
    s = body.decode()
    i = s.index('"sha256:') + 8
    return (s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]).encode()


def test_corrupted_manifest(berth, proxy):
    img = single()
    ref = pushed(proxy, berth, img, "bad/manifest")
    load(berth, layered(), "keep/me:1")
    before = berth.store_bytes()
    proxy.corrupt = (r"/manifests/", flip_config_digest)
    for r in (ref, f"{proxy.host}/bad/manifest@{sha256(img.manifest_bytes)}"):
        p = berth.fails("pull", INSECURE, r)
        assert "digest" in p.err.lower(), p.err
        assert berth.store_bytes() == before
    assert proxy.requests(path="/manifests/")[-1]["note"] == "corrupted"


def test_corrupted_blob(berth, proxy):
    img = uncompressed()  # a flipped byte in an uncompressed tar: only the digest tells
    ref = pushed(proxy, berth, img, "bad/blob")
    load(berth, layered(), "keep/me:1")
    before = berth.store_bytes()
    layer = img.manifest["layers"][0]["digest"]
    proxy.corrupt = (f"/blobs/{layer}$",)
    p = berth.fails("pull", INSECURE, ref)
    assert "digest" in p.err.lower() and layer[7:19] in p.err, p.err
    assert berth.store_bytes() == before
    assert any(r["note"] == "corrupted" for r in proxy.requests("GET", f"/blobs/{layer}$"))


def test_huge_manifest_refused(berth, proxy):
    size = 20 << 20
    proxy.huge_manifest = size
    before = berth.store_bytes()
    p = berth.fails("pull", INSECURE, f"{proxy.host}/huge/img:1")
    assert "manifest" in p.err.lower() and re.search(r"too (large|big)|larger than|exceeds|limit|size", p.err.lower()), p.err
    assert berth.store_bytes() == before
    assert proxy.huge_sent < size, "berth read the whole 20 MB"
    p = berth.fails("manifest", "inspect", INSECURE, f"{proxy.host}/huge/img:1")
    assert "manifest" in p.err.lower()


def test_not_found_and_unauthorized_messages(berth, registry_factory):
    plain, basic = registry_factory("plain"), registry_factory("basic")
    before = berth.store_bytes()
    p = berth.fails("pull", INSECURE, f"{plain.host}/no/such:tag")
    assert f"{plain.host}/no/such:tag" in p.err and re.search(r"not found|manifest unknown|name unknown", p.err.lower())
    p = berth.fails("pull", INSECURE, f"{plain.host}/no/such@sha256:" + "a" * 64)
    assert "not found" in p.err.lower() or "unknown" in p.err.lower()
    p = berth.fails("manifest", "inspect", INSECURE, f"{plain.host}/no/such:tag")
    assert "not found" in p.err.lower() or "unknown" in p.err.lower()
    p = berth.fails("pull", INSECURE, f"{basic.host}/no/such:tag")
    assert says_auth(p.err) and basic.host in p.err
    p = berth.fails("manifest", "inspect", INSECURE, f"{basic.host}/no/such:tag")
    assert says_auth(p.err), p.err
    assert berth.store_bytes() == before
    p = berth.fails("push", INSECURE, "no/local:1", f"{plain.host}/x:1")
    assert "no/local" in p.err


def test_chunked_push(berth, proxy):
    img = layered()
    load(berth, img, "src/rich:1")
    dest = f"{proxy.host}/chunked/img:1"
    chunk = 65536
    _, digest, _ = push_result(berth("push", INSECURE, "--chunk-size", str(chunk), "src/rich:1", dest))
    assert digest == sha256(img.manifest_bytes)
    big = max(img.manifest["layers"], key=lambda d: d["size"])
    assert big["size"] > 3 * chunk
    patches = proxy.requests("PATCH", "/blobs/uploads/")
    assert len(patches) >= big["size"] // chunk, f"{len(patches)} PATCHes for {big['size']} bytes"
    ranges = [r["headers"].get("Content-Range") for r in patches]
    assert all(ranges), f"PATCH without Content-Range: {ranges}"
    # The big layer's upload session: PATCHes of at most chunk bytes, each
    # where the last ended, then a PUT with its digest.
    put = [r for r in proxy.requests("PUT", "/blobs/uploads/") if r["query"].get("digest") == [big["digest"]]]
    assert len(put) == 1, put
    session = [r for r in patches if r["path"] == put[0]["path"]]
    spans = [tuple(map(int, re.fullmatch(r"(?:bytes[ =])?(\d+)-(\d+)", r["headers"]["Content-Range"]).groups()))
             for r in session]
    assert all(b - a + 1 <= chunk for a, b in spans), spans
    assert [a for a, _ in spans] == [0] + [b + 1 for _, b in spans[:-1]], spans
    assert spans[-1][1] + 1 + int(put[0]["headers"].get("Content-Length", 0)) == big["size"]
    assert all(r["status"] == 202 for r in session) and put[0]["status"] == 201
    # It reads back whole.
    run(["skopeo", "copy", "-q", "--preserve-digests", "--src-tls-verify=false", f"docker://{dest}",
         f"oci:{berth.tmp}/out:1"], berth.env)
    other = berth.other_store("store2")
    other("pull", "-q", INSECURE, dest)
    assert tree(other, dest) == tree(berth, "src/rich:1")
