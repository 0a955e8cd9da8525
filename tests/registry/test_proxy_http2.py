"""The transport: a forward HTTP proxy from the environment (http_proxy,
bypassed by NO_PROXY), and the HTTP version berth speaks: HTTP/2 to a TLS
registry (ALPN), HTTP/1.1 to a plain-HTTP one."""
import pytest
from regimages import inspect, layered, load, push_result, single, skopeo_push, tree

INSECURE = "--tls-verify=false"


def proxy_env(berth, fwd, **extra):
    """The test's environment with http_proxy naming fwd and no NO_PROXY
    (the harness sets one for 127.0.0.1), plus extra."""
    env = {k: v for k, v in berth.env.items() if k not in ("NO_PROXY", "no_proxy")}
    env["http_proxy"] = f"http://{fwd.host}"
    env.update(extra)
    return env


def test_pull_through_http_proxy(berth, registry_factory, forward_proxy):
    reg = registry_factory("plain")
    img = layered()
    ref = f"{reg.host}/proxied/img:1"
    skopeo_push(berth.env, img, f"{berth.tmp}/layout", reg, ref, tag="1")
    p = berth("pull", INSECURE, ref, env=proxy_env(berth, forward_proxy))
    assert p.out.strip().splitlines()[-1] == ref
    assert inspect(berth, ref)["Id"] == img.id
    loaded = berth.other_store("loaded")
    load(loaded, img, "loaded/img:1")
    assert tree(berth, ref) == tree(loaded, "loaded/img:1")

    seen = forward_proxy.requests()
    assert seen, "the proxy saw no request: http_proxy was not used"
    assert all(r["absolute"] and r["target"] == reg.host for r in seen), \
        [(r["method"], r["target"], r["path"]) for r in seen]
    got = {r["path"] for r in seen if r["method"] == "GET" and r["status"] == 200}
    want = {f"/v2/proxied/img/blobs/{d['digest']}" for d in img.manifest["layers"] + [img.manifest["config"]]}
    assert want <= got, f"blobs not fetched through the proxy: {want - got}"
    assert "/v2/proxied/img/manifests/1" in got
    # Every request of berth's that reached the registry came through the proxy.
    direct = reg.access_log_protocols("berth/")
    assert len(direct) == len(seen), (direct, [(r["method"], r["path"]) for r in seen])


@pytest.mark.parametrize("var", ["NO_PROXY", "no_proxy"])
def test_no_proxy_bypasses_the_proxy(berth, registry_factory, forward_proxy, var):
    reg = registry_factory("plain")
    img = single()
    ref = f"{reg.host}/direct/img:1"
    skopeo_push(berth.env, img, f"{berth.tmp}/layout", reg, ref, tag="1")
    env = proxy_env(berth, forward_proxy, **{var: "127.0.0.1"})
    assert berth("pull", "-q", INSECURE, ref, env=env).out == ref + "\n"
    assert forward_proxy.requests() == []
    assert len(reg.access_log_protocols("berth/")) >= 3
    # Push goes around it too.
    load(berth, single(), "src/one:1")
    push_result(berth("push", INSECURE, "src/one:1", f"{reg.host}/direct/pushed:1", env=env))
    assert forward_proxy.requests() == []


def test_http2_over_tls_and_http1_over_plain_http(berth, registry_factory):
    tls, plain = registry_factory("tls"), registry_factory("plain")
    img = layered()
    load(berth, single(), "src/one:1")
    for reg in (tls, plain):
        ref = f"{reg.host}/proto/img:1"
        skopeo_push(berth.env, img, f"{berth.tmp}/layout-{reg.kind}", reg, ref, tag="1")
        berth("pull", "-q", *reg.berth_flags(), ref)
        berth("push", "-q", *reg.berth_flags(), "src/one:1", f"{reg.host}/proto/pushed:1")
    on_tls = tls.access_log_protocols("berth/")
    on_plain = plain.access_log_protocols("berth/")
    methods = {m for m, _, _, _ in on_tls}
    assert {"GET", "HEAD", "POST", "PUT"} <= methods, on_tls
    assert {proto for _, _, proto, _ in on_tls} == {"HTTP/2.0"}, on_tls
    assert {proto for _, _, proto, _ in on_plain} == {"HTTP/1.1"}, on_plain
    assert len(on_plain) >= 5
