"""A real registry for the tests: Debian's docker-registry on 127.0.0.1 at a
free port, storage in a temp dir, in one of three set-ups: "plain" (HTTP),
"basic" (htpasswd basic auth over HTTP) and "tls" (HTTPS with a CA made here
by the openssl CLI). Its output (access log included) goes to a file."""
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

REGISTRY = "/usr/bin/docker-registry"
USER, PASSWORD = "user", "pass"


def free_port():
    """A port nothing listens on now (bound with port 0, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca_and_cert(d, ip="127.0.0.1"):
    """d/ca.crt, d/ca.key, d/server.crt (subjectAltName IP:ip), d/server.key."""
    os.makedirs(d, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
         "-days", "2", "-subj", "/CN=berth test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", f"/CN={ip}")
    with open(f"{d}/ext.cnf", "w") as f:
        f.write(f"subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    return d


class Registry:
    def __init__(self, kind, tmp):
        assert kind in ("plain", "basic", "tls"), kind
        self.kind = kind
        self.dir = f"{tmp}/registry-{kind}"
        os.makedirs(self.dir)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log_path = f"{self.dir}/registry.log"
        self.cert_dir = None  # for clients: holds ca.crt only
        self.proc = None
        cfg = ["version: 0.1",
               "log:", "  level: warn",
               "storage:", "  filesystem:", f"    rootdirectory: {self.dir}/data",
               "  delete:", "    enabled: true",
               "http:", f"  addr: {self.host}", "  secret: berth-test-secret"]
        if kind == "tls":
            pki = make_ca_and_cert(f"{self.dir}/pki")
            cfg += ["  tls:", f"    certificate: {pki}/server.crt", f"    key: {pki}/server.key"]
            self.cert_dir = f"{self.dir}/certs"
            os.makedirs(self.cert_dir)
            with open(f"{pki}/ca.crt", "rb") as src, open(f"{self.cert_dir}/ca.crt", "wb") as dst:
                dst.write(src.read())
        if kind == "basic":
            ht = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True).stdout
            with open(f"{self.dir}/htpasswd", "wb") as f:
                f.write(ht)
            cfg += ["auth:", "  htpasswd:", "    realm: test-registry", f"    path: {self.dir}/htpasswd"]
        self.config = f"{self.dir}/config.yml"
        with open(self.config, "w") as f:
            f.write("\n".join(cfg) + "\n")

    @property
    def scheme(self):
        return "https" if self.kind == "tls" else "http"

    @property
    def url(self):
        return f"{self.scheme}://{self.host}"

    def start(self, timeout=15):
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([REGISTRY, "serve", self.config], stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        ctx = None
        if self.kind == "tls":
            ctx = ssl.create_default_context(cafile=f"{self.cert_dir}/ca.crt")
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited {self.proc.returncode}:\n{self.log()}")
            try:
                urllib.request.urlopen(f"{self.url}/v2/", timeout=1, context=ctx)
                return self
            except urllib.error.HTTPError as e:
                if e.code == 401 and self.kind == "basic":
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"docker-registry did not answer on {self.url}/v2/:\n{self.log()}")
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def access_log(self):
        """[(method, path-with-query, status)] from the registry's access log."""
        out = []
        for m in re.finditer(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d+)', self.log()):
            out.append((m.group(1), m.group(2), int(m.group(3))))
        return out

    def access_log_protocols(self, agent=None):
        """[(method, path, protocol, status)] of the access log's requests,
        those whose User-Agent starts with agent if given."""
        out = []
        for m in re.finditer(r'"([A-Z]+) (\S+) (HTTP/[\d.]+)" (\d+) \d+ "[^"]*" "([^"]*)"', self.log()):
            if agent is None or m.group(5).startswith(agent):
                out.append((m.group(1), m.group(2), m.group(3), int(m.group(4))))
        return out

    # Flags for the clients.
    def berth_flags(self, creds=True):
        if self.kind == "tls":
            return ["--cert-dir", self.cert_dir]
        f = ["--tls-verify=false"]
        if self.kind == "basic" and creds:
            f += ["--creds", f"{USER}:{PASSWORD}"]
        return f

    def skopeo_flags(self, side):
        """side: "src" or "dest" for skopeo copy; "" for inspect and the like."""
        p = f"--{side}-" if side else "--"
        if self.kind == "tls":
            return [f"{p}cert-dir", self.cert_dir]
        f = [f"{p}tls-verify=false"]
        if self.kind == "basic":
            f += [f"{p}creds", f"{USER}:{PASSWORD}"]
        return f

    def curl_flags(self):
        if self.kind == "tls":
            return ["--cacert", f"{self.cert_dir}/ca.crt"]
        if self.kind == "basic":
            return ["-u", f"{USER}:{PASSWORD}"]
        return []
