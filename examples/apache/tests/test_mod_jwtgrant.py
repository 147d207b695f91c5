"""mod_jwtgrant in a real Apache httpd 2.4 (event MPM) on loopback.

The module is built by scripts/test and named by MOD_JWTGRANT. Each test
starts httpd in the foreground with a configuration written here, talks to
it over HTTP as the documented curl command does, and stops it.
"""
import base64
import datetime
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

HTTPD = os.environ.get("APACHE_HTTPD", "/usr/sbin/apache2")
MODULES = os.environ.get("APACHE_MODULES", "/usr/lib/apache2/modules")
ISS = "https://idp.example.com/oauth2/token"
AUD = "https://localhost:9443/oauth2/token"
CLIENT_ID, CLIENT_SECRET = "apache-app", "apache-app-secret-0123456789"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_BODY = 65536


def module_path() -> str:
    path = os.environ.get("MOD_JWTGRANT")
    assert path and os.path.exists(path), "MOD_JWTGRANT must name the built mod_jwtgrant.so (scripts/test)"
    return os.path.abspath(path)


def idp_key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apache-test-idp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


IDP_KEY, IDP_CERT = idp_key_and_cert()
SIGNING_KEY = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def assertion(**over) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "sub": "alice@example.com", "aud": AUD, "iat": now, "exp": now + 300,
              "jti": str(uuid.uuid4())}
    claims.update(over)
    return jwt.encode(claims, IDP_KEY, algorithm="RS256")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Httpd:
    def __init__(self, root: pathlib.Path, issuer: dict | None = None, config: dict | None = None,
                 max_body: int | None = MAX_BODY, children: int = 1):
        self.root = root
        self.port = free_port()
        (root / "server.json").write_text(json.dumps({
            "issuer": AUD, "access_token": {"signing_key": SIGNING_KEY, "lifetime": 600}, **(config or {})}))
        (root / "idp.json").write_text(json.dumps(issuer or {
            "name": "apache-idp", "issuer": ISS, "certificate": IDP_CERT}))
        (root / "app.json").write_text(json.dumps({
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]}))
        user = "User nobody\nGroup nogroup\n" if os.geteuid() == 0 else ""
        (root / "httpd.conf").write_text(f"""
ServerRoot {root}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile {root}/httpd.pid
DefaultRuntimeDir {root}
ErrorLog {root}/error.log
LogLevel info
{user}
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule jwtgrant_module {module_path()}
StartServers {children}
ServerLimit {children}
ThreadsPerChild 16
MaxRequestWorkers {16 * children}
MinSpareThreads {16 * children}
MaxSpareThreads {16 * children}
JWTGrantConfig {root}/server.json
JWTGrantIssuer {root}/idp.json
JWTGrantClient {root}/app.json
{f"JWTGrantMaxBody {max_body}" if max_body else ""}
<Location /oauth2/token>
    SetHandler jwtgrant-token
</Location>
<Location /oauth2/jwks>
    SetHandler jwtgrant-jwks
</Location>
""")
        self.proc = None

    @property
    def log(self) -> str:
        p = self.root / "error.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def start(self, expect_up: bool = True):
        os.chmod(self.root, 0o755)
        self.proc = subprocess.Popen([HTTPD, "-f", str(self.root / "httpd.conf"), "-DFOREGROUND"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not expect_up:
            return self
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"httpd exited: {self.proc.stdout.read()}\n{self.log}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("httpd did not start listening in 10 s\n" + self.log)

    def children(self) -> list:
        """The PIDs of httpd's child processes."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = pathlib.Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry))
        return pids

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def request(self, path, body: bytes | None = None, method="POST", auth=(CLIENT_ID, CLIENT_SECRET),
                content_type="application/x-www-form-urlencoded"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method)
        if auth:
            req.add_header("Authorization",
                           "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
        if body is not None and content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def token(self, jwt_text: str, **kw):
        body = urllib.parse.urlencode({"grant_type": GRANT, "assertion": jwt_text}).encode()
        status, headers, data = self.request("/oauth2/token", body, **kw)
        return status, headers, json.loads(data)


@pytest.fixture
def httpd(tmp_path):
    h = Httpd(tmp_path).start()
    yield h
    h.stop()
    log = h.log
    # The child never crashed, and no request text reached the log.
    assert "exit signal" not in log and "Segmentation fault" not in log, log
    assert CLIENT_SECRET not in log


def test_the_product_flow(httpd):
    a = assertion()
    status, headers, body = httpd.token(a)
    assert status == 200, body
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store" and headers["Pragma"] == "no-cache"
    # The access token verifies against the module's own JWKS.
    status, _, jwks_bytes = httpd.request("/oauth2/jwks", method="GET", auth=None)
    assert status == 200
    keys = json.loads(jwks_bytes)["keys"]
    header = jwt.get_unverified_header(body["access_token"])
    key = next(k for k in keys if k["kid"] == header["kid"])
    claims = jwt.decode(body["access_token"], jwt.PyJWK(key).key, algorithms=["ES256"], audience=CLIENT_ID)
    assert claims["sub"] == "alice@example.com" and claims["client_id"] == CLIENT_ID
    assert claims["iss"] == AUD
    assert a not in httpd.log


def test_replay_is_invalid_grant(httpd):
    a = assertion()
    assert httpd.token(a)[0] == 200
    status, headers, body = httpd.token(a)
    assert status == 400 and body["error"] == "invalid_grant"
    assert headers["Cache-Control"] == "no-store"


def audit_events(log: str):
    """(level, event) of every "jwtgrant: {...}" line of the error log."""
    found = []
    for line in log.splitlines():
        m = re.search(r"\[jwtgrant:(\w+)\].*?jwtgrant: (\{.*\})$", line)
        if m:
            found.append((m.group(1), json.loads(m.group(2))))
    return found


def test_audit_events_reach_the_error_log_at_their_level(httpd):
    a = assertion()
    assert httpd.token(a)[0] == 200
    assert httpd.token(a)[0] == 400
    assert httpd.token(a, auth=(CLIENT_ID, "wrong-secret"))[0] == 401
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len([e for _, e in audit_events(httpd.log) if e["event"] == "exchange"]) < 3:
        time.sleep(0.05)
    exchanges = [(lvl, e) for lvl, e in audit_events(httpd.log) if e["event"] == "exchange"]
    assert [(lvl, e["outcome"], e["status_name"]) for lvl, e in exchanges] == [
        ("info", "success", "JWTGRANT_OK"),
        ("warn", "refused", "JWTGRANT_EREPLAY"),
        ("warn", "refused", "JWTGRANT_EINVALID_CLIENT")]
    assert exchanges[0][1]["client_id"] == CLIENT_ID and exchanges[0][1]["sub"] == "alice@example.com"
    assert exchanges[1][1]["reason"] and exchanges[2][1]["client_id"] is None
    log = httpd.log
    assert a not in log and a.split(".")[2] not in log and "wrong-secret" not in log


def test_rejections_map_to_rfc6749_errors(httpd):
    status, headers, body = httpd.token(assertion(), auth=(CLIENT_ID, "wrong-secret"))
    assert status == 401 and body["error"] == "invalid_client"
    assert headers["WWW-Authenticate"].startswith("Basic")
    status, _, body = httpd.token(assertion(exp=int(time.time()) - 600))
    assert status == 400 and body["error"] == "invalid_grant"
    status, _, body = httpd.token(assertion(iss="https://unknown.example.com"))
    assert status == 400 and body["error"] == "invalid_grant"
    status, _, body = httpd.token(assertion(), auth=None)
    assert status == 401 and body["error"] == "invalid_client"


def test_http_level_refusals(httpd):
    status, headers, body = httpd.request("/oauth2/token", method="GET")
    assert status == 405 and headers["Allow"] == "POST" and json.loads(body)["error"] == "invalid_request"
    form = urllib.parse.urlencode({"grant_type": GRANT, "assertion": assertion()}).encode()
    status, _, body = httpd.request("/oauth2/token", form, content_type="application/json")
    assert status == 400 and json.loads(body)["error"] == "invalid_request"
    status, _, body = httpd.request("/oauth2/token", b"grant_type=x&" + b"a" * (MAX_BODY + 10))
    assert status == 413 and json.loads(body)["error"] == "invalid_request"
    # The same without Content-Length (chunked): cut off once over the limit.
    chunks = iter([b"grant_type=x&", b"a" * 40000, b"a" * 40000])
    status, _, body = httpd.request("/oauth2/token", chunks)
    assert status == 413 and json.loads(body)["error"] == "invalid_request"
    # A NUL would end the C string early: refused, not truncated and passed on.
    status, _, body = httpd.request("/oauth2/token", b"grant_type=" + GRANT.encode() + b"\x00&assertion=x")
    assert status == 400 and json.loads(body)["error"] == "invalid_request"
    assert "NUL" in json.loads(body)["error_description"]
    status, _, body = httpd.request("/oauth2/jwks", b"x=1")
    assert status == 405


def test_many_threads_share_one_context(httpd):
    # 64 distinct assertions over 16 threads all succeed ...
    results, lock = [], threading.Lock()

    def exchange(tokens):
        for t in tokens:
            s = httpd.token(t)[0]
            with lock:
                results.append(s)

    tokens = [assertion() for _ in range(64)]
    threads = [threading.Thread(target=exchange, args=(tokens[i::16],)) for i in range(16)]
    for t in threads: t.start()
    for t in threads: t.join(60)
    assert sorted(results) == [200] * 64
    # ... and one assertion sent by 12 threads at once is accepted exactly once.
    one, statuses = assertion(), []
    barrier = threading.Barrier(12)

    def race():
        barrier.wait()
        s = httpd.token(one)[0]
        with lock:
            statuses.append(s)

    threads = [threading.Thread(target=race) for _ in range(12)]
    for t in threads: t.start()
    for t in threads: t.join(60)
    assert sorted(statuses) == [200] + [400] * 11


def test_body_limit_follows_max_assertion_size(tmp_path):
    """Without JWTGrantMaxBody the module reads as much as the library
    accepts (max_assertion_size + 32768): an 80 KB assertion allowed by the
    configuration goes through, and the limit is logged at startup."""
    h = Httpd(tmp_path, config={"max_assertion_size": 131072}, max_body=None).start()
    try:
        big = assertion(pad="x" * (80 * 1024))
        assert len(big) > 80 * 1024
        status, _, body = h.token(big)
        assert status == 200, body
        status, _, data = h.request("/oauth2/token", b"grant_type=x&" + b"a" * (131072 + 32768))
        assert status == 413 and json.loads(data)["error"] == "invalid_request"
        assert "body limit 163840 bytes" in h.log
    finally:
        h.stop()


def test_bad_configuration_stops_httpd_with_the_library_message(tmp_path):
    h = Httpd(tmp_path, issuer={"name": "bad", "issuer": ISS, "certificate": "not a certificate"})
    h.start(expect_up=False)
    try:
        rc = h.proc.wait(20)
    finally:
        h.stop()
    out = h.proc.stdout.read()
    assert rc != 0
    assert "JWTGrantIssuer #1: JWTGRANT_EKEY" in h.log + out, h.log + out


def sqlite_store_for_children(root: pathlib.Path) -> str:
    """A SQLite store the children (User nobody when httpd starts as root)
    can write: its directory (under /tmp, which they may traverse) and file
    belong to that user. The parent opens it as root at startup; SQLite gives
    the -wal and -shm files it creates the database file's owner."""
    import tempfile
    d = pathlib.Path(tempfile.mkdtemp(prefix="jwtgrant-apache-"))
    os.chmod(d, 0o755)
    path = d / "jwtgrant.db"
    if os.geteuid() == 0:
        import pwd
        nobody = pwd.getpwnam("nobody")
        subprocess.run(["python3", "-c", "import sqlite3,sys; sqlite3.connect(sys.argv[1]).close()", str(path)],
                       check=True)
        os.chmod(path, 0o600)
        for p in (d, path):
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
    return f"sqlite:{path}"


def test_several_children_share_a_sqlite_store(tmp_path):
    store = sqlite_store_for_children(tmp_path)
    import shutil
    # No signing_key: the first process generates one and the store keeps it.
    h = Httpd(tmp_path, children=3, config={"issuer": AUD, "store": store, "access_token": {"lifetime": 600}})
    h.start()
    try:
        deadline = time.monotonic() + 10
        while len(h.children()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(h.children()) == 3, "three child processes"
        lock = threading.Lock()
        # Each of 20 assertions raced by 24 connections (spread over the
        # children by the kernel) is accepted exactly once.
        for _ in range(20):
            one, statuses = assertion(), []
            barrier = threading.Barrier(24)

            def race():
                barrier.wait()
                s = h.token(one)[0]
                with lock:
                    statuses.append(s)

            threads = [threading.Thread(target=race) for _ in range(24)]
            for t in threads: t.start()
            for t in threads: t.join(60)
            assert sorted(statuses) == [200] + [400] * 23, statuses
        # Every child serves the same JWKS, and every token verifies with it.
        jwks = {h.request("/oauth2/jwks", method="GET", auth=None)[2] for _ in range(30)}
        assert len(jwks) == 1
        keys = json.loads(jwks.pop())["keys"]
        assert len(keys) == 1 and "d" not in keys[0]
        public = jwt.PyJWK(keys[0])
        for _ in range(10):
            status, _, body = h.token(assertion())
            assert status == 200, body
            claims = jwt.decode(body["access_token"], public.key, algorithms=["ES256"], audience=CLIENT_ID)
            assert claims["sub"] == "alice@example.com"
    finally:
        h.stop()
    log = h.log
    assert "exit signal" not in log and "Segmentation fault" not in log, log
    assert "JWTGRANT_EUNAVAILABLE" not in log and "JWTGRANT_ESTORE" not in log, log
    shutil.rmtree(pathlib.Path(store[len("sqlite:"):]).parent)


SAMPLE = pathlib.Path(__file__).resolve().parent.parent / "jwtgrant.conf"


def sample_httpd(tmp_path, mpm: str) -> Httpd:
    """httpd started with examples/apache/jwtgrant.conf as it is, after the
    few lines every httpd needs (ServerRoot, Listen, logs, the MPM)."""
    h = Httpd(tmp_path)
    sample = SAMPLE.read_text()
    assert "/path/to/mod_jwtgrant.so" in sample and "/etc/jwtgrant/" in sample
    sample = sample.replace("/path/to/mod_jwtgrant.so", module_path()).replace("/etc/jwtgrant/", f"{tmp_path}/")
    user = "User nobody\nGroup nogroup\n" if os.geteuid() == 0 else ""
    (tmp_path / "httpd.conf").write_text(f"""
ServerRoot {tmp_path}
ServerName 127.0.0.1
Listen 127.0.0.1:{h.port}
PidFile {tmp_path}/httpd.pid
DefaultRuntimeDir {tmp_path}
ErrorLog {tmp_path}/error.log
LogLevel info
{user}
LoadModule mpm_{mpm}_module {MODULES}/mod_mpm_{mpm}.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
{sample}
""")
    return h


@pytest.mark.parametrize("mpm", ["event", "worker"])
def test_the_sample_configuration_starts_without_mpm_complaints(tmp_path, mpm):
    h = sample_httpd(tmp_path, mpm).start()
    try:
        a = assertion()
        status, _, body = h.token(a)
        assert status == 200, body
        # The MPM's maintenance runs once a second; AH10159 ("within
        # MinSpareThreads of MaxRequestWorkers") would appear by then.
        time.sleep(2.5)
        assert h.proc.poll() is None
    finally:
        h.stop()
    log = h.log
    bad = [l for l in log.splitlines()
           if any(f":{level}]" in l for level in ("warn", "error", "crit", "alert", "emerg"))]
    assert not bad, log


def test_the_sample_configuration_refuses_prefork_with_a_clear_message(tmp_path):
    h = sample_httpd(tmp_path, "prefork").start(expect_up=False)
    try:
        out, _ = h.proc.communicate(timeout=30)
    finally:
        h.stop()
    assert h.proc.returncode != 0
    assert "mod_jwtgrant needs the event or worker MPM" in out + h.log
