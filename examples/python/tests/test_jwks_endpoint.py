"""Issue 4 through the C ABI: trusted token issuers registered with
"jwks_uri" (the JWKS endpoint key source), and host-side fetching
(jwtgrant_set_jwks_fetcher, jwtgrant_jwks_fetch_result / _error,
jwtgrant_issuer_set_jwks).

Every test runs its own JWKS endpoint: an http.server on 127.0.0.1 (free
port, background thread of this process, stopped at teardown) whose answer
per path the test sets (a JWKS, a status, a body, a delay, a drip, a
redirect, a Cache-Control max-age) and which counts the requests it gets.

Servers are pinned to helpers.T0 (claims are judged by the context clock);
the key cache runs on a monotonic clock, so pinning does not touch it.
Timing bounds are loose: the machine has two cores and may be loaded.
"""

import base64
import collections
import gc
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import jwtgrant
from helpers import (ISS, SERVER_ISSUER, assert_no_token_text, claims, issuer_json, mint, private_key,
                     public_jwk)

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
NAME = "idp"

# Generous bounds for the JWKS endpoint timeouts.
DEFAULT_TIMEOUT_BOUND = 2.5     # connection_timeout + read_timeout = 1000 + 1000 ms
SHORT_TIMEOUT_BOUND = 1.2       # 200 + 200 ms
SHORT = {"connection_timeout": 200, "read_timeout": 200}


# --------------------------------------------------------------------------
# The local JWKS endpoint
# --------------------------------------------------------------------------

class Route:
    """What one path answers. `jwks` (a dict) or `body` (bytes) is the body;
    `delay` seconds before anything is sent (a stall when long); `drip`
    seconds between single body bytes after the headers; `max_age` or
    `cache_control` sets Cache-Control; `location` a Location header;
    `content_length` False sends no Content-Length (connection close)."""

    def __init__(self, jwks=None, *, status=200, body=None, delay=0.0, drip=None,
                 max_age=None, cache_control=None, location=None,
                 content_type="application/json", content_length=True):
        self.jwks, self.status, self.body = jwks, status, body
        self.delay, self.drip = delay, drip
        self.max_age, self.cache_control, self.location = max_age, cache_control, location
        self.content_type, self.content_length = content_type, content_length

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.jwks if self.jwks is not None else {"keys": []}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        ep = self.server.endpoint
        path = self.path.split("?", 1)[0]
        route = ep.hit(path, ("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
        try:
            if route is None:
                self._send(404, b'{"error":"not found"}', "application/json", [])
                return
            if route.delay and ep.released.wait(route.delay):
                return                                  # teardown: give up the stall
            headers = []
            if route.cache_control is not None:
                headers.append(("Cache-Control", route.cache_control))
            elif route.max_age is not None:
                headers.append(("Cache-Control", f"public, max-age={route.max_age}"))
            if route.location is not None:
                headers.append(("Location", route.location))
            body = route.payload()
            if route.drip is not None:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    if ep.released.wait(route.drip):
                        return
                return
            if not route.content_length:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Connection", "close")
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.close_connection = True
                for i in range(0, len(body), 4096):
                    self.wfile.write(body[i:i + 4096])
                    self.wfile.flush()
                return
            self._send(route.status, body, route.content_type, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, status, body, ctype, headers):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gives up (libcurl on a timeout or the size limit)
        # resets the connection: expected here, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class JWKSEndpoint:
    """A JWKS endpoint on 127.0.0.1 whose behaviour the test controls."""

    def __init__(self, tls=None):
        """`tls`: (certfile, keyfile) to speak https."""
        self._lock = threading.Lock()
        self._routes = {}
        self._hits = collections.Counter()
        self.requests = []          # (method, path, headers dict) of each request
        self.released = threading.Event()
        self.httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self.httpd.endpoint = self
        self.scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.running = True

    def url(self, path="/jwks") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def serve(self, path="/jwks", jwks=None, **kw) -> str:
        with self._lock:
            self._routes[path] = Route(jwks, **kw)
        return self.url(path)

    def hit(self, path, request=None):
        with self._lock:
            self._hits[path] += 1
            if request is not None:
                self.requests.append(request)
            return self._routes.get(path)

    def count(self, path=None) -> int:
        with self._lock:
            return sum(self._hits.values()) if path is None else self._hits[path]

    def stop(self):
        """Stops serving: the port refuses connections from now on."""
        if not self.running:
            return
        self.running = False
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def endpoint():
    ep = JWKSEndpoint()
    yield ep
    ep.stop()


# --------------------------------------------------------------------------
# Keys, tokens, issuers
# --------------------------------------------------------------------------

def key(n):
    return private_key("p256", n)


def jwk(n, kid):
    return public_jwk("p256", n, kid=kid)


def jwks(*pairs):
    """jwks((0, "k0"), (1, "k1")): a JWKS with key n under kid."""
    return {"keys": [jwk(n, kid) for n, kid in pairs]}


def token(n, kid, **over):
    """An ES256 assertion signed by key n with header kid, valid at T0."""
    return mint("pyjwt", "ES256", key(n), claims(**over), headers={"kid": kid} if kid else None)


def register(server, url, name=NAME, iss=ISS):
    server.register_issuer({"name": name, "issuer": iss, "jwks_uri": url})


def listing(server, name=NAME) -> dict:
    for i in server.list_issuers():
        if i["name"] == name:
            return i
    raise AssertionError(f"issuer {name} not listed")


def rejected(server, tok, status="JWTGRANT_EKEY_SOURCE"):
    """verify_assertion fails with `status`; returns the error (message checked
    not to echo the token)."""
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        server.verify_assertion(tok)
    err = ei.value
    assert err.name == status, f"expected {status}, got {err.name}: {err.message}"
    assert err.oauth_error == "invalid_grant"
    assert err.message
    assert tok not in err.message and tok.split(".")[1] not in err.message
    assert_no_token_text(err.message, tok)
    return err


def timed_rejection(server, tok, status="JWTGRANT_EKEY_SOURCE"):
    t = time.monotonic()
    err = rejected(server, tok, status)
    return err, time.monotonic() - t


def wait_until(pred, timeout=5.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


# --------------------------------------------------------------------------
# Fetching and listing
# --------------------------------------------------------------------------

def test_registration_fetches_nothing_first_use_fetches_once(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0"), (1, "k1")))
    s = make_server()
    register(s, url)
    entry = listing(s)
    assert endpoint.count() == 0, "registration must not fetch"
    assert entry["key_source"] == "jwks_uri" and entry["jwks_uri"] == url
    assert entry["key_ids"] == [] and entry["last_fetch"] is None
    assert entry["fetch_count"] == 0 and entry["last_error"] is None

    claims_out = s.verify_assertion(token(0, "k0"))
    assert claims_out["_issuer_name"] == NAME and claims_out["iss"] == ISS
    assert s.verify_assertion(token(1, "k1"))["_issuer_name"] == NAME
    for _ in range(5):
        s.verify_assertion(token(0, "k0"))
    assert endpoint.count() == 1, "a fresh cached set is used without the network"
    entry = listing(s)
    assert sorted(entry["key_ids"]) == ["k0", "k1"]
    assert entry["fetch_count"] == 1 and entry["last_error"] is None
    assert isinstance(entry["last_fetch"], int)
    assert entry["stale"] is False and 0 < entry["expires_in"] <= 600


def test_last_fetch_is_the_wall_time_of_the_fetch(endpoint):
    """An unpinned server: last_fetch is the unix time of the good fetch."""
    url = endpoint.serve(jwks=jwks((0, "k0")))
    with jwtgrant.Server() as s:
        register(s, url)
        now = int(time.time())
        tok = mint("pyjwt", "ES256", key(0),
                   claims(iat=now - 5, exp=now + 300), headers={"kid": "k0"})
        s.verify_assertion(tok)
        last = listing(s)["last_fetch"]
        assert abs(last - time.time()) < 30, last


def test_wrong_key_under_known_kid_is_a_signature_failure(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    rejected(s, token(1, "k0"), "JWTGRANT_ESIGNATURE")


# --------------------------------------------------------------------------
# Rotation and the unknown-kid cooldown
# --------------------------------------------------------------------------

def test_rotation_new_kid_picked_up_by_next_token(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server({"jwks_endpoint": {"unknown_kid_cooldown": 0}})
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    assert endpoint.count() == 1

    endpoint.serve(jwks=jwks((0, "k0"), (1, "k1")))          # the issuer adds a key
    assert s.verify_assertion(token(1, "k1"))["_issuer_name"] == NAME
    assert endpoint.count() == 2
    assert sorted(listing(s)["key_ids"]) == ["k0", "k1"]

    endpoint.serve(jwks=jwks((1, "k1"), (2, "k2")))          # and rotates again, dropping k0
    assert s.verify_assertion(token(2, "k2"))["_issuer_name"] == NAME
    assert endpoint.count() == 3
    assert sorted(listing(s)["key_ids"]) == ["k1", "k2"]
    # k0 is gone from the refreshed set: its tokens now fail (with a refetch
    # allowed by the zero cooldown, which still does not find it).
    rejected(s, token(0, "k0"), "JWTGRANT_EKEY_NOT_FOUND")


def test_rotation_within_default_cooldown(make_server, endpoint):
    """Default cooldown (30 s): the first unknown kid refetches and is picked
    up; a second unknown kid within the cooldown does not refetch."""
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    assert endpoint.count() == 1

    endpoint.serve(jwks=jwks((0, "k0"), (1, "k1")))
    assert s.verify_assertion(token(1, "k1"))["_issuer_name"] == NAME
    assert endpoint.count() == 2

    endpoint.serve(jwks=jwks((0, "k0"), (1, "k1"), (2, "k2")))
    err = rejected(s, token(2, "k2"), "JWTGRANT_EKEY_NOT_FOUND")
    assert "k2" not in err.message and "kid" in err.message, "names the rule, not the token's kid"
    assert endpoint.count() == 2, "a second unknown kid within the cooldown must not refetch"
    assert listing(s)["fetch_count"] == 2
    # Known kids keep verifying meanwhile.
    s.verify_assertion(token(1, "k1"))
    assert endpoint.count() == 2


def test_rotation_after_a_short_cooldown(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server({"jwks_endpoint": {"unknown_kid_cooldown": 1}})
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    rejected(s, token(1, "k1"), "JWTGRANT_EKEY_NOT_FOUND")   # refetched, k1 not there yet
    assert endpoint.count() == 2
    endpoint.serve(jwks=jwks((0, "k0"), (1, "k1")))
    rejected(s, token(1, "k1"), "JWTGRANT_EKEY_NOT_FOUND")   # within the 1 s cooldown
    assert endpoint.count() == 2
    time.sleep(1.2)
    assert s.verify_assertion(token(1, "k1"))["_issuer_name"] == NAME
    assert endpoint.count() == 3


def made_up_kid() -> str:
    """A random kid without digits: the JWKS URL in a message (a server-side
    value) holds a random port, whose digits must not look like token text."""
    return "made-up-" + uuid.uuid4().hex.translate(str.maketrans("0123456789", "ghijklmnop"))


def test_fifty_made_up_kids_cause_at_most_two_fetches(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    for _ in range(50):
        rejected(s, token(0, made_up_kid()), "JWTGRANT_EKEY_NOT_FOUND")
    assert endpoint.count() <= 2, endpoint.count()
    assert 1 <= listing(s)["fetch_count"] <= 2
    s.verify_assertion(token(0, "k0"))                      # the real kid still works
    assert endpoint.count() <= 2


def test_fifty_made_up_kids_from_threads_cause_at_most_two_fetches(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")), delay=0.1)
    s = make_server()
    register(s, url)
    toks = [token(0, made_up_kid()) for _ in range(50)]
    names = []
    lock = threading.Lock()
    barrier = threading.Barrier(5)

    def work(chunk):
        barrier.wait()
        for t in chunk:
            try:
                s.verify_assertion(t)
                got = "OK"
            except jwtgrant.JWTGrantError as e:
                got = e.name
            with lock:
                names.append(got)

    threads = [threading.Thread(target=work, args=(toks[i::5],)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(names) == 50
    assert set(names) == {"JWTGRANT_EKEY_NOT_FOUND"}, collections.Counter(names)
    assert endpoint.count() <= 2, endpoint.count()


# --------------------------------------------------------------------------
# Single flight
# --------------------------------------------------------------------------

def test_eight_threads_on_a_cold_issuer_share_one_fetch(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")), delay=0.4)   # slow enough for all to pile up
    s = make_server()
    register(s, url)
    toks = [token(0, "k0") for _ in range(8)]
    results = [None] * 8
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait()
        try:
            results[i] = s.verify_assertion(toks[i])["_issuer_name"]
        except jwtgrant.JWTGrantError as e:
            results[i] = e.name

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert results == [NAME] * 8, results
    assert endpoint.count() == 1, endpoint.count()
    assert listing(s)["fetch_count"] == 1


# --------------------------------------------------------------------------
# Endpoint down
# --------------------------------------------------------------------------

def test_endpoint_down_cached_kid_still_verifies(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    endpoint.stop()
    for _ in range(3):
        assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    # An unknown kid tries the (dead) endpoint once and fails cleanly.
    t = time.monotonic()
    err = rejected(s, token(1, "k1"), "JWTGRANT_EKEY_NOT_FOUND")
    assert time.monotonic() - t < DEFAULT_TIMEOUT_BOUND
    assert "k1" not in err.message and "kid" in err.message, "names the rule, not the token's kid"
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    entry = listing(s)
    assert entry["key_ids"] == ["k0"]


def test_endpoint_down_expired_set_served_stale(make_server, endpoint):
    """The set has expired (max-age 0 with min_cache_ttl 0) and the endpoint
    is down: the last good set keeps serving (stale-if-error) and the
    failure is reported on the issuer."""
    url = endpoint.serve(jwks=jwks((0, "k0")), max_age=0)
    s = make_server({"jwks_endpoint": {"min_cache_ttl": 0}})
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    endpoint.stop()
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    entry = listing(s)
    assert entry["key_ids"] == ["k0"]
    assert entry["stale"] is True
    assert entry["last_error"] and "unreachable" in entry["last_error"], entry
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME


def test_endpoint_down_on_first_use_fails_fast_and_says_unreachable(make_server, endpoint):
    url = endpoint.url("/jwks")
    endpoint.stop()
    s = make_server()
    register(s, url)
    err, took = timed_rejection(s, token(0, "k0"))
    assert "unreachable" in err.message, err.message
    assert took < DEFAULT_TIMEOUT_BOUND
    assert "unreachable" in listing(s)["last_error"]
    assert listing(s)["last_fetch"] is None


def test_failure_is_not_retried_on_every_request(make_server, endpoint):
    """After a failed fetch, requests within retry_after_failure (5 s) fail
    fast with the recorded reason instead of stalling on the endpoint again."""
    url = endpoint.serve(jwks=jwks((0, "k0")), delay=30)
    s = make_server({"jwks_endpoint": SHORT})
    register(s, url)
    err, took = timed_rejection(s, token(0, "k0"))
    assert "timeout" in err.message.lower()
    assert took < SHORT_TIMEOUT_BOUND
    err, took = timed_rejection(s, token(0, "k0"))
    assert took < 0.3, took
    assert "timeout" in err.message.lower()
    assert endpoint.count() == 1


def test_recovers_when_the_endpoint_comes_back(make_server, endpoint):
    url = endpoint.serve(status=503, body=b'{"error":"down"}')
    s = make_server({"jwks_endpoint": {"retry_after_failure": 0}})
    register(s, url)
    err = rejected(s, token(0, "k0"))
    assert "503" in err.message
    endpoint.serve(jwks=jwks((0, "k0")))
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    entry = listing(s)
    assert entry["last_error"] is None and entry["key_ids"] == ["k0"]


# --------------------------------------------------------------------------
# Stalling, dripping, and endpoints that answer something else
# --------------------------------------------------------------------------

def test_stall_fails_within_default_timeouts(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")), delay=30)
    s = make_server()
    register(s, url)
    err, took = timed_rejection(s, token(0, "k0"))
    assert took < DEFAULT_TIMEOUT_BOUND, took
    assert "timeout" in err.message.lower(), err.message
    assert "timeout" in listing(s)["last_error"].lower()


def test_stall_fails_within_configured_timeouts(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")), delay=30)
    s = make_server({"jwks_endpoint": SHORT})
    register(s, url)
    err, took = timed_rejection(s, token(0, "k0"))
    assert took < SHORT_TIMEOUT_BOUND, took
    assert "timeout" in err.message.lower(), err.message


def test_drip_cannot_hold_a_request(make_server, endpoint):
    """Headers, then one byte every 150 ms: the whole transfer is bounded."""
    url = endpoint.serve(jwks=jwks((0, "k0")), drip=0.15)
    s = make_server()
    register(s, url)
    err, took = timed_rejection(s, token(0, "k0"))
    assert took < DEFAULT_TIMEOUT_BOUND, took
    assert "timeout" in err.message.lower(), err.message


def test_drip_with_configured_timeouts(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")), drip=0.05)
    s = make_server({"jwks_endpoint": SHORT})
    register(s, url)
    err, took = timed_rejection(s, token(0, "k0"))
    assert took < SHORT_TIMEOUT_BOUND, took
    assert "timeout" in err.message.lower(), err.message


def _big_jwks():
    doc = jwks((0, "k0"))
    doc["keys"][0]["x-pad"] = "x" * 60000
    return doc


BAD_ENDPOINTS = {
    # name: (route kwargs, words the reason must contain)
    "oversized": (dict(jwks=_big_jwks()), ["oversized"]),
    "oversized_no_length": (dict(jwks=_big_jwks(), content_length=False), ["oversized"]),
    "not_json": (dict(body=b"<html>hello</html>", content_type="text/html"), ["not json"]),
    "not_jwks": (dict(body=b'{"issuer":"https://example.com"}'), ["not a jwks"]),
    "empty_body": (dict(body=b""), ["not json"]),
    "http_500": (dict(status=500, body=b'{"error":"boom"}'), ["http", "500"]),
    "http_503": (dict(status=503, body=b'{"error":"boom"}'), ["503"]),
    "http_404": (dict(status=404, body=b'{"error":"nope"}'), ["404"]),
    "redirect_302": (dict(status=302, body=b"", location="/target"), ["redirect"]),
    "redirect_301": (dict(status=301, body=b"", location="/target"), ["redirect"]),
    "redirect_307": (dict(status=307, body=b"", location="/target"), ["redirect"]),
    "redirect_308": (dict(status=308, body=b"", location="/target"), ["redirect"]),
    # A 3xx is refused even when its body happens to be a JWKS.
    "redirect_302_jwks_body": (dict(status=302, jwks=jwks((0, "k0")), location="/target"),
                               ["redirect"]),
}


@pytest.mark.parametrize("kind", list(BAD_ENDPOINTS))
def test_bad_endpoint_fails_with_a_reason(make_server, endpoint, kind):
    route, words = BAD_ENDPOINTS[kind]
    endpoint.serve("/target", jwks=jwks((0, "k0")))
    url = endpoint.serve("/jwks", **route)
    s = make_server()
    register(s, url)
    err, took = timed_rejection(s, token(0, "k0"))
    for w in words:
        assert w in err.message.lower(), err.message
    assert took < DEFAULT_TIMEOUT_BOUND
    last = listing(s)["last_error"]
    for w in words:
        assert w in last.lower(), last
    assert listing(s)["key_ids"] == []
    assert endpoint.count("/target") == 0, "a redirect must not be followed"


def test_configured_size_limit(make_server, endpoint):
    doc = jwks((0, "k0"))
    size = len(json.dumps(doc))
    url = endpoint.serve(jwks=doc)
    s = make_server({"jwks_endpoint": {"size_limit_bytes": size - 1}})
    register(s, url)
    err = rejected(s, token(0, "k0"))
    assert "oversized" in err.message and str(size - 1) in err.message
    s2 = make_server({"jwks_endpoint": {"size_limit_bytes": size}})
    register(s2, url)
    assert s2.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME


# --------------------------------------------------------------------------
# Cache-Control max-age
# --------------------------------------------------------------------------

@pytest.mark.parametrize("header, lo, hi", [
    (None, 590, 600),                        # absent: 10 min
    ("public, max-age=300", 290, 300),
    ("max-age=5", 50, 60),                   # raised to the 60 s minimum
    ("max-age=99999999", 86390, 86400),      # lowered to the 24 h maximum
    ("no-store", 50, 60),                    # 0, raised to the minimum
    ('max-age="300"', 290, 300),             # quoted value
    ("max-age=120, max-age=300", 110, 120),  # several: the smallest
    ("max-age=abc", 590, 600),               # unparsable: absent
    ("s-maxage=300", 590, 600),              # not max-age
])
def test_lifetime_from_cache_control(make_server, endpoint, header, lo, hi):
    url = endpoint.serve(jwks=jwks((0, "k0")), cache_control=header)
    s = make_server()
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    left = listing(s)["expires_in"]
    assert lo <= left <= hi, (header, left)


def test_max_age_expiry_refetches(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")), max_age=1)
    s = make_server({"jwks_endpoint": {"min_cache_ttl": 0, "refresh_ahead": 0}})
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    s.verify_assertion(token(0, "k0"))
    assert endpoint.count() == 1
    time.sleep(1.3)
    s.verify_assertion(token(0, "k0"))
    assert endpoint.count() == 2


def test_refresh_ahead_does_not_block_the_request(make_server, endpoint):
    """Past refresh_ahead of its lifetime the set is refetched in the
    background: the request is answered from the cache even though the
    endpoint now takes 2 s (within a read_timeout of 3 s)."""
    url = endpoint.serve(jwks=jwks((0, "k0")), max_age=2)
    s = make_server({"jwks_endpoint": {"min_cache_ttl": 0, "refresh_ahead": 0.5,
                                       "read_timeout": 3000}})
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    endpoint.serve(jwks=jwks((0, "k0"), (1, "k1")), max_age=60, delay=2.0)
    time.sleep(1.2)                                  # past refreshAt (1 s), before expiry (2 s)
    t = time.monotonic()
    s.verify_assertion(token(0, "k0"))
    assert time.monotonic() - t < 1.0, "the request waited for the refresh"
    assert wait_until(lambda: sorted(listing(s)["key_ids"]) == ["k0", "k1"], timeout=5)
    assert endpoint.count() == 2
    assert listing(s)["expires_in"] > 30


# --------------------------------------------------------------------------
# URL policy at registration
# --------------------------------------------------------------------------

REFUSED_URLS = [
    "http://example.com/jwks",
    "http://idp.example.com:8080/.well-known/jwks.json",
    "http://10.0.0.1/jwks",
    "http://192.168.1.1/jwks",
    "http://[::2]/jwks",
    "http://128.0.0.1/jwks",
    "http://localhost.example.com/jwks",
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "ftp://127.0.0.1/jwks",
    "ftp://example.com/jwks",
    "gopher://127.0.0.1/jwks",
    "ldap://127.0.0.1/",
    "not a url",
    "example.com/jwks",
    "//example.com/jwks",
    "/jwks",
    "",
    "https://",
    "https://user:pass@example.com/jwks",
    "https://example.com/jw ks",
]

ACCEPTED_URLS = [
    "https://idp.example.com/.well-known/jwks.json",
    "https://10.0.0.1:8443/jwks",
    "HTTPS://IDP.EXAMPLE.COM/jwks",
    "http://127.0.0.1:1/jwks",
    "http://127.9.8.7/jwks",
    "http://localhost:1/jwks",
    "http://[::1]:1/jwks",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_url_refused_at_registration(make_server, url):
    s = make_server()
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        register(s, url)
    assert ei.value.name == "JWTGRANT_EINVAL", ei.value
    assert "jwks_uri" in ei.value.message
    assert s.list_issuers() == []


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_url_accepted_at_registration_nothing_fetched(make_server, url):
    s = make_server()
    calls = []
    s.set_jwks_fetcher(lambda *a: calls.append(a) or jwtgrant.PENDING)
    register(s, url)
    entry = listing(s)
    assert entry["jwks_uri"] == url and entry["key_source"] == "jwks_uri"
    assert entry["fetch_count"] == 0 and entry["last_fetch"] is None and entry["key_ids"] == []
    assert calls == [], "nothing is fetched at registration"


def test_jwks_uri_is_exclusive_with_other_key_sources(make_server):
    s = make_server()
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.register_issuer({"name": NAME, "issuer": ISS, "jwks_uri": "https://idp.example.com/jwks",
                           "jwks": jwks((0, "k0"))})
    assert ei.value.name == "JWTGRANT_EINVAL"


# --------------------------------------------------------------------------
# The token endpoint
# --------------------------------------------------------------------------

def _exchange_with(s, tok):
    s.register_client({"client_id": "app", "client_secret": "s3cret",
                       "grant_types": [GRANT]})
    auth = "Basic " + base64.b64encode(b"app:s3cret").decode()
    body = ("grant_type=" + urllib.parse.quote(GRANT, safe="")
            + "&assertion=" + urllib.parse.quote(tok, safe=""))
    return s.exchange_token(auth, body)


def _assert_invalid_grant(result, tok):
    rc, http, body = result
    assert http == 400, (http, body)
    assert jwtgrant.status_name(rc) == "JWTGRANT_EKEY_SOURCE"
    assert body["error"] == "invalid_grant", body
    text = json.dumps(body)
    for part in [tok] + tok.split("."):
        if len(part) >= 16:
            assert part not in text, "the response echoes the assertion"
    return body


def test_token_endpoint_invalid_grant_when_key_source_down(make_server, endpoint):
    url = endpoint.url("/jwks")
    endpoint.stop()
    s = make_server()
    register(s, url)
    tok = token(0, "k0")
    body = _assert_invalid_grant(_exchange_with(s, tok), tok)
    # the client gets a generic description (no URL, no issuer name); the
    # host gets the detailed reason from verification
    assert body["error_description"] == "the issuer's keys are unavailable"
    assert url not in json.dumps(body)
    with pytest.raises(jwtgrant.JWTGrantError) as e:
        s.verify_assertion(token(0, "k0"))
    assert "unreachable" in e.value.message


@pytest.mark.parametrize("route", [dict(status=500, body=b"oops"), dict(delay=30)])
def test_token_endpoint_invalid_grant_when_key_source_fails(make_server, endpoint, route):
    url = endpoint.serve(**route)
    s = make_server({"jwks_endpoint": SHORT})
    register(s, url)
    tok = token(0, "k0")
    _assert_invalid_grant(_exchange_with(s, tok), tok)


def test_token_endpoint_issues_a_token_with_jwks_uri_keys(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    rc, http, body = _exchange_with(s, token(0, "k0"))
    assert (rc, http) == (0, 200), body
    assert body["access_token"] and body["token_type"].lower() == "bearer"
    assert s.verify_access_token(body["access_token"])["iss"] == SERVER_ISSUER


# --------------------------------------------------------------------------
# Host-side fetching
# --------------------------------------------------------------------------

class Recorder:
    """A fetch function that records its calls and answers `answer(...)`."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []
        self.lock = threading.Lock()

    def __call__(self, issuer_name, url, timeout_ms, size_limit):
        with self.lock:
            self.calls.append((issuer_name, url, timeout_ms, size_limit))
        return self.answer(issuer_name, url, timeout_ms, size_limit)


def test_host_fetcher_answers_synchronously(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((9, "other")))        # libcurl would see other keys
    s = make_server()
    rec = Recorder(lambda *a: (200, json.dumps(jwks((0, "k0"))).encode(), 300))
    s.set_jwks_fetcher(rec)
    register(s, url)
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert endpoint.count() == 0, "libcurl must not be used while a host fetcher is set"
    assert rec.calls == [(NAME, url, 2000, 51200)]
    entry = listing(s)
    assert entry["key_ids"] == ["k0"] and entry["fetch_count"] == 1
    assert 290 <= entry["expires_in"] <= 300              # the max_age handed in


def test_host_fetcher_gets_configured_bounds(make_server):
    s = make_server({"jwks_endpoint": {"connection_timeout": 200, "read_timeout": 300,
                                       "size_limit_bytes": 4096}})
    rec = Recorder(lambda *a: (200, jwks((0, "k0")), -1))
    s.set_jwks_fetcher(rec)
    register(s, "https://idp.example.com/jwks")
    s.verify_assertion(token(0, "k0"))
    assert rec.calls == [(NAME, "https://idp.example.com/jwks", 500, 4096)]
    assert 590 <= listing(s)["expires_in"] <= 600          # -1: default lifetime


def test_host_fetcher_applies_to_issuers_registered_before(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((9, "other")))
    s = make_server()
    register(s, url)
    s.set_jwks_fetcher(Recorder(lambda *a: (200, jwks((0, "k0")), -1)))
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert endpoint.count() == 0


def test_host_fetcher_unset_returns_to_libcurl(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    rec = Recorder(lambda *a: "should not be called")
    s.set_jwks_fetcher(rec)
    s.set_jwks_fetcher(None)
    register(s, url)
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert endpoint.count() == 1 and rec.calls == []


def test_host_fetcher_pending_then_issuer_set_jwks(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((9, "other")))
    s = make_server()
    rec = Recorder(lambda *a: jwtgrant.PENDING)
    s.set_jwks_fetcher(rec)
    register(s, url)
    err = rejected(s, token(0, "k0"))                       # nothing cached yet
    assert "host" in err.message.lower()
    assert len(rec.calls) == 1
    rejected(s, token(0, "k0"))                             # not asked again within 5 s
    assert len(rec.calls) == 1
    assert listing(s)["last_error"]

    s.issuer_set_jwks(NAME, jwks((0, "k0")))               # the host's answer arrives
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    entry = listing(s)
    assert entry["key_ids"] == ["k0"] and entry["last_error"] is None
    assert endpoint.count() == 0
    assert len(rec.calls) == 1, "a document arrived: the function is not called again"


def test_host_fetcher_pending_answered_from_another_thread(make_server):
    s = make_server()
    answered = threading.Event()

    def fetch(issuer_name, url, timeout_ms, size_limit):
        def later():
            time.sleep(0.1)
            s.issuer_set_jwks(issuer_name, json.dumps(jwks((0, "k0"))), 120)
            answered.set()
        threading.Thread(target=later, daemon=True).start()
        return jwtgrant.PENDING

    s.set_jwks_fetcher(fetch)
    register(s, "https://idp.example.com/jwks")
    rejected(s, token(0, "k0"))
    assert answered.wait(5)
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert 110 <= listing(s)["expires_in"] <= 120


def test_host_fetcher_may_supply_from_inside_the_callback(make_server):
    """The header allows jwtgrant_issuer_set_jwks from the fetch function."""
    s = make_server()

    def fetch(issuer_name, url, timeout_ms, size_limit):
        s.issuer_set_jwks(issuer_name, jwks((0, "k0")))
        return jwtgrant.PENDING

    s.set_jwks_fetcher(fetch)
    register(s, "https://idp.example.com/jwks")
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME


@pytest.mark.parametrize("how", ["raise", "string"])
def test_host_fetcher_error_reason_in_last_error(make_server, how):
    s = make_server()
    reason = "dns lookup failed for idp-" + uuid.uuid4().hex[:8]

    def fetch(*a):
        if how == "raise":
            raise ConnectionError(reason)
        return reason

    s.set_jwks_fetcher(fetch)
    register(s, "https://idp.example.com/jwks")
    err = rejected(s, token(0, "k0"))
    assert reason in err.message
    assert reason in listing(s)["last_error"]


@pytest.mark.parametrize("answer, words", [
    ((503, b"", -1), ["503"]),
    ((302, b"", -1), ["redirect"]),
    ((200, b"<html/>", -1), ["not json"]),
    ((200, b'{"keys": 5}', -1), ["not a jwks"]),
    ((200, json.dumps(_big_jwks()).encode(), -1), ["oversized"]),
])
def test_host_fetcher_answer_judged_like_a_fetch(make_server, answer, words):
    s = make_server()
    s.set_jwks_fetcher(lambda *a: answer)
    register(s, "https://idp.example.com/jwks")
    err = rejected(s, token(0, "k0"))
    for w in words:
        assert w in err.message.lower(), err.message
        assert w in listing(s)["last_error"].lower()


def test_host_fetcher_single_flight_across_threads(make_server):
    s = make_server()

    def slow(*a):
        time.sleep(0.4)
        return (200, jwks((0, "k0")), -1)

    rec = Recorder(slow)
    s.set_jwks_fetcher(rec)
    register(s, "https://idp.example.com/jwks")
    results = []
    barrier = threading.Barrier(8)

    def work():
        barrier.wait()
        try:
            results.append(s.verify_assertion(token(0, "k0"))["_issuer_name"])
        except jwtgrant.JWTGrantError as e:
            results.append(e.name)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert results == [NAME] * 8, results
    assert len(rec.calls) == 1


def test_host_fetcher_callback_is_kept_alive(make_server):
    """The binding keeps the ctypes callback: dropping every reference of the
    test's own and collecting does not crash the next fetch."""
    s = make_server()
    s.set_jwks_fetcher(lambda *a: (200, jwks((0, "k0")), -1))
    gc.collect()
    register(s, "https://idp.example.com/jwks")
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME


def test_sink_used_twice_or_after_return_is_einval(make_server, lib):
    """Through the raw C functions: a second answer on a sink and any use of
    it after the fetch function returned are JWTGRANT_EINVAL, not a crash."""
    s = make_server()
    seen = {}
    body = json.dumps(jwks((0, "k0"))).encode()

    def cfn(user_data, issuer_name, url, timeout_ms, size_limit, sink):
        seen["first"] = lib.jwtgrant_jwks_fetch_result(sink, 200, body, len(body), -1)
        seen["second"] = lib.jwtgrant_jwks_fetch_result(sink, 200, body, len(body), -1)
        seen["error_after"] = lib.jwtgrant_jwks_fetch_error(sink, b"late")
        seen["sink"] = sink
        return 0

    cb = jwtgrant.JWKS_FETCH_FN(cfn)
    assert lib.jwtgrant_set_jwks_fetcher(s.handle, cb, None, None) == 0
    try:
        register(s, "https://idp.example.com/jwks")
        assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
        assert seen["first"] == 0
        assert seen["second"] == jwtgrant.EINVAL
        assert seen["error_after"] == jwtgrant.EINVAL
        assert lib.jwtgrant_jwks_fetch_result(seen["sink"], 200, body, len(body), -1) == jwtgrant.EINVAL
        assert lib.jwtgrant_jwks_fetch_error(seen["sink"], None) == jwtgrant.EINVAL
        assert lib.jwtgrant_jwks_fetch_result(None, 200, body, len(body), -1) == jwtgrant.EINVAL
        assert lib.jwtgrant_jwks_fetch_error(None, b"x") == jwtgrant.EINVAL
    finally:
        s.close()
        del cb


def test_fetch_function_returning_ok_without_answer_fails(make_server, lib):
    s = make_server()
    cb = jwtgrant.JWKS_FETCH_FN(lambda *a: 0)
    assert lib.jwtgrant_set_jwks_fetcher(s.handle, cb, None, None) == 0
    try:
        register(s, "https://idp.example.com/jwks")
        err = rejected(s, token(0, "k0"))
        assert "without delivering" in err.message
    finally:
        s.close()


def test_set_jwks_fetcher_null_ctx(lib):
    cb = jwtgrant.JWKS_FETCH_FN(lambda *a: 0)
    assert lib.jwtgrant_set_jwks_fetcher(None, cb, None, None) == jwtgrant.EINVAL
    assert lib.jwtgrant_set_jwks_fetcher(None, None, None, None) == jwtgrant.EINVAL


# --------------------------------------------------------------------------
# jwtgrant_issuer_set_jwks
# --------------------------------------------------------------------------

def test_issuer_set_jwks_replaces_inline_keys(make_server):
    s = make_server()
    s.register_issuer({"name": NAME, "issuer": ISS, "jwks": jwks((0, "k0"))})
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    s.issuer_set_jwks(NAME, jwks((1, "k1")))
    assert s.verify_assertion(token(1, "k1"))["_issuer_name"] == NAME
    rejected(s, token(0, "k0"), "JWTGRANT_EKEY_NOT_FOUND")
    # The old key under the new kid does not verify either.
    rejected(s, token(0, "k1"), "JWTGRANT_ESIGNATURE")
    entry = listing(s)
    assert entry["key_source"] == "jwks" and entry["key_ids"] == ["k1"]


def test_issuer_set_jwks_on_jwks_uri_issuer_before_first_use(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((9, "other")))
    s = make_server()
    register(s, url)
    s.issuer_set_jwks(NAME, jwks((0, "k0")), max_age=3600)
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert endpoint.count() == 0
    entry = listing(s)
    assert entry["key_ids"] == ["k0"] and 3590 <= entry["expires_in"] <= 3600


def test_issuer_set_jwks_on_certificate_issuer_is_einval(make_server):
    s = make_server()
    s.register_issuer(issuer_json(name=NAME))
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.issuer_set_jwks(NAME, jwks((0, "k0")))
    assert ei.value.name == "JWTGRANT_EINVAL"
    assert listing(s)["key_source"] == "certificate"


def test_issuer_set_jwks_unknown_issuer_is_enotfound(make_server):
    s = make_server()
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.issuer_set_jwks("nobody", jwks((0, "k0")))
    assert ei.value.name == "JWTGRANT_ENOTFOUND"


BAD_DOCUMENTS = ["not json", '{"issuer": "x"}', '{"keys": 5}', '{"keys": [1]}', "[]"]
@pytest.mark.parametrize("source, doc", [
    (src, d) for src in ["jwks", "jwks_uri"] for d in BAD_DOCUMENTS])
def test_issuer_set_jwks_not_a_jwks_is_einval_and_leaves_keys(make_server, source, doc):
    s = make_server()
    if source == "jwks":
        s.register_issuer({"name": NAME, "issuer": ISS, "jwks": jwks((0, "k0"))})
    else:
        s.register_issuer({"name": NAME, "issuer": ISS, "jwks_uri": "https://idp.example.com/jwks"})
        s.issuer_set_jwks(NAME, jwks((0, "k0")))
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.issuer_set_jwks(NAME, doc)
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME, "keys left as they were"
    assert listing(s)["key_ids"] == ["k0"]
    assert ei.value.name == "JWTGRANT_EINVAL", ei.value


def test_issuer_set_jwks_unusable_key_is_ekey(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    small = public_jwk("rsa1024", 0, kid="weak")
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.issuer_set_jwks(NAME, {"keys": [small]})
    assert ei.value.name == "JWTGRANT_EKEY", ei.value
    assert listing(s)["key_ids"] == ["k0"]
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME


def test_issuer_set_jwks_null_arguments(lib, make_server):
    s = make_server()
    raw = jwtgrant.Raw(lib)
    err = jwtgrant.OutStr()
    assert raw.call("jwtgrant_issuer_set_jwks", None, NAME, '{"keys":[]}', -1, err) == jwtgrant.EINVAL
    assert err.value
    assert raw.call("jwtgrant_issuer_set_jwks", s, None, '{"keys":[]}', -1, None) == jwtgrant.EINVAL
    assert raw.call("jwtgrant_issuer_set_jwks", s, NAME, None, -1, None) == jwtgrant.EINVAL


def test_removed_jwks_uri_issuer_is_untrusted(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    s.remove_issuer(NAME)
    rejected(s, token(0, "k0"), "JWTGRANT_EUNTRUSTED_ISSUER")
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.issuer_set_jwks(NAME, jwks((0, "k0")))
    assert ei.value.name == "JWTGRANT_ENOTFOUND"


# --------------------------------------------------------------------------
# More of the key source's promises
# --------------------------------------------------------------------------

def test_localhost_url_is_fetched(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url.replace("127.0.0.1", "localhost"))
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert endpoint.count() == 1


def test_proxy_from_environment_not_used_for_loopback(make_server, endpoint, monkeypatch):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:1")       # a dead proxy
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    s = make_server()
    register(s, url)
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert endpoint.count() == 1


def test_token_without_kid_tries_the_keys(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((1, "k1"), (0, "k0")))
    s = make_server()
    register(s, url)
    assert s.verify_assertion(token(0, None))["_issuer_name"] == NAME
    rejected(s, token(2, None), "JWTGRANT_ESIGNATURE")
    assert endpoint.count() == 1


def test_one_cache_per_issuer(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url, name="a", iss="https://a.example.com")
    register(s, url, name="b", iss="https://b.example.com")
    assert s.verify_assertion(token(0, "k0", iss="https://a.example.com"))["_issuer_name"] == "a"
    assert endpoint.count() == 1
    assert listing(s, "b")["fetch_count"] == 0
    assert s.verify_assertion(token(0, "k0", iss="https://b.example.com"))["_issuer_name"] == "b"
    assert endpoint.count() == 2


def test_stalled_issuer_does_not_block_another(make_server, endpoint):
    """While one issuer's fetch stalls on the request path, another issuer
    with a cached set is answered at once."""
    good = endpoint.serve("/good", jwks=jwks((0, "k0")))
    slow = endpoint.serve("/slow", jwks=jwks((1, "k1")), delay=30)
    s = make_server()
    register(s, good, name="good", iss="https://good.example.com")
    register(s, slow, name="slow", iss="https://slow.example.com")
    good_tok = token(0, "k0", iss="https://good.example.com")
    s.verify_assertion(good_tok)
    out = {}

    def stalled():
        try:
            s.verify_assertion(token(1, "k1", iss="https://slow.example.com"))
            out["slow"] = "OK"
        except jwtgrant.JWTGrantError as e:
            out["slow"] = e.name

    th = threading.Thread(target=stalled)
    th.start()
    assert wait_until(lambda: endpoint.count("/slow") == 1, timeout=2)
    t = time.monotonic()
    for _ in range(5):
        assert s.verify_assertion(good_tok)["_issuer_name"] == "good"
    assert time.monotonic() - t < 0.5
    th.join(10)
    assert out["slow"] == "JWTGRANT_EKEY_SOURCE"


def test_stale_if_error_is_bounded(make_server, endpoint):
    """With stale_if_error 0, an expired set is not served once the endpoint
    is down: the key source is unavailable."""
    url = endpoint.serve(jwks=jwks((0, "k0")), max_age=1)
    s = make_server({"jwks_endpoint": {"min_cache_ttl": 0, "stale_if_error": 0,
                                       "refresh_ahead": 0}})
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    endpoint.stop()
    time.sleep(1.2)                                # the set has expired
    err = rejected(s, token(0, "k0"))
    assert "unreachable" in err.message
    assert listing(s)["stale"] is True


def test_zero_lifetime_set_serves_the_request_that_fetched_it(make_server, endpoint):
    """Regression (was a library bug). An endpoint answering
    Cache-Control: no-store (or max-age=0) with min_cache_ttl 0 and
    stale_if_error 0: the fetch succeeds, yet the request that made it fails
    with JWTGRANT_EKEY_SOURCE "no key set available" (and last_error stays
    null), so no token of that issuer can ever verify. RemoteKeySet.keys():
    after the fetch (waited = true) the set is only used when
    now < staleUntil, which is already false for a zero lifetime."""
    url = endpoint.serve(jwks=jwks((0, "k0")), cache_control="no-store")
    s = make_server({"jwks_endpoint": {"min_cache_ttl": 0, "stale_if_error": 0}})
    register(s, url)
    try:
        s.verify_assertion(token(0, "k0"))
    finally:
        assert endpoint.count() >= 1 and listing(s)["last_error"] is None


def test_close_waits_for_a_host_fetch_on_a_library_thread(make_server):
    """jwtgrant_ctx_free waits (up to timeout_ms + 1 s) for a fetch running on
    a library thread: a fetch function that returns within timeout_ms is not
    running after close() returns."""
    s = make_server({"jwks_endpoint": {"min_cache_ttl": 0, "refresh_ahead": 1}})
    state = {"calls": 0, "running": False}
    started = threading.Event()

    def fetch(*a):
        state["calls"] += 1
        if state["calls"] == 1:
            return (200, jwks((0, "k0")), 60)
        state["running"] = True
        started.set()
        time.sleep(0.5)
        state["running"] = False
        return (200, jwks((0, "k0")), 60)

    s.set_jwks_fetcher(fetch)
    register(s, "https://idp.example.com/jwks")
    s.verify_assertion(token(0, "k0"))        # first fetch, on this thread
    s.verify_assertion(token(0, "k0"))        # refresh_ahead 1: background refresh starts
    assert started.wait(3), "no background refresh"
    t = time.monotonic()
    s.close()
    assert state["running"] is False, "the fetch function still runs after ctx_free"
    assert time.monotonic() - t < 3.5


def test_close_with_a_stalled_background_refresh_is_bounded(make_server, endpoint):
    url = endpoint.serve(jwks=jwks((0, "k0")), max_age=2)
    s = make_server({"jwks_endpoint": dict(SHORT, min_cache_ttl=0, refresh_ahead=0.9)})
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    endpoint.serve(jwks=jwks((0, "k0")), delay=30)
    time.sleep(0.3)                                # past refreshAt (0.2 s)
    s.verify_assertion(token(0, "k0"))            # cached; background refresh stalls
    assert wait_until(lambda: endpoint.count() == 2, timeout=2)
    t = time.monotonic()
    s.close()
    assert time.monotonic() - t < 0.4 + 1 + 1.0    # timeout_ms + 1 s, plus slack


def test_request_is_a_plain_get_without_content_encoding(make_server, endpoint):
    """The size limit applies to what is parsed: no compressed encoding is
    asked for; the request asks for a JWKS."""
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    assert len(endpoint.requests) == 1
    method, path, headers = endpoint.requests[0]
    assert (method, path) == ("GET", "/jwks")
    assert "accept-encoding" not in headers, headers
    assert "json" in headers.get("accept", ""), headers
    assert "authorization" not in headers and "cookie" not in headers


def test_host_fetcher_pending_single_call_for_many_threads(make_server):
    s = make_server()
    rec = Recorder(lambda *a: jwtgrant.PENDING)
    s.set_jwks_fetcher(rec)
    register(s, "https://idp.example.com/jwks")
    names = []
    barrier = threading.Barrier(8)

    def work():
        barrier.wait()
        try:
            s.verify_assertion(token(0, "k0"))
            names.append("OK")
        except jwtgrant.JWTGrantError as e:
            names.append(e.name)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert names == ["JWTGRANT_EKEY_SOURCE"] * 8, names
    assert len(rec.calls) == 1, rec.calls
    s.issuer_set_jwks(NAME, jwks((0, "k0")))
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME


@pytest.mark.parametrize("max_age, lo, hi", [
    (-1, 590, 600), (0, 50, 60), (30, 50, 60), (7200, 7190, 7200), (2**31 - 1, 86390, 86400),
    (10**12, 86390, 86400),                  # the binding clamps to int32, never wraps
])
def test_max_age_handed_in_is_clamped(make_server, max_age, lo, hi):
    """Through jwtgrant_jwks_fetch_result and jwtgrant_issuer_set_jwks alike."""
    s = make_server()
    s.set_jwks_fetcher(lambda *a: (200, jwks((0, "k0")), max_age))
    register(s, "https://idp.example.com/jwks", name="fetched")
    register(s, "https://idp.example.com/jwks", name="supplied", iss="https://other.example.com")
    s.verify_assertion(token(0, "k0"))
    s.issuer_set_jwks("supplied", jwks((0, "k0")), max_age=max_age)
    for name in ("fetched", "supplied"):
        left = listing(s, name)["expires_in"]
        assert lo <= left <= hi, (name, max_age, left)


def test_remove_issuer_during_a_stalled_fetch(make_server, endpoint):
    """Removing an issuer whose fetch stalls returns at once; the stalled
    verification ends with a failure, and the issuer is gone."""
    url = endpoint.serve(jwks=jwks((0, "k0")), delay=30)
    s = make_server({"jwks_endpoint": {"connection_timeout": 500, "read_timeout": 500}})
    register(s, url)
    out = {}

    def stalled():
        try:
            s.verify_assertion(token(0, "k0"))
            out["r"] = "OK"
        except jwtgrant.JWTGrantError as e:
            out["r"] = e.name

    th = threading.Thread(target=stalled)
    th.start()
    assert wait_until(lambda: endpoint.count() == 1, timeout=2)
    t = time.monotonic()
    s.remove_issuer(NAME)
    assert time.monotonic() - t < 0.5
    th.join(10)
    assert out["r"] in ("JWTGRANT_EKEY_SOURCE", "JWTGRANT_EUNTRUSTED_ISSUER"), out
    assert s.list_issuers() == []
    rejected(s, token(0, "k0"), "JWTGRANT_EUNTRUSTED_ISSUER")


def test_host_rotation_while_pending_keeps_serving_cached_keys(make_server):
    """An nginx-style host: an unknown kid makes the library ask the host,
    which answers PENDING; meanwhile the cached keys keep verifying and the
    unknown kid fails; once the host hands the new set in, it verifies."""
    s = make_server({"jwks_endpoint": {"unknown_kid_cooldown": 0}})
    rec = Recorder(lambda *a: jwtgrant.PENDING)
    s.set_jwks_fetcher(rec)
    register(s, "https://idp.example.com/jwks")
    s.issuer_set_jwks(NAME, jwks((0, "k0")))
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert rec.calls == []
    rejected(s, token(1, "k1"), "JWTGRANT_EKEY_NOT_FOUND")
    assert len(rec.calls) == 1 and rec.calls[0][0] == NAME
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    s.issuer_set_jwks(NAME, jwks((0, "k0"), (1, "k1")))
    assert s.verify_assertion(token(1, "k1"))["_issuer_name"] == NAME
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert sorted(listing(s)["key_ids"]) == ["k0", "k1"]
    assert listing(s)["last_error"] is None


# --------------------------------------------------------------------------
# Connection timeout and TLS
# --------------------------------------------------------------------------

@pytest.fixture
def black_hole():
    """A loopback port whose listen backlog is full: a connect to it stalls
    (the SYN is dropped), which exercises connection_timeout."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fill = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fill.append(c)
    time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/jwks"
    for c in fill:
        c.close()
    lsock.close()


@pytest.mark.parametrize("config, bound", [
    ({}, DEFAULT_TIMEOUT_BOUND),
    ({"connection_timeout": 200, "read_timeout": 5000}, SHORT_TIMEOUT_BOUND),
])
def test_connect_stall_fails_within_connection_timeout(make_server, black_hole, config, bound):
    s = make_server({"jwks_endpoint": config})
    register(s, black_hole)
    err, took = timed_rejection(s, token(0, "k0"))
    assert took < bound, took
    assert "timeout" in err.message.lower(), err.message


def _tls_files(tmp_path, san_ip="127.0.0.1", san_dns="localhost"):
    """A self-signed certificate (its own CA) for the given names."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    k = private_key("p256", 7)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwks test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    sans = [x509.DNSName(san_dns)]
    if san_ip:
        sans.append(x509.IPAddress(ipaddress.ip_address(san_ip)))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(k.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(k, hashes.SHA256()))
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(k.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    return str(certfile), str(keyfile)


@pytest.fixture
def tls_endpoint(tmp_path):
    files = _tls_files(tmp_path)
    ep = JWKSEndpoint(tls=files)
    ep.certfile = files[0]
    yield ep
    ep.stop()


def test_https_untrusted_certificate_is_refused(make_server, tls_endpoint):
    url = tls_endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    err = rejected(s, token(0, "k0"))
    assert "tls" in err.message.lower(), err.message
    assert tls_endpoint.count() == 0, "no request is sent over an unverified connection"


def test_https_with_private_ca_file(make_server, tls_endpoint):
    url = tls_endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server({"jwks_endpoint": {"ca_file": tls_endpoint.certfile}})
    register(s, url)
    assert s.verify_assertion(token(0, "k0"))["_issuer_name"] == NAME
    assert tls_endpoint.count() == 1


def test_https_host_name_is_verified(make_server, tmp_path):
    """Trusted CA, but the certificate names another host: refused."""
    files = _tls_files(tmp_path, san_ip=None, san_dns="other.example.com")
    ep = JWKSEndpoint(tls=files)
    try:
        url = ep.serve(jwks=jwks((0, "k0")))
        s = make_server({"jwks_endpoint": {"ca_file": files[0]}})
        register(s, url)
        err = rejected(s, token(0, "k0"))
        assert "tls" in err.message.lower(), err.message
        assert ep.count() == 0
    finally:
        ep.stop()


def _eight_threads(fn):
    results = [None] * 8
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except jwtgrant.JWTGrantError as e:
            results[i] = e.name

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    return results


def test_eight_threads_with_a_new_kid_share_one_refetch(make_server, endpoint):
    """Regression (was a library bug). Issue 4: "When it must wait
    (cold cache, unknown kid), concurrent requests for the same issuer share
    one fetch (single flight)." After a rotation, 8 threads present the new
    kid at once: one triggers the refetch, and the 7 others, instead of
    waiting for it, fail at once with JWTGRANT_EKEY_NOT_FOUND, because
    RemoteKeySet.keys() checks the unknown-kid cooldown (just started by the
    first thread) before looking for a fetch in flight to join. So the first
    requests after every key rotation fail under load."""
    url = endpoint.serve(jwks=jwks((0, "k0")))
    s = make_server()
    register(s, url)
    s.verify_assertion(token(0, "k0"))
    endpoint.serve(jwks=jwks((0, "k0"), (1, "k1")), delay=0.4)   # rotated, slow to answer
    toks = [token(1, "k1") for _ in range(8)]
    results = _eight_threads(lambda i: s.verify_assertion(toks[i])["_issuer_name"])
    assert endpoint.count() == 2, endpoint.count()               # one refetch, shared
    assert results == [NAME] * 8, results


def test_fetch_function_may_use_the_server_except_verifying(make_server):
    """From inside the fetch function: list_issuers and set_jwks_fetcher do
    not deadlock (the library holds no lock of its own across the call)."""
    s = make_server()
    seen = {}

    def fetch(name, url, timeout_ms, size_limit):
        seen["listing"] = listing(s, name)["fetch_count"]
        s.set_jwks_fetcher(None)                 # back to libcurl for later fetches
        return (200, jwks((0, "k0")), -1)

    s.set_jwks_fetcher(fetch)
    register(s, "https://idp.example.com/jwks")
    out = {}

    def run():
        try:
            out["r"] = s.verify_assertion(token(0, "k0"))["_issuer_name"]
        except jwtgrant.JWTGrantError as e:
            out["r"] = e.name

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(10)
    assert not th.is_alive(), "deadlock: the fetch function called back into the library"
    assert out["r"] == NAME and seen["listing"] == 0
