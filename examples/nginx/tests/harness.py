"""A real nginx with ngx_http_jwtgrant_module on loopback, for the tests.

The module is built by scripts/test and named by NGX_JWTGRANT_MODULE. Each
Nginx runs in the foreground (`daemon off; master_process on;`) with its own
prefix, configuration, temp directories and error log under a test
directory, on a free 127.0.0.1 port; it is stopped by PID. Assertions are
minted with PyJWT as the Python suite does.
"""
from __future__ import annotations

import base64
import datetime
import http.server
import json
import os
import pathlib
import re
import signal
import socket
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import weakref

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
ISS = "https://idp.example.com/oauth2/token"
AUD = "https://localhost:9443/oauth2/token"
CLIENT_ID, CLIENT_SECRET = "nginx-app", "nginx-app-secret-0123456789"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_BODY = 65536


def module_path() -> str:
    path = os.environ.get("NGX_JWTGRANT_MODULE")
    assert path and os.path.exists(path), \
        "NGX_JWTGRANT_MODULE must name the built ngx_http_jwtgrant_module.so (scripts/test)"
    return os.path.abspath(path)


def self_signed(key, cn: str) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


IDP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
IDP_CERT = self_signed(IDP_KEY, "nginx-test-idp")
SIGNING = ec.generate_private_key(ec.SECP256R1())
SIGNING_KEY = SIGNING.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()


def assertion(key=None, **over) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "sub": "alice@example.com", "aud": AUD, "iat": now, "exp": now + 300,
              "jti": str(uuid.uuid4())}
    claims.update(over)
    return jwt.encode(claims, key or IDP_KEY, algorithm="RS256")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# JWTGRANT_NGINX_VALGRIND=1 runs every nginx of the suite under valgrind
# memcheck (the master and its workers).
VALGRIND = os.environ.get("JWTGRANT_NGINX_VALGRIND") == "1"


def valgrind_prefix(log_file) -> list[str]:
    valgrind = shutil.which("valgrind")
    assert valgrind, "valgrind is needed (scripts/install-deps)"
    return [valgrind, "--leak-check=full", "--show-leak-kinds=definite,indirect", "--num-callers=40",
            "--keep-debuginfo=yes",          # nginx dlcloses the module before the leak report
            f"--log-file={log_file}"]


def valgrind_findings(report: str):
    """(definitely lost bytes, indirectly lost bytes, memory error records,
    leak records that pass through the module, the library or jansson)."""
    lost = {k: int(v.replace(",", "")) for k, v in
            re.findall(r"(definitely|indirectly) lost: ([\d,]+) bytes", report)}
    records = re.split(r"^==\d+== $", report, flags=re.M)
    # Except the dynamic loader's reading of the rpath while nginx dlopens
    # the module (glibc's ld.so strncmp reads whole words: a known valgrind
    # false positive, outside nginx, the module and the library).
    errors = [r for r in records
              if re.search(r"^==\d+== (Invalid|Conditional|Use of uninit|Syscall param|"
                           r"Mismatched|Source and destination)", r, re.M)
              and not ("is_dst (dl-load.c" in r and "decompose_rpath" in r)]
    ours = []
    for r in records:
        m = re.search(r"([\d,]+) (?:\([\d,]+ direct, [\d,]+ indirect\) )?bytes in ([\d,]+) blocks are "
                      r"(definitely|indirectly) lost", r)
        if m and re.search(r"ngx_http_jwtgrant|libjwtgrant|libjansson", r):
            ours.append((m.group(3), int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")), r))
    return lost.get("definitely", 0), lost.get("indirectly", 0), errors, ours


def check_valgrind_reports(root: pathlib.Path):
    """Every process's report: no memory error, and no leak record through
    the module, the library or jansson that repeats (more than one block
    lost from one place: what a leak per request looks like). Single blocks
    are the library's one-time statics, unreachable once nginx has dlclosed
    the module at exit; nginx's own startup allocations are not the
    module's. The exact per-request comparison is
    test_no_leak_per_request_under_valgrind."""
    reports = sorted(root.glob("valgrind.*.log"))
    assert reports, f"no valgrind report in {root}"
    for path in reports:
        report = path.read_text(errors="replace")
        if "LEAK SUMMARY" not in report and "All heap blocks were freed" not in report:
            continue        # the `nginx -s reload` signaller or a process still exiting
        _, _, errors, ours = valgrind_findings(report)
        repeated = [text for kind, _, blocks, text in ours if kind == "definitely" and blocks > 1]
        assert not errors and not repeated, f"{path}:\n" + "\n".join(errors + repeated)[-8000:]


class Upstream:
    """A loopback HTTP server that answers with the request headers it saw,
    as JSON: the backend behind a protected location."""

    def __init__(self):
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                headers = {k.lower(): v for k, v in self.headers.items()}
                seen.append(headers)
                body = json.dumps({"path": self.path, "headers": headers}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128        # nginx opens many connections at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Nginx:
    def __init__(self, root: pathlib.Path, *, server: dict | None = None, issuers: list | None = None,
                 clients: list | None = None, workers: int = 1, threads: int = 16,
                 upstream_port: int | None = None, extra_http: str = "", extra_server: str = "",
                 globals_: str = ""):
        self.root = root
        self.port = free_port()
        (root / "logs").mkdir(exist_ok=True)
        os.chmod(root, 0o755)
        # The worker (user nobody when started as root) writes request bodies
        # and any store file here: a directory it can reach (pytest's own
        # are private to their owner).
        self.temp = pathlib.Path(tempfile.mkdtemp(prefix="jwtgrant-nginx-"))
        os.chmod(self.temp, 0o777)
        weakref.finalize(self, shutil.rmtree, self.temp, True)
        self.write_files(server, issuers, clients)
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        upstream = ""
        if upstream_port:
            upstream = f"""
        location /protected/ {{
            jwtgrant_protect on;
            proxy_set_header X-Jwtgrant-Sub $jwtgrant_sub;
            proxy_set_header X-Jwtgrant-Client-Id $jwtgrant_client_id;
            proxy_set_header X-Jwtgrant-Scope $jwtgrant_scope;
            proxy_set_header X-Jwtgrant-Jti $jwtgrant_jti;
            proxy_set_header X-Scope-Read $scope_read;
            proxy_set_header Authorization "";
            proxy_pass http://127.0.0.1:{upstream_port};
        }}"""
        issuer_lines = "\n".join(f"    jwtgrant_issuer {p};" for p in self.issuer_files)
        client_lines = "\n".join(f"    jwtgrant_client {p};" for p in self.client_files)
        (root / "nginx.conf").write_text(f"""
{user}
load_module {module_path()};
worker_processes {workers};
error_log {root}/logs/error.log info;
pid {root}/nginx.pid;
thread_pool jwtgrant threads={threads};
{globals_}
events {{ worker_connections 1024; }}
http {{
    log_format jwt '$status $request_uri sub=$jwtgrant_sub client=$jwtgrant_client_id jti=$jwtgrant_jti pid=$pid';
    access_log {root}/logs/access.log jwt;
    client_body_temp_path {self.temp}/body;
    proxy_temp_path {self.temp}/proxy;
    fastcgi_temp_path {self.temp}/fastcgi;
    uwsgi_temp_path {self.temp}/uwsgi;
    scgi_temp_path {self.temp}/scgi;
    jwtgrant_config {root}/server.json;
{issuer_lines}
{client_lines}
    jwtgrant_max_body {MAX_BODY};
    jwtgrant_thread_pool jwtgrant;
    map $jwtgrant_scope $scope_read {{
        default no;
        "~(^| )read( |$)" yes;
    }}
    {extra_http}
    server {{
        listen 127.0.0.1:{self.port};
        location = /oauth2/token {{ jwtgrant_token; }}
        location = /oauth2/jwks {{ jwtgrant_jwks; }}
        {upstream}
        {extra_server.replace("{temp}", str(self.temp))}
    }}
}}
""")
        self.proc = None
        self.valgrind = False

    def write_files(self, server=None, issuers=None, clients=None):
        root = self.root
        (root / "server.json").write_text(json.dumps(server if server is not None else {
            "issuer": AUD, "access_token": {"signing_key": SIGNING_KEY, "lifetime": 600}}))
        issuers = issuers if issuers is not None else [
            {"name": "nginx-idp", "issuer": ISS, "certificate": IDP_CERT}]
        clients = clients if clients is not None else [
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT],
             "scopes": ["read", "write"]}]
        self.issuer_files, self.client_files = [], []
        for i, doc in enumerate(issuers):
            p = root / f"issuer{i}.json"
            p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
            self.issuer_files.append(p)
        for i, doc in enumerate(clients):
            p = root / f"client{i}.json"
            p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
            self.client_files.append(p)

    # -- process ------------------------------------------------------------

    def args(self, *extra: str) -> list[str]:
        return [NGINX, "-p", f"{self.root}/", "-c", str(self.root / "nginx.conf"), *extra]

    def test_config(self) -> tuple[int, str]:
        r = subprocess.run(self.args("-t"), capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    @property
    def log(self) -> str:
        p = self.root / "logs" / "error.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def start(self, prefix: list[str] | None = None, master: bool = True, wait: float = 15):
        g = f"daemon off; master_process {'on' if master else 'off'};"
        self.valgrind = VALGRIND and prefix is None
        if self.valgrind:
            # The whole suite under valgrind: the master and every worker
            # (forked, so followed) write a report; stop() judges them.
            prefix = valgrind_prefix(self.root / "valgrind.%p.log")
            wait = max(wait, 120)
        self.out = open(self.root / "stdout.log", "w")
        self.proc = subprocess.Popen((prefix or []) + self.args("-g", g), stdout=self.out,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"nginx exited\n{self.output()}\n{self.log}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                # Listening; the worker may still be initialising: wait for
                # its jwtgrant line.
                if "jwtgrant: libjwtgrant" in self.log:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"nginx did not start in {wait} s\n{self.output()}\n{self.log}")

    def output(self) -> str:
        p = self.root / "stdout.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout: float = 20) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            deadline = time.monotonic() + timeout * (6 if VALGRIND else 1)
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    self.proc.wait(2)
                except subprocess.TimeoutExpired:
                    # A single nginx process (master_process off) that took
                    # the signal just before blocking in epoll_wait with no
                    # timer sleeps until the next event (valgrind widens
                    # that window): a connection wakes it to see the signal.
                    try:
                        socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    except OSError:
                        pass
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.temp, ignore_errors=True)
        if self.proc:
            self.out.close()
            if self.valgrind:
                check_valgrind_reports(self.root)
            return self.proc.returncode
        return None

    def worker_pids(self) -> set[int]:
        # The master's children (no cache manager here): its workers.
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return {int(pid) for pid in out.split()}

    # -- HTTP ---------------------------------------------------------------

    def request(self, path, body=None, method="POST", headers: dict | None = None,
                auth=(CLIENT_ID, CLIENT_SECRET), content_type="application/x-www-form-urlencoded",
                timeout: float = 20):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method)
        if auth:
            req.add_header("Authorization", basic(*auth))
        if body is not None and content_type:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def token(self, jwt_text: str, extra: dict | None = None, **kw):
        form = {"grant_type": GRANT, "assertion": jwt_text}
        form.update(extra or {})
        body = urllib.parse.urlencode(form).encode()
        status, headers, data = self.request("/oauth2/token", body, **kw)
        return status, headers, json.loads(data)

    def get(self, path, bearer: str | None = None, **kw):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
        return self.request(path, method="GET", headers=headers, auth=None, **kw)
