"""ngx_http_jwtgrant_module in a real nginx (Debian's 1.22) on loopback.

Every test here runs with one worker process and the memory store; the
two-worker race on a shared store is in test_nginx_shared_store.py.
"""
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from harness import (AUD, CLIENT_ID, CLIENT_SECRET, GRANT, IDP_CERT, ISS, MAX_BODY, SIGNING, SIGNING_KEY, Nginx,
                     Upstream, free_port, assertion, basic, valgrind_findings, valgrind_prefix)


OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def upstream():
    u = Upstream()
    yield u
    u.close()


def check_log(n: Nginx, *secrets: str):
    log = n.log
    assert "[alert]" not in log and "[crit]" not in log and "signal 11" not in log \
        and "exited on signal" not in log, log
    for s in (CLIENT_SECRET, *secrets):
        assert s not in log, "a secret or token reached the error log"


@pytest.fixture
def nginx(tmp_path, upstream):
    n = Nginx(tmp_path, upstream_port=upstream.port).start()
    yield n
    n.stop()
    check_log(n)


def jwks_key(n: Nginx, token: str):
    status, _, body = n.request("/oauth2/jwks", method="GET", auth=None)
    assert status == 200
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.PyJWK(next(k for k in json.loads(body)["keys"] if k["kid"] == kid)).key


def access_token_like_ours(kid: str, key=SIGNING, **over) -> str:
    """An access token minted here with PyJWT in the shape the library issues
    (RFC 9068: typ at+jwt, ES256, our iss and kid)."""
    now = int(time.time())
    claims = {"iss": AUD, "sub": "mallory@example.com", "aud": CLIENT_ID, "client_id": CLIENT_ID,
              "iat": now, "exp": now + 300, "jti": "crafted-0001"}
    claims.update(over)
    return jwt.encode(claims, key, algorithm="ES256", headers={"typ": "at+jwt", "kid": kid})


# ---- the token request, the JWKS and a protected location -----------------

def test_the_curl_token_request_and_a_protected_location(nginx, upstream):
    a = assertion()
    r = subprocess.run(
        ["curl", "-sS", "-D", "-", "-u", f"{CLIENT_ID}:{CLIENT_SECRET}",
         "--data-urlencode", f"grant_type={GRANT}", "--data-urlencode", f"assertion={a}",
         "--data-urlencode", "scope=read",
         f"http://127.0.0.1:{nginx.port}/oauth2/token"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    while out.startswith("HTTP/1.1 100"):                 # curl sent Expect: 100-continue
        out = out.partition("\r\n\r\n")[2]
    head, _, body = out.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200"), out
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in head.split("\r\n")[1:])}
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store" and headers["pragma"] == "no-cache"
    answer = json.loads(body)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 600
    token = answer["access_token"]

    # The token verifies against the module's JWKS with PyJWT.
    claims = jwt.decode(token, jwks_key(nginx, token), algorithms=["ES256"], audience=CLIENT_ID)
    assert claims["sub"] == "alice@example.com" and claims["client_id"] == CLIENT_ID
    assert claims["iss"] == AUD and claims["scope"] == "read"

    # The same token opens the protected location; the upstream sees the
    # variables as headers (and a map over $jwtgrant_scope), not the token.
    status, _, body = nginx.get("/protected/hello", token)
    assert status == 200, body
    seen = json.loads(body)["headers"]
    assert seen["x-jwtgrant-sub"] == "alice@example.com"
    assert seen["x-jwtgrant-client-id"] == CLIENT_ID
    assert seen["x-jwtgrant-scope"] == "read" and seen["x-scope-read"] == "yes"
    assert seen["x-jwtgrant-jti"] == claims["jti"]
    assert "authorization" not in seen
    # ... and the access log has them too (written just after the answer).
    line = f"200 /protected/hello sub=alice@example.com client={CLIENT_ID} jti={claims['jti']}"
    deadline = time.monotonic() + 10
    while line not in (nginx.root / "logs" / "access.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert line in (nginx.root / "logs" / "access.log").read_text()
    check_log(nginx, a, token)


def test_tampered_expired_foreign_or_missing_tokens_get_401(nginx, upstream):
    token = nginx.token(assertion())[2]["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    # A token minted here with the server's own key is accepted: the
    # crafted tokens below differ from it in one thing each.
    status, _, body = nginx.get("/protected/x", access_token_like_ours(kid))
    assert status == 200 and json.loads(body)["headers"]["x-jwtgrant-sub"] == "mallory@example.com"
    upstream.seen.clear()

    head, payload, sig = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["sub"] = "root"
    tampered_payload = f"{head}.{jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()}.{sig}"
    tampered_sig = f"{head}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    now = int(time.time())
    expired = access_token_like_ours(kid, iat=now - 1200, exp=now - 600)
    foreign = access_token_like_ours(kid, key=ec.generate_private_key(ec.SECP256R1()))
    other_iss = access_token_like_ours(kid, iss="https://other.example.com")
    for bad in (tampered_payload, tampered_sig, expired, foreign, other_iss, "not-a-token", ""):
        status, headers, _ = nginx.get("/protected/x", bad)
        assert status == 401, bad
        assert headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    # No Authorization, or another scheme.
    for headers in ({}, {"Authorization": basic(CLIENT_ID, CLIENT_SECRET)}):
        status, h, _ = nginx.request("/protected/x", method="GET", auth=None, headers=headers)
        assert status == 401 and h["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    # The upstream never saw any of them.
    assert upstream.seen == []
    check_log(nginx, token, tampered_sig)


def test_protect_inherited_from_http_spares_the_token_endpoint_and_jwks(tmp_path, upstream):
    n = Nginx(tmp_path, upstream_port=upstream.port, extra_http="jwtgrant_protect on;").start()
    try:
        status, _, body = n.token(assertion())        # Basic client auth, no bearer token
        assert status == 200, body
        assert n.request("/oauth2/jwks", method="GET", auth=None)[0] == 200
        token = body["access_token"]
        # Every other URI of the server inherits the protection.
        status, headers, _ = n.get("/anything-else")
        assert status == 401 and headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
        assert n.get("/anything-else", token)[0] in (403, 404)   # past the check; no such file
        assert n.get("/protected/x", token)[0] == 200
    finally:
        n.stop()
    check_log(n)


# ---- RFC 6749 errors and HTTP-level refusals ------------------------------

def test_every_rfc6749_error_comes_through_with_its_status(tmp_path):
    clients = [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT],
                "scopes": ["read", "write"]},
               {"client_id": "no-grant-app", "client_secret": "no-grant-secret",
                "grant_types": ["client_credentials"]}]
    n = Nginx(tmp_path, clients=clients).start()
    try:
        def expect(result, status, error):
            got_status, headers, body = result
            assert (got_status, body["error"]) == (status, error), body
            assert headers["Cache-Control"] == "no-store" and headers["Pragma"] == "no-cache"
            assert headers["Content-Type"] == "application/json"
            if status == 401:
                assert headers["WWW-Authenticate"].startswith("Basic")
            else:
                assert "WWW-Authenticate" not in headers

        expect(n.token(assertion(), auth=(CLIENT_ID, "wrong-secret")), 401, "invalid_client")
        expect(n.token(assertion(), auth=None), 401, "invalid_client")
        expect(n.token(assertion(), auth=("nobody", "x")), 401, "invalid_client")
        expect(n.token(assertion(), auth=("no-grant-app", "no-grant-secret")), 400, "unauthorized_client")
        expect(n.token(assertion(), extra={"grant_type": "password"}), 400, "unsupported_grant_type")
        expect(n.token(assertion(), extra={"scope": "admin"}), 400, "invalid_scope")
        status, headers, body = n.request("/oauth2/token", urllib.parse.urlencode({"grant_type": GRANT}).encode())
        expect((status, headers, json.loads(body)), 400, "invalid_request")
        now = int(time.time())
        expect(n.token(assertion(exp=now - 600, iat=now - 900)), 400, "invalid_grant")
        expect(n.token(assertion(iss="https://unknown.example.com")), 400, "invalid_grant")
        expect(n.token(assertion(aud="https://elsewhere.example.com")), 400, "invalid_grant")
        expect(n.token(assertion(key=OTHER_RSA)), 400, "invalid_grant")      # bad signature
        a = assertion()
        assert n.token(a)[0] == 200
        expect(n.token(a), 400, "invalid_grant")          # replay
    finally:
        n.stop()
    check_log(n)
    # One audit event per refusal, at warn, naming the rule only.
    refused = {(lvl, e["status_name"]) for lvl, e in audit_events(n.log) if e["event"] == "exchange"}
    assert ("warn", "JWTGRANT_EREPLAY") in refused and ("warn", "JWTGRANT_EINVALID_SCOPE") in refused, refused


def audit_events(log: str):
    """(level, event) of every "jwtgrant: {...}" line of the error log."""
    found = []
    for line in log.splitlines():
        m = re.search(r"\[(\w+)\] \d+#\d+: (?:\*\d+ )?jwtgrant: (\{.*\})$", line)
        if m:
            found.append((m.group(1), json.loads(m.group(2))))
    return found


def test_audit_events_reach_the_error_log_at_their_level(tmp_path):
    dead_port = free_port()          # nothing listens there: the fetch fails
    dead_key = ec.generate_private_key(ec.SECP256R1())
    issuers = [{"name": "cert-idp", "issuer": ISS, "certificate": IDP_CERT},
               {"name": "dead-idp", "issuer": "https://dead.example.com",
                "jwks_uri": f"http://127.0.0.1:{dead_port}/jwks"}]
    server = {"issuer": AUD, "access_token": {"signing_key": SIGNING_KEY},
              "jwks_endpoint": {"connection_timeout": 1000, "read_timeout": 1000}}
    n = Nginx(tmp_path, server=server, issuers=issuers).start()
    now = int(time.time())
    dead = jwt.encode({"iss": "https://dead.example.com", "sub": "bob", "aud": AUD, "iat": now,
                       "exp": now + 300, "jti": "dead-1"}, dead_key, algorithm="ES256", headers={"kid": "k1"})
    a = assertion()
    try:
        status, _, body = n.token(a)
        assert status == 200
        token = body["access_token"]
        assert n.token(a)[0] == 400                                         # replay
        assert n.token(assertion(), auth=(CLIENT_ID, "wrong-secret"))[0] == 401
        assert n.token(dead)[0] == 400                                      # no keys
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(audit_events(n.log)) < 5:
            time.sleep(0.05)
    finally:
        n.stop()
    check_log(n, a, a.split(".")[2], dead, token, token.split(".")[2], "wrong-secret")
    events = audit_events(n.log)
    exchanges = [(lvl, e) for lvl, e in events if e["event"] == "exchange"]
    assert [(lvl, e["outcome"], e["status_name"], e["http_status"]) for lvl, e in exchanges] == [
        ("info", "success", "JWTGRANT_OK", 200),
        ("warn", "refused", "JWTGRANT_EREPLAY", 400),
        ("warn", "refused", "JWTGRANT_EINVALID_CLIENT", 401),
        ("warn", "refused", "JWTGRANT_EKEY_SOURCE", 400)], exchanges
    ok = exchanges[0][1]
    assert (ok["client_id"], ok["issuer_name"], ok["sub"]) == (CLIENT_ID, "cert-idp", "alice@example.com")
    assert len(ok["jti_hash"]) == 16 and ok["reason"] is None
    assert exchanges[1][1]["reason"] and exchanges[2][1]["client_id"] is None
    assert exchanges[3][1]["issuer_name"] == "dead-idp" and exchanges[3][1]["sub"] is None
    # The failed fetch, at error, with its URL and reason.
    fetches = [(lvl, e) for lvl, e in events if e["event"] == "jwks_fetch"]
    assert fetches and all(lvl == "error" and e["outcome"] == "failure" and e["issuer_name"] == "dead-idp"
                           and e["url"] == f"http://127.0.0.1:{dead_port}/jwks" and e["reason"]
                           for lvl, e in fetches), fetches
    # The module's own lines: nothing names a token request's result twice.
    assert "token request refused" not in n.log


def test_http_level_refusals(nginx):
    def error(result):
        status, headers, body = result
        assert headers["Cache-Control"] == "no-store" and headers["Content-Type"] == "application/json"
        return status, json.loads(body)["error"]

    form = urllib.parse.urlencode({"grant_type": GRANT, "assertion": assertion()}).encode()
    # Wrong methods.
    for method in ("GET", "PUT", "DELETE"):
        status, headers, body = nginx.request("/oauth2/token", form if method == "PUT" else None,
                                              method=method)
        assert status == 405 and headers["Allow"] == "POST"
        assert json.loads(body)["error"] == "invalid_request"
    status, headers, _ = nginx.request("/oauth2/jwks", b"x=1")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, headers, body = nginx.request("/oauth2/jwks", method="HEAD", auth=None)
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 20
    # Wrong or missing content types: 415.
    for ct in ("application/json", "text/plain", "multipart/form-data; boundary=x",
               "application/x-www-form-urlencodedx"):
        assert error(nginx.request("/oauth2/token", form, content_type=ct)) == (415, "invalid_request")
    conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=20)
    conn.request("POST", "/oauth2/token", form, {"Authorization": basic(CLIENT_ID, CLIENT_SECRET)})
    r = conn.getresponse()
    assert r.status == 415 and json.loads(r.read())["error"] == "invalid_request"
    conn.close()
    # The content type with parameters and in another case is fine.
    assert nginx.request("/oauth2/token", form,
                         content_type="Application/X-WWW-Form-Urlencoded; charset=UTF-8")[0] == 200
    # Over the limit with a Content-Length: 413 (nginx refuses it before the
    # handler; the module's filters give it the same JSON and headers).
    too_large = error(nginx.request("/oauth2/token", b"grant_type=x&" + b"a" * (MAX_BODY + 10)))
    assert too_large == (413, "invalid_request")
    status, headers, body = nginx.request("/oauth2/token", b"a" * (10 * MAX_BODY))
    assert status == 413 and headers["Pragma"] == "no-cache"
    assert int(headers["Content-Length"]) == len(body) and json.loads(body)["error"] == "invalid_request"
    # Chunked (no Content-Length): under the limit it is exchanged ...
    a = assertion()
    body = urllib.parse.urlencode({"grant_type": GRANT, "assertion": a}).encode()
    status, _, data = nginx.request("/oauth2/token", iter([body[:50], body[50:]]))
    assert status == 200, data
    # ... and just under the limit, in pieces spilled to nginx's temp file,
    # it reaches the library whole (which refuses the padding as a request).
    padded = body + b"&pad=" + b"p" * (MAX_BODY - len(body) - 10)
    status, _, data = nginx.request("/oauth2/token", iter([padded[i:i + 4096] for i in range(0, len(padded), 4096)]))
    assert status in (200, 400), data
    # Over the limit: cut off with 413.
    assert error(nginx.request("/oauth2/token", iter([b"grant_type=x&", b"a" * 40000, b"a" * 40000]))) \
        == (413, "invalid_request")
    # Elsewhere nginx's own 413 page is left alone.
    status, headers, body = nginx.request("/protected/x", b"a" * (2 * 1024 * 1024))
    assert status == 413 and headers["Content-Type"] == "text/html" and b"<html>" in body
    # A NUL would end the C string early: refused, not truncated.
    assert error(nginx.request("/oauth2/token", b"grant_type=" + GRANT.encode() + b"\x00&assertion=x")) \
        == (400, "invalid_request")
    # The server is still fine.
    assert nginx.token(assertion())[0] == 200


def test_a_large_body_within_the_limit_goes_through_the_temp_file(nginx):
    # nginx keeps bodies over client_body_buffer_size (16k) in a temp file;
    # the module reads it from there.
    a = assertion(pad="x" * 20000)
    status, _, body = nginx.token(a)
    assert status == 200, body


# ---- never blocking the event loop ----------------------------------------

class StallingServer:
    """Accepts connections and never answers: a JWKS endpoint that stalls."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.conns = []
        self.closed = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            self.accepted.set()

    def close(self):
        self.closed = True
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_stalled_jwks_endpoint_does_not_delay_other_issuers(tmp_path):
    stall = StallingServer()
    read_timeout_ms = 6000
    stalled_key = ec.generate_private_key(ec.SECP256R1())
    issuers = [{"name": "cert-idp", "issuer": ISS, "certificate": IDP_CERT},
               {"name": "stalled-idp", "issuer": "https://stalled.example.com",
                "jwks_uri": f"http://127.0.0.1:{stall.port}/jwks"}]
    server = {"issuer": AUD, "access_token": {"signing_key": SIGNING_KEY},
              "jwks_endpoint": {"connection_timeout": 1000, "read_timeout": read_timeout_ms}}
    n = Nginx(tmp_path, server=server, issuers=issuers, threads=16).start()
    pool = concurrent.futures.ThreadPoolExecutor(16)
    try:
        now = int(time.time())

        def stalled_exchange(i):
            a = jwt.encode({"iss": "https://stalled.example.com", "sub": f"s{i}", "aud": AUD, "iat": now,
                            "exp": now + 300, "jti": f"stalled-{i}"}, stalled_key, algorithm="ES256",
                           headers={"kid": "k1"})
            t = time.monotonic()
            status, _, body = n.token(a, timeout=30)
            return status, body, time.monotonic() - t

        stalled = [pool.submit(stalled_exchange, i) for i in range(4)]
        assert stall.accepted.wait(5), "the library never contacted the stalled JWKS endpoint"
        # A client that gives up on a stalled exchange and disconnects.
        a = jwt.encode({"iss": "https://stalled.example.com", "sub": "gone", "aud": AUD, "iat": now,
                        "exp": now + 300, "jti": "stalled-gone"}, stalled_key, algorithm="ES256",
                       headers={"kid": "k1"})
        form = urllib.parse.urlencode({"grant_type": GRANT, "assertion": a}).encode()
        with socket.create_connection(("127.0.0.1", n.port)) as gone:
            gone.sendall(b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nAuthorization: "
                         + basic(CLIENT_ID, CLIENT_SECRET).encode()
                         + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                         + str(len(form)).encode() + b"\r\n\r\n" + form)
        t0 = time.monotonic()
        tokens = [assertion() for _ in range(100)]

        def quick(a):
            t = time.monotonic()
            status = n.token(a, timeout=30)[0]
            return status, time.monotonic() - t

        results = list(pool.map(quick, tokens))
        elapsed = time.monotonic() - t0
        # All 100 done while the stalled ones still wait on their endpoint.
        assert not any(f.done() for f in stalled), "the stalled exchanges ended before the others"
        assert [s for s, _ in results] == [200] * 100
        slowest = max(d for _, d in results)
        print(f"\n100 exchanges of a certificate issuer during a stalled JWKS fetch: {elapsed:.2f} s, "
              f"slowest {slowest * 1000:.0f} ms")
        assert elapsed < read_timeout_ms / 1000 - 1.5 and slowest < 2.0, (elapsed, slowest)
        # The stalled ones end with the timeout, as invalid_grant.
        for f in stalled:
            status, body, took = f.result(timeout=30)
            assert status == 400 and body["error"] == "invalid_grant", body
            assert took >= read_timeout_ms / 1000 - 0.5
        # The answer to the client that left found a closed connection; the
        # worker goes on.
        assert n.token(assertion())[0] == 200
    finally:
        pool.shutdown(wait=True)
        n.stop()
        stall.close()
    check_log(n)
    assert "JWTGRANT_EKEY_SOURCE" in n.log


# ---- configuration: nginx -t, the worker rule, reload -----------------------

BAD_CONFIGS = {
    "issuer with a bad certificate": (
        dict(issuers=[{"name": "bad", "issuer": ISS, "certificate": "not a certificate"}]),
        r'jwtgrant_issuer ".*issuer0\.json": JWTGRANT_EKEY'),
    "issuer file that is not JSON": (
        dict(issuers=["{not json"]), r'jwtgrant_issuer ".*issuer0\.json": JWTGRANT_EINVAL'),
    "two issuers with one name": (
        dict(issuers=[{"name": "a", "issuer": ISS, "certificate": IDP_CERT},
                      {"name": "a", "issuer": ISS + "/2", "certificate": IDP_CERT}]),
        r'jwtgrant_issuer ".*issuer1\.json": JWTGRANT_EEXISTS'),
    "unknown field in the server configuration": (
        dict(server={"issuer": AUD, "colour": "blue"}),
        r'jwtgrant_config ".*server\.json": JWTGRANT_EINVAL: .*colour'),
    "unknown field in a client": (
        dict(clients=[{"client_id": "x", "client_secret": "s", "redirect": "y"}]),
        r'jwtgrant_client ".*client0\.json": JWTGRANT_EINVAL: .*redirect'),
    "a bad store": (
        dict(server={"issuer": AUD, "store": "floppy:/dev/fd0"}),
        r'jwtgrant_config ".*server\.json": JWTGRANT_E(STORE|INVAL): .*store'),
    "memory store with two workers": (
        dict(workers=2),
        r'worker_processes is 2 but the store is "memory": .*replayed to another worker'),
}


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_nginx_t_refuses_a_bad_configuration_with_the_library_message(tmp_path, name):
    kw, message = BAD_CONFIGS[name]
    n = Nginx(tmp_path, **kw)
    rc, out = n.test_config()
    assert rc != 0 and "test failed" in out, out
    assert re.search(message, out), out
    # Starting fails the same way, before any worker.
    proc = subprocess.run(n.args("-g", "daemon off; master_process on;"), capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode != 0 and re.search(message, proc.stdout + proc.stderr + n.log)


def test_nginx_t_accepts_a_good_configuration_and_a_missing_file_is_refused(tmp_path):
    n = Nginx(tmp_path)
    rc, out = n.test_config()
    assert rc == 0 and "test is successful" in out, out
    n.issuer_files[0].unlink()
    rc, out = n.test_config()
    assert rc != 0 and "issuer0.json" in out and "failed" in out, out


def test_worker_rule_also_holds_when_worker_processes_follows_http(tmp_path):
    n = Nginx(tmp_path)
    conf = (tmp_path / "nginx.conf").read_text().replace("worker_processes 1;", "") + "\nworker_processes 3;\n"
    (tmp_path / "nginx.conf").write_text(conf)
    rc, out = n.test_config()
    assert rc != 0 and 'worker_processes is 3 but the store is "memory"' in out, out
    proc = subprocess.run(n.args("-g", "daemon off; master_process on;"), capture_output=True,
                          text=True, timeout=30)
    out = proc.stdout + proc.stderr + n.log
    assert proc.returncode != 0 and 'worker_processes is 3 but the store is "memory"' in out, out


def test_reload_under_load_drops_no_request(tmp_path):
    # The protected location serves a static file: nothing but nginx and the
    # module on the path.
    n = Nginx(tmp_path, extra_server="location /static/ { jwtgrant_protect on; root {temp}; }")
    (n.temp / "static").mkdir()
    (n.temp / "static" / "ok.txt").write_text("ok\n")
    os.chmod(n.temp / "static", 0o755)
    os.chmod(n.temp / "static" / "ok.txt", 0o644)
    n.start()
    stop = threading.Event()
    results, lock = [], threading.Lock()
    token = n.token(assertion())[2]["access_token"]

    def load(k):
        while not stop.is_set():
            try:
                if k % 2:
                    s = n.token(assertion(), timeout=30)[0]
                else:
                    s = n.get("/static/ok.txt", token, timeout=30)[0]
            except Exception as e:                      # a dropped connection
                s = repr(e)
            with lock:
                results.append(s)

    threads = [threading.Thread(target=load, args=(k,)) for k in range(6)]
    try:
        for t in threads:
            t.start()
        workers = [n.worker_pids()]
        for i in range(3):
            time.sleep(0.7)
            if i == 0:          # as an operator would: nginx -s reload (SIGHUP through the pid file)
                r = subprocess.run(n.args("-s", "reload"), capture_output=True, text=True, timeout=30)
                assert r.returncode == 0, r.stderr
            else:
                n.send(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and n.worker_pids() & workers[-1]:
                time.sleep(0.05)
            workers.append(n.worker_pids())
        # A reload with a broken issuer file keeps the running configuration.
        n.issuer_files[0].write_text("{broken")
        n.send(signal.SIGHUP)
        time.sleep(1.0)
        workers.append(n.worker_pids())
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        n.stop(signal.SIGQUIT)
    bad = [r for r in results if r != 200]
    print(f"\n{len(results)} requests over 3 reloads and a refused one: {len(bad)} failed")
    assert len(results) > 100 and bad == [], bad[:5]
    # Each good reload replaced the worker; the refused one did not.
    assert all(workers[i] and not (workers[i] & workers[i + 1]) for i in range(3)), workers
    assert workers[4] == workers[3], workers
    assert re.search(r'jwtgrant_issuer ".*issuer0\.json": JWTGRANT_EINVAL', n.log)
    check_log(n, token)


# ---- memory: valgrind on the worker through a whole session ---------------

def valgrind_session(root, upstream_port: int, rounds: int):
    """One nginx process (master_process off: the process that serves the
    requests) under valgrind memcheck: `rounds` rounds of requests of every
    kind, then a graceful stop. Returns (definitely, indirectly lost bytes,
    memory errors, leak records through the module, the library or jansson,
    the report)."""
    root.mkdir()
    n = Nginx(root, upstream_port=upstream_port)
    vlog = root / "valgrind-session.log"
    n.start(prefix=valgrind_prefix(vlog), master=False, wait=120)
    try:
        for i in range(rounds):
            a = assertion()
            status, _, body = n.token(a, extra={"scope": "read"} if i % 2 else None, timeout=60)
            assert status == 200, body
            assert n.token(a, timeout=60)[0] == 400                                  # replay
            assert n.token(assertion(), auth=(CLIENT_ID, "nope"), timeout=60)[0] == 401
            assert n.token(assertion(pad="x" * 20000), timeout=60)[0] == 200       # temp file
            assert n.get("/protected/x", body["access_token"], timeout=60)[0] == 200
            assert n.get("/protected/x", body["access_token"][:-3] + "AAA", timeout=60)[0] == 401
            assert n.get("/protected/x", None, timeout=60)[0] == 401
            assert n.request("/oauth2/jwks", method="GET", auth=None, timeout=60)[0] == 200
            assert n.request("/oauth2/token", b"x" * (MAX_BODY + 1), timeout=60)[0] == 413
            assert n.request("/oauth2/token", method="GET", timeout=60)[0] == 405
            assert n.request("/oauth2/token", b"a=b", content_type="text/plain", timeout=60)[0] == 415
    finally:
        rc = n.stop(signal.SIGQUIT, timeout=120)
    report = vlog.read_text()
    assert rc == 0, report[-3000:]
    assert re.search(r"ERROR SUMMARY: (\d+) errors", report), report[-3000:]
    definite, indirect, errors, ours = valgrind_findings(report)
    return definite, indirect, len(errors), ours, report


def test_no_leak_per_request_under_valgrind(tmp_path, upstream):
    """nginx itself loses some memory once, at startup (configuration
    parsing, thread pool threads, environment), and the library's one-time
    statics become unreachable when nginx dlcloses the module at exit; so
    two sessions, of 2 and of 12 rounds of 11 requests, must lose exactly
    the same: nothing per request. And there is no memory error."""
    short = valgrind_session(tmp_path / "short", upstream.port, 2)
    long = valgrind_session(tmp_path / "long", upstream.port, 12)
    print(f"\nvalgrind: definitely/indirectly lost after 22 requests {short[:2]}, "
          f"after 132 requests {long[:2]}; memory errors {short[2]}, {long[2]}")
    assert short[2] == 0 and long[2] == 0, long[4][-6000:]
    assert long[:2] == short[:2], long[4][-8000:]
    # Leak records through the module, the library or jansson (the library's
    # one-time statics, unreachable once nginx has dlclosed the module at
    # exit) are the same ones, of the same size, after 22 and 132 requests.
    assert sorted(o[:3] for o in short[3]) == sorted(o[:3] for o in long[3]), \
        "\n".join(o[3] for o in long[3])
