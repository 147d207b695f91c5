"""The token endpoint: jwtgrant_exchange_token, jwtgrant_jwks and
jwtgrant_verify_access_token, driven exactly as the documented curl request does.

    curl -X POST .../oauth2/token \\
      --header "Authorization: Basic <Base64Encoded(CLIENT_ID:CLIENT_SECRET)>" \\
      --header "Content-Type:application/x-www-form-urlencoded" \\
      --data-urlencode "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer" \\
      --data-urlencode "assertion=<jwt_token>"
"""

import base64
import json
import threading
import urllib.parse

import jwt as pyjwt
import pytest

import jwtgrant
from helpers import (SERVER_ISSUER, assert_no_token_text, SUB, T0, claims, craft, issuer_json, mint, private_key,
                     b64u)

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ID, CLIENT_SECRET = "my-app", "s3cret-Value"
RSA = private_key("rsa2048")


def curl_urlencode(value: str) -> str:
    """What curl --data-urlencode does to the content after '=': every byte
    but the RFC 3986 unreserved characters is percent-encoded."""
    return urllib.parse.quote(value, safe="")


def curl_body(*pairs) -> str:
    return "&".join(f"{k}={curl_urlencode(v)}" for k, v in pairs)


def basic(client_id=CLIENT_ID, secret=CLIENT_SECRET, form_encode=True) -> str:
    """Authorization header of RFC 6749 2.3.1: id and secret form-urlencoded, then base64."""
    if form_encode:
        client_id, secret = urllib.parse.quote_plus(client_id), urllib.parse.quote_plus(secret)
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def assertion(**over):
    return mint("pyjwt", "RS256", RSA, claims(**over))


@pytest.fixture
def endpoint(make_server):
    s = make_server()
    s.register_issuer(issuer_json())
    s.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                       "grant_types": [GRANT], "scopes": ["read", "write"]})
    return s


def exchange(server, auth=None, body=None, **over):
    if body is None:
        body = curl_body(("grant_type", GRANT), ("assertion", assertion(**over)))
    return server.exchange_token(auth, body)


def assert_error(result, error, http_status, status_name=None, secret=None):
    rc, http, body = result
    assert http == http_status, f"HTTP {http} {body}"
    assert rc != 0
    if status_name:
        assert jwtgrant.status_name(rc) == status_name
    assert jwtgrant.oauth_error(rc) == error
    assert body["error"] == error, body
    assert isinstance(body.get("error_description", ""), str)
    assert "access_token" not in body
    if secret:
        text = json.dumps(body)
        for part in [secret] + secret.split("."):
            if len(part) >= 16:
                assert part not in text, "the response echoes the assertion"
        assert_no_token_text(body.get("error_description"), secret)


# --- the documented flow --------------------------------------------------------------

def _verify_with_pyjwt(server, token):
    jwks = server.jwks()
    header = pyjwt.get_unverified_header(token)
    assert header["typ"].lower() in ("at+jwt", "application/at+jwt")
    assert header.get("kid"), "RFC 9068 tokens name their key"
    keys = {k["kid"]: k for k in jwks["keys"]}
    assert header["kid"] in keys
    jwk = pyjwt.PyJWK(keys[header["kid"]], algorithm=header["alg"])
    # The clock of the server is pinned to T0, so exp is judged by hand.
    return pyjwt.decode(token, jwk, algorithms=[header["alg"]],
                        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                 "verify_aud": False})


def test_curl_flow(endpoint):
    a = assertion()
    rc, http, body = endpoint.exchange_token(
        basic(), curl_body(("grant_type", GRANT), ("assertion", a)))
    assert (rc, http) == (0, 200), body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2
    assert "error" not in body

    c = _verify_with_pyjwt(endpoint, body["access_token"])
    assert c["iss"] == SERVER_ISSUER
    assert c["sub"] == SUB
    assert c["client_id"] == CLIENT_ID
    assert "aud" in c
    assert c["iat"] == T0
    assert c["exp"] == T0 + 3600
    assert c["jti"]

    # The resource-server side of the library agrees.
    mine = endpoint.verify_access_token(body["access_token"])
    assert mine["sub"] == SUB and mine["client_id"] == CLIENT_ID and mine["jti"] == c["jti"]


def test_body_exactly_as_curl_sends_it(endpoint):
    a = assertion()
    body = ("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + a)
    assert curl_body(("grant_type", GRANT), ("assertion", a)) == body
    rc, http, resp = endpoint.exchange_token(basic(), body)
    assert (rc, http) == (0, 200), resp


def test_unencoded_grant_type_of_the_api_page_is_accepted(endpoint):
    rc, http, resp = endpoint.exchange_token(basic(), f"grant_type={GRANT}&assertion={assertion()}")
    assert (rc, http) == (0, 200), resp


def test_jwks_has_no_private_members(endpoint):
    jwks = endpoint.jwks()
    assert jwks["keys"]
    for k in jwks["keys"]:
        assert k["kid"]
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(k), k


def test_each_access_token_is_fresh(endpoint):
    t1 = exchange(endpoint, basic())[2]["access_token"]
    t2 = exchange(endpoint, basic())[2]["access_token"]
    assert t1 != t2
    assert endpoint.verify_access_token(t1)["jti"] != endpoint.verify_access_token(t2)["jti"]


def test_access_token_lifetime_config(make_server):
    s = make_server({"access_token": {"lifetime": 600}})
    s.register_issuer(issuer_json())
    s.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    rc, http, body = exchange(s, basic())
    assert (rc, http) == (0, 200), body
    assert body["expires_in"] == 600
    c = s.verify_access_token(body["access_token"])
    assert c["exp"] - c["iat"] == 600


def test_configured_issuer_is_the_tokens_iss(make_server):
    mine = "https://auth.example.org/oauth2/token"
    s = make_server({"issuer": mine})
    s.register_issuer(issuer_json())
    s.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    rc, http, body = exchange(s, basic(), aud=mine)
    assert (rc, http) == (0, 200), body
    assert _verify_with_pyjwt(s, body["access_token"])["iss"] == mine


def test_scope_within_the_clients(endpoint):
    body = curl_body(("grant_type", GRANT), ("assertion", assertion()), ("scope", "read"))
    rc, http, resp = endpoint.exchange_token(basic(), body)
    assert (rc, http) == (0, 200), resp
    assert resp["scope"] == "read"
    assert endpoint.verify_access_token(resp["access_token"])["scope"] == "read"


def test_plus_is_a_space_in_the_form(endpoint):
    body = f"grant_type={curl_urlencode(GRANT)}&assertion={assertion()}&scope=read+write"
    rc, http, resp = endpoint.exchange_token(basic(), body)
    assert (rc, http) == (0, 200), resp
    assert sorted(resp["scope"].split(" ")) == ["read", "write"]


def test_client_secret_post(endpoint):
    body = curl_body(("grant_type", GRANT), ("assertion", assertion()),
                     ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET))
    rc, http, resp = endpoint.exchange_token(None, body)
    assert (rc, http) == (0, 200), resp


def test_basic_credentials_are_form_urlencoded_before_base64(endpoint):
    cid, secret = "my app:1", "p@ss word+/&="
    endpoint.register_client({"client_id": cid, "client_secret": secret, "grant_types": [GRANT]})
    rc, http, resp = exchange(endpoint, basic(cid, secret))
    assert (rc, http) == (0, 200), resp
    assert endpoint.verify_access_token(resp["access_token"])["client_id"] == cid


# --- errors ---------------------------------------------------------------------------------

def test_no_client_authentication(endpoint):
    assert_error(exchange(endpoint, None), "invalid_client", 401, "JWTGRANT_EINVALID_CLIENT")


def test_wrong_secret(endpoint):
    assert_error(exchange(endpoint, basic(secret="wrong")), "invalid_client", 401, "JWTGRANT_EINVALID_CLIENT")
    assert_error(exchange(endpoint, basic(secret=CLIENT_SECRET + "x")), "invalid_client", 401)
    assert_error(exchange(endpoint, basic(secret="")), "invalid_client", 401)


def test_wrong_secret_in_the_body(endpoint):
    body = curl_body(("grant_type", GRANT), ("assertion", assertion()),
                     ("client_id", CLIENT_ID), ("client_secret", "wrong"))
    assert_error(endpoint.exchange_token(None, body), "invalid_client", 401)


def test_unknown_client(endpoint):
    assert_error(exchange(endpoint, basic("nobody", CLIENT_SECRET)), "invalid_client", 401,
                 "JWTGRANT_EINVALID_CLIENT")


@pytest.mark.parametrize("auth", ["Basic", "Basic ", "Basic !!!", "Bearer abc",
                                  "Basic " + base64.b64encode(b"no-colon").decode(), "basic"])
def test_malformed_authorization_header(endpoint, auth):
    rc, http, body = exchange(endpoint, auth)
    assert http in (400, 401) and body["error"] in ("invalid_client", "invalid_request"), body
    assert rc != 0


def test_basic_and_client_secret_post_together(endpoint):
    body = curl_body(("grant_type", GRANT), ("assertion", assertion()),
                     ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET))
    assert_error(endpoint.exchange_token(basic(), body), "invalid_request", 400, "JWTGRANT_EINVALID_REQUEST")


@pytest.mark.parametrize("missing", ["grant_type", "assertion"])
def test_missing_parameter(endpoint, missing):
    pairs = [("grant_type", GRANT), ("assertion", assertion())]
    body = curl_body(*[p for p in pairs if p[0] != missing])
    assert_error(endpoint.exchange_token(basic(), body), "invalid_request", 400, "JWTGRANT_EINVALID_REQUEST")


@pytest.mark.parametrize("body", ["", "&", "=", "grant_type", "a=%zz", "grant_type=%"])
def test_malformed_body(endpoint, body):
    rc, http, resp = endpoint.exchange_token(basic(), body)
    assert http == 400 and resp["error"] in ("invalid_request", "unsupported_grant_type"), resp


@pytest.mark.parametrize("repeated", ["grant_type", "assertion", "scope"])
def test_repeated_parameter(endpoint, repeated):
    a = assertion()
    pairs = [("grant_type", GRANT), ("assertion", a), ("scope", "read")]
    pairs.append([p for p in pairs if p[0] == repeated][0])
    assert_error(endpoint.exchange_token(basic(), curl_body(*pairs)), "invalid_request", 400,
                 "JWTGRANT_EINVALID_REQUEST", secret=a)


@pytest.mark.parametrize("grant", ["client_credentials", "password", "authorization_code",
                                   "urn:ietf:params:oauth:grant-type:token-exchange",
                                   GRANT.upper(), GRANT + " "])
def test_other_grant_type(endpoint, grant):
    body = curl_body(("grant_type", grant), ("assertion", assertion()))
    assert_error(endpoint.exchange_token(basic(), body), "unsupported_grant_type", 400,
                 "JWTGRANT_EUNSUPPORTED_GRANT")


@pytest.mark.parametrize("grants", [["client_credentials"], [], None])
def test_client_without_the_jwt_bearer_grant(endpoint, grants):
    entry = {"client_id": "other-app", "client_secret": "x-secret"}
    if grants is not None:
        entry["grant_types"] = grants
    endpoint.register_client(entry)
    assert_error(exchange(endpoint, basic("other-app", "x-secret")), "unauthorized_client", 400,
                 "JWTGRANT_EUNAUTHORIZED_CLIENT")


@pytest.mark.parametrize("scope", ["admin", "read admin", "READ"])
def test_scope_outside_the_clients(endpoint, scope):
    body = curl_body(("grant_type", GRANT), ("assertion", assertion()), ("scope", scope))
    assert_error(endpoint.exchange_token(basic(), body), "invalid_scope", 400, "JWTGRANT_EINVALID_SCOPE")


@pytest.mark.parametrize("bad", ["garbage", "expired", "wrong_key", "untrusted", "alg_none"])
def test_bad_assertion(endpoint, bad):
    a = {
        "garbage": "x" * 40 + "." + "y" * 40 + "." + "z" * 40,
        "expired": assertion(exp=T0 - 10, iat=T0 - 100),
        "wrong_key": mint("pyjwt", "RS256", private_key("rsa2048", 42), claims()),
        "untrusted": assertion(iss="https://nobody.example"),
        "alg_none": craft({"alg": "none"}, claims(), sig=b""),
    }[bad]
    body = curl_body(("grant_type", GRANT), ("assertion", a))
    assert_error(endpoint.exchange_token(basic(), body), "invalid_grant", 400, secret=a)


def test_the_error_status_names_the_assertion_rule(endpoint):
    rc, http, _ = exchange(endpoint, basic(), exp=T0 - 10, iat=T0 - 100)
    assert jwtgrant.status_name(rc) == "JWTGRANT_EEXPIRED" and http == 400


def test_client_is_authenticated_before_the_assertion_is_judged(endpoint):
    # A bad client with a bad assertion is a client error, not a grant error.
    body = curl_body(("grant_type", GRANT), ("assertion", "garbage"))
    assert_error(endpoint.exchange_token(basic(secret="wrong"), body), "invalid_client", 401)


# --- replay --------------------------------------------------------------------------------------

@pytest.mark.parametrize("with_jti", [True, False])
def test_replay(endpoint, with_jti):
    a = assertion() if with_jti else assertion(jti=None)
    body = curl_body(("grant_type", GRANT), ("assertion", a))
    rc, http, resp = endpoint.exchange_token(basic(), body)
    assert (rc, http) == (0, 200), resp
    result = endpoint.exchange_token(basic(), body)
    assert_error(result, "invalid_grant", 400, "JWTGRANT_EREPLAY", secret=a)
    # And verify_assertion, which checks without recording, now sees it as used.
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        endpoint.verify_assertion(a)
    assert ei.value.name == "JWTGRANT_EREPLAY"


def test_same_jti_new_assertion_is_a_replay(endpoint):
    jti = "fixed-jti-1"
    assert exchange(endpoint, basic(), jti=jti)[1] == 200
    assert_error(exchange(endpoint, basic(), jti=jti, sub="bob"), "invalid_grant", 400, "JWTGRANT_EREPLAY")


def test_same_jti_from_two_issuers_is_not_a_replay(endpoint):
    other = private_key("rsa2048", 7)
    endpoint.register_issuer(issuer_json(name="other", iss="https://other.example", n=7))
    assert exchange(endpoint, basic(), jti="shared")[1] == 200
    a = mint("pyjwt", "RS256", other, claims(iss="https://other.example", jti="shared"))
    rc, http, resp = endpoint.exchange_token(basic(), curl_body(("grant_type", GRANT), ("assertion", a)))
    assert (rc, http) == (0, 200), resp


def test_failed_exchange_does_not_burn_the_jti(endpoint):
    a = assertion()
    body = curl_body(("grant_type", GRANT), ("assertion", a))
    assert_error(endpoint.exchange_token(basic(secret="wrong"), body), "invalid_client", 401)
    rc, http, resp = endpoint.exchange_token(basic(), body)
    assert (rc, http) == (0, 200), resp


def test_replay_cache_disabled(make_server):
    s = make_server({"grant_type": {"jwt": {"enable_jwt_cache": False}}})
    s.register_issuer(issuer_json())
    s.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    body = curl_body(("grant_type", GRANT), ("assertion", assertion()))
    assert s.exchange_token(basic(), body)[:2] == (0, 200)
    assert s.exchange_token(basic(), body)[:2] == (0, 200)


def test_eight_threads_one_assertion_exactly_one_succeeds(endpoint):
    body = curl_body(("grant_type", GRANT), ("assertion", assertion()))
    auth = basic()
    barrier = threading.Barrier(8)
    results = [None] * 8

    def worker(i):
        barrier.wait()
        results[i] = endpoint.exchange_token(auth, body)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in results)
    ok = [r for r in results if r[1] == 200]
    assert len(ok) == 1, [r[1] for r in results]
    for r in results:
        if r[1] != 200:
            assert r[2]["error"] == "invalid_grant"
            assert jwtgrant.status_name(r[0]) == "JWTGRANT_EREPLAY"


# --- access tokens for resource servers --------------------------------------------------------------

@pytest.fixture
def issued(endpoint):
    rc, http, body = exchange(endpoint, basic())
    assert (rc, http) == (0, 200), body
    return endpoint, body["access_token"]


def _expect_invalid_token(server, token):
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        server.verify_access_token(token)
    assert ei.value.name == "JWTGRANT_EINVALID_TOKEN", ei.value
    assert ei.value.oauth_error == "invalid_token"


def test_tampered_payload(issued):
    server, token = issued
    h, p, s = token.split(".")
    c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    c["sub"] = "mallory"
    _expect_invalid_token(server, f"{h}.{b64u(json.dumps(c).encode())}.{s}")


def test_tampered_signature(issued):
    server, token = issued
    h, p, s = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    raw[-1] ^= 1
    _expect_invalid_token(server, f"{h}.{p}.{b64u(bytes(raw))}")


def test_tampered_header(issued):
    server, token = issued
    h, p, s = token.split(".")
    hd = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
    hd["alg"] = "none"
    _expect_invalid_token(server, f"{b64u(json.dumps(hd).encode())}.{p}.")


def test_token_of_another_server(issued, make_server):
    server, _ = issued
    other = make_server()
    other.register_issuer(issuer_json())
    other.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    rc, http, body = exchange(other, basic())
    assert (rc, http) == (0, 200), body
    _expect_invalid_token(server, body["access_token"])


def test_foreign_token_with_our_claims(issued):
    server, token = issued
    hd = pyjwt.get_unverified_header(token)
    c = pyjwt.decode(token, options={"verify_signature": False})
    forged = craft({"alg": "ES256", "typ": "at+jwt", "kid": hd["kid"]}, c, private_key("p256", 55))
    _expect_invalid_token(server, forged)


def test_the_assertion_is_not_an_access_token(issued):
    server, _ = issued
    _expect_invalid_token(server, assertion())


def test_access_token_after_its_exp(issued):
    server, token = issued
    assert server.verify_access_token(token)
    server.set_time(T0 + 3601)
    _expect_invalid_token(server, token)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b.c.d.e"])
def test_garbage_access_token(endpoint, token):
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        endpoint.verify_access_token(token)
    assert ei.value.name in ("JWTGRANT_EINVALID_TOKEN", "JWTGRANT_EINVAL")


def test_client_registration_errors(endpoint):
    for entry, status in [
        ({"client_id": CLIENT_ID, "client_secret": "x", "grant_types": [GRANT]}, "JWTGRANT_EEXISTS"),
        ({"client_secret": "x"}, "JWTGRANT_EINVAL"),
        ({"client_id": "c2", "client_secret": "x", "grant_typez": [GRANT]}, "JWTGRANT_EINVAL"),
        ({"client_id": "c3", "grant_types": "not-a-list"}, "JWTGRANT_EINVAL"),
        ("{", "JWTGRANT_EINVAL"),
    ]:
        with pytest.raises(jwtgrant.JWTGrantError) as ei:
            endpoint.register_client(entry)
        assert ei.value.name == status, (entry, ei.value)
    # The existing client is untouched by the refused duplicate.
    assert exchange(endpoint, basic())[1] == 200
