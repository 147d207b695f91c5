"""examples/c/event_loop.c against a JWKS endpoint on loopback that answers
slowly: the cold verification must fail at once with JWTGRANT_EKEY_SOURCE
(the library never waits on the host's fetch), and after the host's loop
delivers the document the same assertion is accepted. The binary is built by
scripts/test and named by EVENT_LOOP_BIN."""
import http.server
import json
import os
import subprocess
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

ISS = "https://idp.example.com"
AUD = "https://localhost:9443/oauth2/token"
DELAY = 0.4


def b64u_int(i: int) -> str:
    import base64
    return base64.urlsafe_b64encode(i.to_bytes(32, "big")).rstrip(b"=").decode()


@pytest.fixture
def endpoint():
    key = ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key().public_numbers()
    doc = json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": b64u_int(pub.x), "y": b64u_int(pub.y),
                                "kid": "k1", "alg": "ES256"}]}).encode()
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(time.monotonic())
            time.sleep(DELAY)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(doc)))
            self.end_headers()
            self.wfile.write(doc)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_address[1]}/jwks", hits
    server.shutdown()
    server.server_close()


def binary() -> str:
    path = os.environ.get("EVENT_LOOP_BIN")
    assert path and os.path.exists(path), "EVENT_LOOP_BIN must name the built event_loop (scripts/test)"
    return path


def token(key) -> str:
    now = int(time.time())
    return jwt.encode({"iss": ISS, "sub": "alice", "aud": AUD, "iat": now, "exp": now + 300, "jti": "j1"},
                      key, algorithm="ES256", headers={"kid": "k1"})


def test_cold_verify_does_not_wait_and_the_loop_delivers(endpoint):
    key, url, hits = endpoint
    r = subprocess.run([binary(), ISS, url, token(key)], capture_output=True, text=True, timeout=30)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stdout + r.stderr
    cold = next(l for l in lines if l.startswith("cold verify:"))
    assert "JWTGRANT_EKEY_SOURCE" in cold
    assert float(cold.split(" after ")[1].split(" ms")[0]) < DELAY * 1000 / 4, cold
    assert any(l.startswith("loop: delivered the JWKS of idp") and l.endswith("JWTGRANT_OK") for l in lines), lines
    warm = next(l for l in lines if l.startswith("warm verify:"))
    assert "JWTGRANT_OK" in warm and '"_issuer_name":"idp"' in warm.replace(" ", "")
    assert len(hits) == 1                       # one fetch, by the host


def test_wrong_key_at_the_endpoint_is_still_refused(endpoint):
    _, url, hits = endpoint
    other = ec.generate_private_key(ec.SECP256R1())
    r = subprocess.run([binary(), ISS, url, token(other)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r.stdout
    assert "warm verify: JWTGRANT_ESIGNATURE" in r.stdout, r.stdout
    assert len(hits) == 1


def test_no_leak_or_memory_error_under_valgrind(endpoint):
    key, url, hits = endpoint
    r = subprocess.run(["valgrind", "-q", "--leak-check=full", "--show-possibly-lost=no",
                        "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=3",
                        binary(), ISS, url, token(key)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every step as expected" in r.stdout
    assert len(hits) == 1
