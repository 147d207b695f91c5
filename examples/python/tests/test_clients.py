"""Client management and the token endpoint's security defaults, through the
C ABI: jwtgrant_remove_client, jwtgrant_list_clients,
jwtgrant_rotate_client_secret (grace period by the context's clock), public
clients (token_endpoint_auth_method "none"), no scope without registered
scopes, generic error descriptions, and the body limit that follows
max_assertion_size."""

import base64
import ctypes
import json
import urllib.parse

import pytest

import jwtgrant
from helpers import T0, claims, issuer_json, mint, private_key

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
RSA = private_key("rsa2048")


def basic(cid, secret):
    return "Basic " + base64.b64encode(f"{urllib.parse.quote_plus(cid)}:{urllib.parse.quote_plus(secret)}".encode()).decode()


def body(extra="", **over):
    token = mint("pyjwt", "RS256", RSA, claims(**over))
    return f"grant_type={urllib.parse.quote(GRANT, safe='')}&assertion={token}" + extra


@pytest.fixture
def server(make_server):
    s = make_server()
    s.register_issuer(issuer_json(name="partner-idp-name"))
    return s


def status_of(result):
    return jwtgrant.status_name(result.status) if result.status else "JWTGRANT_OK"


# -- least privilege: no registered scopes, no scope ---------------------------

def test_client_without_scopes_may_request_no_scope(server):
    server.register_client({"client_id": "app", "client_secret": "s3cret", "grant_types": [GRANT]})
    refused = server.exchange_token(basic("app", "s3cret"), body("&scope=admin"))
    assert refused.http_status == 400 and refused.body["error"] == "invalid_scope"
    ok = server.exchange_token(basic("app", "s3cret"), body())
    assert ok.http_status == 200, ok.body
    assert "scope" not in ok.body
    assert "scope" not in server.verify_access_token(ok.body["access_token"])

    server.register_client({"client_id": "empty", "client_secret": "s3cret", "grant_types": [GRANT], "scopes": []})
    assert server.exchange_token(basic("empty", "s3cret"), body("&scope=read")).body["error"] == "invalid_scope"

    server.register_client({"client_id": "reader", "client_secret": "s3cret", "grant_types": [GRANT],
                            "scopes": ["read"]})
    granted = server.exchange_token(basic("reader", "s3cret"), body("&scope=read"))
    assert granted.http_status == 200 and granted.body["scope"] == "read"
    assert server.exchange_token(basic("reader", "s3cret"), body("&scope=read+write")).body["error"] == "invalid_scope"


# -- token_endpoint_auth_method --------------------------------------------------

def test_secretless_client_must_be_declared_public(server):
    for doc, field in [({"client_id": "a", "grant_types": [GRANT]}, "client_secret"),
                       ({"client_id": "a", "token_endpoint_auth_method": "client_secret_post"}, "client_secret"),
                       ({"client_id": "a", "client_secret": "s", "token_endpoint_auth_method": "none"}, "client_secret"),
                       ({"client_id": "a", "client_secret": "s", "token_endpoint_auth_method": "private_key_jwt"},
                        "token_endpoint_auth_method")]:
        with pytest.raises(jwtgrant.JWTGrantError) as e:
            server.register_client(doc)
        assert e.value.name == "JWTGRANT_EINVAL" and field in e.value.message, e.value.message
    assert server.list_clients() == []


def test_public_client_sends_client_id_only(server):
    server.register_client({"client_id": "spa", "token_endpoint_auth_method": "none", "grant_types": [GRANT]})
    ok = server.exchange_token(None, body("&client_id=spa"))
    assert ok.http_status == 200, ok.body
    assert server.verify_access_token(ok.body["access_token"])["client_id"] == "spa"
    for auth, extra in [(None, "&client_id=spa&client_secret=guess"), (basic("spa", "guess"), ""),
                        (basic("spa", ""), "")]:
        r = server.exchange_token(auth, body(extra))
        assert r.http_status == 401 and r.body["error"] == "invalid_client", r.body
        assert status_of(r) == "JWTGRANT_EINVALID_CLIENT"


def test_confidential_client_sending_no_secret_is_invalid_client(server):
    server.register_client({"client_id": "app", "client_secret": "s3cret", "grant_types": [GRANT]})
    r = server.exchange_token(None, body("&client_id=app"))
    assert r.http_status == 401 and r.body["error"] == "invalid_client"


@pytest.mark.parametrize("method,basic_ok,post_ok", [("client_secret_basic", True, False),
                                                     ("client_secret_post", False, True),
                                                     (None, True, True)])
def test_registered_method_is_enforced(server, method, basic_ok, post_ok):
    doc = {"client_id": "app", "client_secret": "s3cret", "grant_types": [GRANT]}
    if method:
        doc["token_endpoint_auth_method"] = method
    server.register_client(doc)
    b = server.exchange_token(basic("app", "s3cret"), body())
    p = server.exchange_token(None, body("&client_id=app&client_secret=s3cret"))
    assert (b.http_status == 200) == basic_ok, b.body
    assert (p.http_status == 200) == post_ok, p.body
    for r in (b, p):
        assert r.http_status in (200, 401)


# -- generic error descriptions ---------------------------------------------------

def test_error_descriptions_name_no_issuer(server):
    server.register_client({"client_id": "app", "client_secret": "s3cret", "grant_types": [GRANT]})
    seen = {}
    for over in [dict(exp=T0 - 100), dict(aud="https://elsewhere.example"), dict(iss="https://unknown.example"),
                 dict(iat=T0 + 3600, nbf=T0 + 3600), dict(sub=None)]:
        r = server.exchange_token(basic("app", "s3cret"), body(**over))
        assert r.http_status == 400 and r.body["error"] == "invalid_grant", r.body
        d = r.body["error_description"]
        for word in ("partner", "idp-name", "elsewhere", "unknown.example", "third-party", '"'):
            assert word not in d, d
        seen.setdefault(status_of(r), set()).add(d)
    # one generic text per status, and the status still tells the rules apart
    assert all(len(v) == 1 for v in seen.values()) and len(seen) >= 4, seen
    # the detail is still available to the host through verification
    with pytest.raises(jwtgrant.JWTGrantError) as e:
        server.verify_assertion(mint("pyjwt", "RS256", RSA, claims(exp=T0 - 100)))
    assert e.value.name == "JWTGRANT_EEXPIRED"


# -- remove, list, rotate --------------------------------------------------------

def test_remove_and_list_clients(server):
    server.register_client({"client_id": "zeta", "client_secret": "top-Secret-1", "grant_types": [GRANT],
                            "scopes": ["read"]})
    server.register_client({"client_id": "alpha", "client_secret": "top-Secret-2",
                            "token_endpoint_auth_method": "client_secret_basic"})
    server.register_client({"client_id": "spa", "token_endpoint_auth_method": "none"})
    listed = server.list_clients()
    assert [c["client_id"] for c in listed] == ["alpha", "spa", "zeta"]
    assert "top-Secret" not in json.dumps(listed)
    assert listed[0] == {"client_id": "alpha", "token_endpoint_auth_method": "client_secret_basic",
                         "auth_methods": ["client_secret_basic"], "grant_types": [], "scopes": [], "secrets": 1}
    assert listed[1]["auth_methods"] == ["none"] and listed[1]["secrets"] == 0
    assert listed[2] == {"client_id": "zeta", "auth_methods": ["client_secret_basic", "client_secret_post"],
                         "grant_types": [GRANT], "scopes": ["read"], "secrets": 1}

    assert server.exchange_token(basic("zeta", "top-Secret-1"), body()).http_status == 200
    server.remove_client("zeta")
    r = server.exchange_token(basic("zeta", "top-Secret-1"), body())
    assert r.http_status == 401 and r.body["error"] == "invalid_client"
    assert [c["client_id"] for c in server.list_clients()] == ["alpha", "spa"]
    with pytest.raises(jwtgrant.JWTGrantError) as e:
        server.remove_client("zeta")
    assert e.value.name == "JWTGRANT_ENOTFOUND"
    with pytest.raises(jwtgrant.JWTGrantError) as e:
        server.remove_client("ALPHA")
    assert e.value.name == "JWTGRANT_ENOTFOUND"


def test_rotation_without_grace_replaces_at_once(server):
    server.register_client({"client_id": "app", "client_secret": "old-Secret", "grant_types": [GRANT]})
    server.rotate_client_secret("app", "new-Secret")
    assert server.exchange_token(basic("app", "old-Secret"), body()).http_status == 401
    assert server.exchange_token(basic("app", "new-Secret"), body()).http_status == 200
    assert server.list_clients()[0]["secrets"] == 1


def test_rotation_with_grace_period(server):
    server.register_client({"client_id": "app", "client_secret": "old-Secret", "grant_types": [GRANT]})
    server.rotate_client_secret("app", "new-Secret", grace_seconds=300)
    listed = server.list_clients()[0]
    assert listed["secrets"] == 2 and listed["grace_until"] == T0 + 300
    assert "Secret" not in json.dumps(listed)
    assert server.exchange_token(basic("app", "old-Secret"), body()).http_status == 200
    assert server.exchange_token(basic("app", "new-Secret"), body()).http_status == 200
    server.set_time(T0 + 299)
    assert server.exchange_token(basic("app", "old-Secret"), body(iat=T0 + 290, exp=T0 + 600)).http_status == 200
    server.set_time(T0 + 300)
    late = dict(iat=T0 + 290, exp=T0 + 600)
    assert server.exchange_token(basic("app", "old-Secret"), body(**late)).http_status == 401
    assert server.exchange_token(basic("app", "new-Secret"), body(**late)).http_status == 200
    assert "grace_until" not in server.list_clients()[0]


@pytest.mark.parametrize("cid,secret,grace,name", [("ghost", "n", 0, "JWTGRANT_ENOTFOUND"),
                                                   ("spa", "n", 0, "JWTGRANT_EINVAL"),
                                                   ("app", "", 0, "JWTGRANT_EINVAL"),
                                                   ("app", "n", -1, "JWTGRANT_EINVAL"),
                                                   ("app", "n", 31536001, "JWTGRANT_EINVAL"),
                                                   ("app", "n", 2**63 - 1, "JWTGRANT_EINVAL")])
def test_rotation_refusals(server, cid, secret, grace, name):
    server.register_client({"client_id": "app", "client_secret": "old-Secret", "grant_types": [GRANT]})
    server.register_client({"client_id": "spa", "token_endpoint_auth_method": "none", "grant_types": [GRANT]})
    with pytest.raises(jwtgrant.JWTGrantError) as e:
        server.rotate_client_secret(cid, secret, grace)
    assert e.value.name == name
    assert server.exchange_token(basic("app", "old-Secret"), body()).http_status == 200


def test_management_null_arguments(lib, make_server):
    s = make_server()
    ctx = ctypes.c_void_p(s.handle)
    err = ctypes.c_void_p()
    assert lib.jwtgrant_remove_client(None, b"x", ctypes.byref(err)) == -1
    assert lib.take_string(err) == "ctx is NULL"
    assert lib.jwtgrant_remove_client(ctx, None, None) == -1
    assert lib.jwtgrant_rotate_client_secret(ctx, None, b"s", 0, None) == -1
    assert lib.jwtgrant_rotate_client_secret(ctx, b"x", None, 0, None) == -1
    assert lib.jwtgrant_rotate_client_secret(ctx, b"x\xff", b"s", 0, None) == -1
    assert lib.jwtgrant_list_clients(ctx, None, None) == -1
    assert lib.jwtgrant_list_clients(None, None, None) == -1


# -- the body limit follows max_assertion_size -----------------------------------

def test_80kb_assertion_allowed_by_configuration(make_server):
    s = make_server({"max_assertion_size": 131072})
    s.register_issuer(issuer_json())
    s.register_client({"client_id": "app", "client_secret": "s3cret", "grant_types": [GRANT]})
    token = mint("pyjwt", "RS256", RSA, claims(pad="x" * (80 * 1024)))
    assert 80 * 1024 < len(token) <= 131072
    assert s.verify_assertion(token)["sub"]
    form = f"grant_type={urllib.parse.quote(GRANT, safe='')}&assertion={token}"
    assert len(form) > 65536
    ok = s.exchange_token(basic("app", "s3cret"), form)
    assert ok.http_status == 200, ok.body
    assert s.token_body_limit() == 131072 + 32768
    over = s.exchange_token(basic("app", "s3cret"), form + "&pad=" + "y" * (s.token_body_limit() - len(form)))
    assert over.http_status == 400 and over.body["error"] == "invalid_request"

    # the default configuration: max_assertion_size 32768, body limit 65536
    d = make_server()
    assert d.token_body_limit() == 65536
    d.register_issuer(issuer_json())
    d.register_client({"client_id": "app", "client_secret": "s3cret", "grant_types": [GRANT]})
    r = d.exchange_token(basic("app", "s3cret"), form)
    assert r.http_status == 400 and r.body["error"] == "invalid_request"
