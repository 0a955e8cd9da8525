"""A fault-injecting HTTP proxy in front of a plain-HTTP registry, stdlib
only. It listens on 127.0.0.1 at a port of its own, forwards every request
(method, path, query, headers, bodies streamed both ways, Location rewritten
to its own address) and records each one for the tests' assertions. Faults,
switched on per test by setting attributes:

  drop_blob_after = N     the first blob GET whose body is longer than N:
                          N bytes of it, then the connection is dropped
  fail = (regex, K)       the first K requests whose path matches: 500 with
                          a distribution-spec error body
  token_auth = True       bearer tokens from /token on this port are required
                          (token_creds = (user, pass) to make /token demand
                          basic credentials; token_ttl / expires_in seconds)
  corrupt = (regex, fn)   GET responses whose path matches: body -> fn(body)
                          (default: one byte in the middle flipped)
  huge_manifest = SIZE    manifest GET/HEAD answered with a SIZE-byte manifest
  delay = (regex, s)      sleep s seconds before forwarding a matching request
  fail_status = 429       the status fail answers with (default 500);
  retry_after = "1"       with a Retry-After header
  drop_upload = (N, fwd[, reused])
                          the first PUT/PATCH to /blobs/uploads/ whose body is
                          longer than N (and, with reused, that came on a
                          connection which served a request before): N bytes
                          of it read (and forwarded to the registry when
                          fwd), then the connection is dropped, unanswered
  no_keepalive = True     every answer closes its connection (Connection: close)
  slow = (regex, n, s)    GET bodies whose path matches: n bytes at a time,
                          s seconds apart (rec["sent"] counts what went)

With token_auth, a cross-repository mount (POST ?mount=&from=) needs pull on
"from" too, as distribution's token auth asks (a 401 naming both scopes).

Proxy(None, forward=True) is a forward HTTP proxy instead (as http_proxy
names one): it takes absolute-form targets (GET http://127.0.0.1:PORT/...),
forwards each to that host:port (127.0.0.1 only), and records the target
(rec["target"], rec["absolute"]); the faults above apply as well.
"""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse

HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
       "trailer", "transfer-encoding", "upgrade"}
RECORDED = ("Range", "Authorization", "Content-Range", "Content-Length", "Content-Type", "Accept",
            "Transfer-Encoding")
BLOB_GET = re.compile(r"^/v2/(.+)/blobs/([a-z0-9]+:[a-f0-9]+)$")
REPO_PATH = re.compile(r"^/v2/(.+)/(manifests|blobs|tags)/")


def flip_middle(body):
    b = bytearray(body)
    b[len(b) // 2] ^= 0x01
    return bytes(b)


def error_body(code, message, detail=None):
    return json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode()


class Proxy:
    def __init__(self, upstream, service="test-registry", forward=False):
        """upstream: "127.0.0.1:PORT" of a plain-HTTP registry (None with
        forward: the request's own target)."""
        self.upstream = upstream
        self.forward_mode = forward
        self.service = service
        self.lock = threading.Lock()
        self.records = []
        self.text_log = []
        self.tokens_issued = []  # (scopes, ttl)
        # Faults (see the module's doc).
        self.drop_blob_after = None
        self.dropped = []
        self.fail = None
        self.token_auth = False
        self.token_creds = None
        self.token_ttl = 300
        self.expires_in = None
        self.corrupt = None
        self.huge_manifest = None
        self.huge_sent = 0
        self.delay = None
        self.fail_status = 500
        self.retry_after = None
        self.drop_upload = None
        self.upload_dropped = []
        self.slow = None
        self.no_keepalive = False
        self._key = secrets.token_bytes(16)
        self._conns = set()
        proxy = self

        class Handler(ProxyHandler):
            pass
        Handler.proxy = proxy
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(5)

    def log(self):
        with self.lock:
            return "\n".join(self.text_log)

    def requests(self, method=None, path=None):
        """Records (dicts: method, path, query, headers, status, note), filtered
        by method and a regex on the path."""
        with self.lock:
            rs = list(self.records)
        return [r for r in rs if (method is None or r["method"] == method)
                and (path is None or re.search(path, r["path"]))]

    def clear(self):
        with self.lock:
            self.records.clear()
            self.tokens_issued.clear()

    # Tokens: base64(json {"scopes": [...], "exp": t}) "." hmac.
    def make_token(self, scopes):
        payload = base64.urlsafe_b64encode(json.dumps({"scopes": scopes, "exp": time.time() + self.token_ttl,
                                                       "n": secrets.token_hex(4)}).encode()).decode()
        sig = hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
        return f"{payload}.{sig}"

    def check_token(self, token):
        """(scopes, None) or (None, why)."""
        try:
            payload, sig = token.split(".")
        except ValueError:
            return None, "malformed token"
        if not hmac.compare_digest(sig, hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()):
            return None, "bad signature"
        data = json.loads(base64.urlsafe_b64decode(payload))
        if data["exp"] < time.time():
            return None, "expired token"
        return data["scopes"], None


def scope_allows(scopes, repo, actions):
    granted = set()
    for s in scopes:
        parts = s.split(":")
        if len(parts) >= 3 and parts[0] == "repository" and ":".join(parts[1:-1]) == repo:
            granted |= set(parts[-1].split(","))
    return set(actions) <= granted


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: Proxy = None
    timeout = 60

    def setup(self):
        super().setup()
        with self.proxy.lock:
            self.proxy._conns.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.proxy.lock:
                self.proxy._conns.discard(self.connection)

    def end_headers(self):
        if self.proxy.no_keepalive:
            self.send_header("Connection", "close")  # sets close_connection
        super().end_headers()

    def log_message(self, fmt, *args):
        with self.proxy.lock:
            self.proxy.text_log.append("%s %s" % (time.strftime("%H:%M:%S"), fmt % args))

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    # Request bodies, streamed.
    def body_chunks(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                data = self.rfile.read(size)
                self.rfile.readline()
                yield data
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            data = self.rfile.read(min(n, 65536))
            if not data:
                return
            n -= len(data)
            yield data

    def drain(self):
        for _ in self.body_chunks():
            pass

    def send_simple(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.rec["status"] = status

    def handle_any(self):
        p = self.proxy
        url = urllib.parse.urlsplit(self.path)
        self.rec = {"method": self.command, "path": url.path, "query": urllib.parse.parse_qs(url.query),
                    "headers": {h: self.headers[h] for h in RECORDED if self.headers.get(h) is not None},
                    "status": None, "note": "", "time": time.time(), "absolute": bool(url.scheme),
                    "target": url.netloc, "sent": 0}
        self.served = getattr(self, "served", 0) + 1  # requests on this connection
        self.rec["conn_request"] = self.served
        with p.lock:
            p.records.append(self.rec)
        # What goes upstream: the origin-form target, to the proxy's
        # registry or (forward mode) to the one the request names.
        self.upstream = p.upstream
        self.target = urllib.parse.urlunsplit(("", "", url.path, url.query, ""))
        try:
            if p.forward_mode:
                if url.scheme != "http" or not url.netloc.startswith("127.0.0.1:"):
                    self.drain()
                    self.rec["note"] = "refused: not an absolute http://127.0.0.1 target"
                    return self.send_simple(400, b"forward proxy: absolute http://127.0.0.1:PORT targets only\n")
                self.upstream = url.netloc
            self.serve(url)
        except (BrokenPipeError, ConnectionResetError) as e:
            self.rec["note"] += f" client gone: {e}"
            self.close_connection = True

    def serve(self, url):
        p = self.proxy
        path = url.path
        if p.token_auth and path == "/token":
            return self.serve_token(url)
        if p.token_auth and path.startswith("/v2/"):
            if not self.authorized(path, url):
                return
        if p.fail:
            rx, left = p.fail
            if left > 0 and re.search(rx, path):
                with p.lock:
                    p.fail = (rx, left - 1)
                self.drain()
                status = p.fail_status
                self.rec["note"] = f"injected {status}"
                headers = [("Content-Type", "application/json")]
                if p.retry_after is not None:
                    headers.append(("Retry-After", str(p.retry_after)))
                code = "TOOMANYREQUESTS" if status == 429 else "UNKNOWN"
                return self.send_simple(status, error_body(code, "injected failure", "faultproxy"), headers)
        if p.delay and re.search(p.delay[0], path):
            time.sleep(p.delay[1])
        if p.huge_manifest and "/manifests/" in path and self.command in ("GET", "HEAD"):
            return self.serve_huge()
        if p.drop_upload and self.command in ("PUT", "PATCH") and "/blobs/uploads/" in path \
                and int(self.headers.get("Content-Length") or 0) > p.drop_upload[0] \
                and not (len(p.drop_upload) > 2 and p.drop_upload[2] and self.served == 1):
            with p.lock:
                drop = not p.upload_dropped
                if drop:
                    p.upload_dropped.append((self.command, path))
            if drop:
                return self.drop_upload_body(*p.drop_upload[:2])
        self.forward(url)

    def drop_upload_body(self, n, forward_partial):
        """Reads n bytes of the body (sent on to the registry with
        forward_partial), then drops the connection(s) without an answer."""
        conn = None
        if forward_partial:
            conn = http.client.HTTPConnection(self.upstream, timeout=60)
            conn.putrequest(self.command, self.target, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP and not (self.proxy.token_auth and k.lower() == "authorization"):
                    conn.putheader(k, v)
            conn.endheaders()
        got = 0
        while got < n:
            data = self.rfile.read(min(65536, n - got))
            if not data:
                break
            got += len(data)
            if conn:
                conn.send(data)
        if conn:
            time.sleep(0.2)  # the registry has the bytes before it sees the end
            conn.close()
        self.rec["note"] = f"upload dropped after {got} bytes" + (" (forwarded)" if forward_partial else "")
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def authorized(self, path, url):
        p = self.proxy
        m = REPO_PATH.match(path)
        repo = m.group(1) if m else None
        actions = ["pull"] if self.command in ("GET", "HEAD") else ["pull", "push"]
        if path.endswith("/blobs/uploads/") or "/blobs/uploads/" in path:
            repo = path[4:path.index("/blobs/uploads/")]
            actions = ["pull", "push"]
        auth = self.headers.get("Authorization", "")
        needed = [(repo, actions)] if repo else []
        src = urllib.parse.parse_qs(url.query).get("from", [None])[0]
        if self.command == "POST" and src:
            needed.append((src, ["pull"]))  # as distribution: a mount needs pull on its source
        why = "no bearer token"
        if auth.startswith("Bearer "):
            scopes, why = p.check_token(auth[7:])
            if scopes is not None:
                lacking = [f"{r}:{','.join(a)}" for r, a in needed if not scope_allows(scopes, r, a)]
                if not lacking:
                    return True
                why = f"scope {scopes} does not allow {' '.join(lacking)}"
        self.drain()
        challenge = f'Bearer realm="http://{p.host}/token",service="{p.service}"'
        if needed:
            challenge += ',scope="' + " ".join(f"repository:{r}:{','.join(a)}" for r, a in needed) + '"'
        self.rec["note"] = f"401: {why}"
        self.send_simple(401, error_body("UNAUTHORIZED", "authentication required", why),
                         [("WWW-Authenticate", challenge), ("Content-Type", "application/json")])
        return False

    def serve_token(self, url):
        p = self.proxy
        q = urllib.parse.parse_qs(url.query)
        self.drain()
        if p.token_creds:
            auth = self.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(("%s:%s" % p.token_creds).encode()).decode()
            if auth != want:
                self.rec["note"] = "token refused: bad credentials"
                return self.send_simple(401, error_body("UNAUTHORIZED", "bad credentials"),
                                        [("Content-Type", "application/json"),
                                         ("WWW-Authenticate", 'Basic realm="token"')])
        scopes = q.get("scope", [])
        token = p.make_token(scopes)
        with p.lock:
            p.tokens_issued.append(scopes)
        self.rec["note"] = f"token for {scopes}"
        body = json.dumps({"token": token, "access_token": token,
                           "expires_in": p.expires_in if p.expires_in is not None else p.token_ttl}).encode()
        self.send_simple(200, body, [("Content-Type", "application/json")])

    def serve_huge(self):
        p = self.proxy
        size = p.huge_manifest
        head = (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
                b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'
                + b"0" * 64 + b'","size":2},"layers":[],"annotations":{"pad":"')
        tail = b'"}}'
        pad = size - len(head) - len(tail)
        h = hashlib.sha256(head)
        block = b"A" * 65536
        for i in range(0, pad, 65536):
            h.update(block[:min(65536, pad - i)])
        h.update(tail)
        self.drain()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Content-Length", str(size))
        self.send_header("Docker-Content-Digest", "sha256:" + h.hexdigest())
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.end_headers()
        self.rec["status"] = 200
        self.rec["note"] = "huge manifest"
        if self.command == "HEAD":
            return
        self.close_connection = True
        self.wfile.write(head)
        with p.lock:
            p.huge_sent += len(head)
        for i in range(0, pad, 65536):
            n = min(65536, pad - i)
            self.wfile.write(block[:n])
            with p.lock:
                p.huge_sent += n
        self.wfile.write(tail)
        with p.lock:
            p.huge_sent += len(tail)

    def forward(self, url):
        p = self.proxy
        headers = []  # a list: repeated headers (Accept) stay repeated
        for k, v in self.headers.items():
            if k.lower() in HOP:
                continue
            if p.token_auth and k.lower() == "authorization":
                continue
            headers.append((k, v))
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        has_body = chunked or "Content-Length" in self.headers
        conn = http.client.HTTPConnection(self.upstream, timeout=60)
        try:
            conn.putrequest(self.command, self.target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            if has_body:
                for data in self.body_chunks():
                    conn.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                if chunked:
                    conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            self.relay(url, resp)
        finally:
            conn.close()

    def relay(self, url, resp):
        p = self.proxy
        path = url.path
        status = resp.status
        self.rec["status"] = status
        out_headers = []
        for k, v in resp.getheaders():
            if k.lower() in HOP or k.lower() == "content-length":
                continue
            if k.lower() == "location" and not p.forward_mode:
                v = v.replace(f"//{p.upstream}", f"//{p.host}")
            out_headers.append((k, v))
        length = resp.getheader("Content-Length")
        length = int(length) if length is not None else None
        is_get = self.command == "GET"
        corrupt = p.corrupt and is_get and status in (200, 206) and re.search(p.corrupt[0], path)
        drop_at = None
        if is_get and p.drop_blob_after is not None and status == 200 and BLOB_GET.match(path) \
                and length is not None and length > p.drop_blob_after:
            with p.lock:
                if not p.dropped:
                    drop_at = p.drop_blob_after
                    p.dropped.append(path)
        if corrupt:
            body = resp.read()
            fn = p.corrupt[1] if len(p.corrupt) > 1 and p.corrupt[1] else flip_middle
            body = fn(body)
            self.rec["note"] = "corrupted"
            self.send_response(status)
            for k, v in out_headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(status)
        for k, v in out_headers:
            self.send_header(k, v)
        if self.command == "HEAD" or status in (204, 304) or (100 <= status < 200):
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            return
        slow = p.slow if p.slow and is_get and re.search(p.slow[0], path) else None
        if length is not None:
            self.send_header("Content-Length", str(length))
            self.end_headers()
            sent = 0
            while sent < length:
                want = slow[1] if slow else 65536
                if drop_at is not None:
                    want = min(want, drop_at - sent)
                    if want <= 0:
                        self.rec["note"] = f"dropped after {sent} bytes"
                        self.wfile.flush()
                        self.close_connection = True
                        try:
                            self.connection.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        return
                data = resp.read(min(want, length - sent))
                if not data:
                    break
                self.wfile.write(data)
                sent += len(data)
                self.rec["sent"] = sent
                if slow:
                    self.wfile.flush()
                    time.sleep(slow[2])
        else:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while True:
                data = resp.read1(65536)
                if not data:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
