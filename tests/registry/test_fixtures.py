"""The harness proved with the peers that exist today (curl, skopeo): the
three registry set-ups, the fault proxy's behaviours, the test images."""
import json
import os
import re
import subprocess
import time

import pytest
from regimages import layered, multi, run, sha256_hex, single, skopeo_push, skopeo_raw, uncompressed
from regserver import USER


def curl(reg_or_flags, url, *args, env=None):
    flags = reg_or_flags if isinstance(reg_or_flags, list) else reg_or_flags.curl_flags()
    return subprocess.run(["curl", "-sS", "--noproxy", "*", *flags, *args, url], capture_output=True,
                          env=env, timeout=60)


def test_registry_setups_answer(registry_factory, tmp):
    plain, basic, tls = (registry_factory(k) for k in ("plain", "basic", "tls"))
    assert len({plain.port, basic.port, tls.port}) == 3
    assert curl(plain, f"{plain.url}/v2/", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"200"
    assert curl([], f"{basic.url}/v2/", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"401"
    assert curl([], f"{basic.url}/v2/", "-u", f"{USER}:wrong", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"401"
    assert curl(basic, f"{basic.url}/v2/", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"200"
    assert curl([], f"{tls.url}/v2/").returncode != 0  # the CA is not trusted without the cert dir
    assert curl(tls, f"{tls.url}/v2/", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"200"
    assert all(r.host.startswith("127.0.0.1:") for r in (plain, basic, tls))
    # The access log is there to assert on.
    assert ("GET", "/v2/", 200) in plain.access_log()


@pytest.mark.parametrize("what", ["single", "layered", "multi"])
def test_skopeo_pushes_exactly(reg, env, tmp, what):
    img = {"single": single, "layered": layered, "multi": multi}[what]()
    skopeo_push(env, img, f"{tmp}/layout", reg, f"{reg.host}/fx/{what}:t1", tag="t1")
    raw = skopeo_raw(env, reg, f"{reg.host}/fx/{what}:t1")
    want = img.digest if what == "multi" else sha256_hex(img.manifest_bytes)
    assert sha256_hex(raw) == want
    if what == "multi":
        assert json.loads(raw)["mediaType"] == "application/vnd.oci.image.index.v1+json"
        # Both platforms' manifests are there.
        for a in img.images.values():
            r = curl(reg, f"{reg.url}/v2/fx/multi/manifests/{sha256_hex(a.manifest_bytes)}", "-o", "/dev/null",
                     "-w", "%{http_code}", "-H", "Accept: application/vnd.oci.image.manifest.v1+json")
            assert r.stdout == b"200"
    assert any(m == "PUT" and "/manifests/t1" in p for m, p, _ in reg.access_log())


def test_proxy_forwards_and_records(proxy, env, tmp):
    img = layered()
    skopeo_push(env, img, f"{tmp}/layout", proxy.registry, f"{proxy.host}/fx/img:1", tag="1")
    ups = [r for r in proxy.requests() if "/blobs/uploads/" in r["path"]]
    assert ups and any(r["method"] == "PUT" for r in ups)  # uploads went through the proxy (Location rewritten)
    assert not any(proxy.registry.host in str(r) for r in proxy.requests())
    run(["skopeo", "copy", "-q", "--preserve-digests", "--src-tls-verify=false", f"docker://{proxy.host}/fx/img:1",
         f"oci:{tmp}/out:1"], env)
    got = json.load(open(f"{tmp}/out/index.json"))["manifests"][0]["digest"]
    assert got == sha256_hex(img.manifest_bytes)
    gets = proxy.requests("GET", r"/blobs/sha256:")
    assert len(gets) == len(img.manifest["layers"]) + 1 and all(r["status"] == 200 for r in gets)
    assert proxy.requests("GET", r"/manifests/1$")[0]["headers"].get("Accept")


def test_proxy_drops_a_blob_then_serves_ranges(proxy, env, tmp):
    """(skopeo 1.9 does not resume a blob: curl plays the client.)"""
    img = uncompressed()
    skopeo_push(env, img, f"{tmp}/layout", proxy.registry, f"{proxy.registry.host}/fx/big:1", tag="1")
    proxy.drop_blob_after = 100000
    layer = img.manifest["layers"][0]["digest"]
    url = f"http://{proxy.host}/v2/fx/big/blobs/{layer}"
    r = curl([], url, "-o", f"{tmp}/part1")
    assert r.returncode == 18, r  # partial file
    assert os.path.getsize(f"{tmp}/part1") == 100000
    r = curl([], url, "-r", "100000-", "-o", f"{tmp}/part2", "-w", "%{http_code}")
    assert r.stdout == b"206"
    data = open(f"{tmp}/part1", "rb").read() + open(f"{tmp}/part2", "rb").read()
    assert sha256_hex(data) == layer
    gets = proxy.requests("GET", f"/blobs/{layer}")
    assert gets[0]["note"].startswith("dropped after 100000")
    assert gets[1]["headers"]["Range"] == "bytes=100000-" and gets[1]["status"] == 206
    # Only the first is dropped.
    assert curl([], url, "-o", "/dev/null", "-w", "%{http_code}").stdout == b"200"


def test_proxy_500_then_forwards(proxy, env):
    proxy.fail = (r"^/v2/$", 2)
    url = f"http://{proxy.host}/v2/"
    r1 = curl([], url, "-w", " %{http_code}")
    assert r1.stdout.endswith(b" 500")
    assert json.loads(r1.stdout[:-4])["errors"][0]["code"] == "UNKNOWN"
    assert curl([], url, "-o", "/dev/null", "-w", "%{http_code}").stdout == b"500"
    assert curl([], url, "-o", "/dev/null", "-w", "%{http_code}").stdout == b"200"
    assert [r["status"] for r in proxy.requests("GET", "^/v2/$")] == [500, 500, 200]


def test_proxy_token_flow(proxy, env, tmp):
    img = layered()
    skopeo_push(env, img, f"{tmp}/layout", proxy.registry, f"{proxy.registry.host}/fx/tok:1", tag="1")
    proxy.token_auth = True
    proxy.token_creds = ("tuser", "tpass")
    r = curl([], f"http://{proxy.host}/v2/fx/tok/manifests/1", "-D", "-", "-o", "/dev/null")
    assert b"401" in r.stdout.split(b"\r\n")[0]
    assert (f'www-authenticate: Bearer realm="http://{proxy.host}/token",service="test-registry",'
            'scope="repository:fx/tok:pull"').encode() in r.stdout.lower().replace(b"bearer", b"Bearer")
    # Without credentials skopeo gets no token; with them it pulls.
    p = run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{proxy.host}/fx/tok:1",
             f"oci:{tmp}/out:1"], env, check=False)
    assert p.returncode != 0
    run(["skopeo", "copy", "-q", "--src-tls-verify=false", "--src-creds", "tuser:tpass",
         f"docker://{proxy.host}/fx/tok:1", f"oci:{tmp}/out:1"], env)
    assert all(r["status"] == 200 for r in proxy.requests("GET", "/blobs/"))
    assert ["repository:fx/tok:pull"] in proxy.tokens_issued
    # A token of another repository's scope, or an expired one, is refused.
    tok = proxy.make_token(["repository:other:pull"])
    r = curl([], f"http://{proxy.host}/v2/fx/tok/manifests/1", "-H", f"Authorization: Bearer {tok}",
             "-o", "/dev/null", "-w", "%{http_code}")
    assert r.stdout == b"401"
    proxy.token_ttl = 0.2
    tok = proxy.make_token(["repository:fx/tok:pull"])
    ok = curl([], f"http://{proxy.host}/v2/fx/tok/manifests/1", "-H", f"Authorization: Bearer {tok}",
              "-H", "Accept: application/vnd.oci.image.manifest.v1+json", "-o", "/dev/null", "-w", "%{http_code}")
    assert ok.stdout == b"200"
    time.sleep(0.3)
    r = curl([], f"http://{proxy.host}/v2/fx/tok/manifests/1", "-H", f"Authorization: Bearer {tok}",
             "-o", "/dev/null", "-w", "%{http_code}")
    assert r.stdout == b"401" and proxy.requests()[-1]["note"] == "401: expired token"


def test_proxy_corrupts_and_skopeo_notices(proxy, env, tmp):
    img = uncompressed()
    skopeo_push(env, img, f"{tmp}/layout", proxy.registry, f"{proxy.registry.host}/fx/bad:1", tag="1")
    proxy.corrupt = (img.manifest["layers"][0]["digest"],)
    p = run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{proxy.host}/fx/bad:1",
             f"oci:{tmp}/out:1"], env, check=False)
    assert p.returncode != 0 and "digest" in p.err.lower(), p.err
    assert proxy.requests(path="/blobs/sha256")[-1]["note"] == "corrupted"


def test_proxy_huge_manifest(proxy, env, tmp):
    proxy.huge_manifest = 20 << 20
    r = curl([], f"http://{proxy.host}/v2/fx/huge/manifests/1", "-o", f"{tmp}/huge", "-w", "%{http_code} %{size_download}")
    assert r.stdout == b"200 %d" % (20 << 20)
    assert json.load(open(f"{tmp}/huge"))["schemaVersion"] == 2
    p = run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{proxy.host}/fx/huge:1"], env, check=False)
    assert p.returncode != 0, "skopeo took a 20 MB manifest"


def test_mount_shows_in_the_access_log(reg, env, tmp):
    img = single()
    skopeo_push(env, img, f"{tmp}/layout", reg, f"{reg.host}/fx/a:1", tag="1")
    layer = img.manifest["layers"][0]["digest"]
    r = curl(reg, f"{reg.url}/v2/fx/b/blobs/uploads/?mount={layer}&from=fx/a", "-X", "POST",
             "-o", "/dev/null", "-w", "%{http_code}")
    assert r.stdout == b"201"
    assert any(m == "POST" and re.search(rf"/v2/fx/b/blobs/uploads/\?mount={layer}&from=fx/a", p) and s == 201
               for m, p, s in reg.access_log())
