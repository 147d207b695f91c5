"""Valid assertions are accepted.

Every JOSE library x every algorithm x every key format, plus audience forms
and key rotation. The clock of every server is pinned to helpers.T0.
"""

import pytest

from helpers import (ALGS, ISS, JOSE_LIBS, KEY_FOR_ALG, KEY_FORMATS, SERVER_ISSUER, SUB, T0,
                     assert_rejected, claims, craft, issuer_json, key_for_alg, mint,
                     private_key, public_jwk, cert_pem)

pytestmark = pytest.mark.filterwarnings("ignore::Warning")


@pytest.mark.parametrize("fmt", KEY_FORMATS)
@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("jose", JOSE_LIBS)
def test_accepts_every_library_algorithm_and_key_format(make_server, jose, alg, fmt):
    server = make_server()
    kind = KEY_FOR_ALG[alg]
    server.register_issuer(issuer_json(name="partner", fmt=fmt, kind=kind, kid="key-1"))
    c = claims()
    # A kid only where the key has one (JWKS); certificates and SPKI carry none.
    headers = {"kid": "key-1"} if fmt == "jwks" else None
    token = mint(jose, alg, key_for_alg(alg), c, headers)

    got = server.verify_assertion(token)

    assert got["_issuer_name"] == "partner"
    for k in ("iss", "sub", "aud", "exp", "iat", "jti"):
        assert got[k] == c[k]


def test_verify_does_not_consume_the_jti(rsa_server):
    token = mint("pyjwt", "RS256", private_key("rsa2048"), claims())
    assert rsa_server.verify_assertion(token)["sub"] == SUB
    assert rsa_server.verify_assertion(token)["sub"] == SUB


def test_claims_round_trip_extra_members(rsa_server):
    c = claims(scope="read write", nested={"a": [1, 2.5, None, True]}, name="Zoë ✓")
    got = rsa_server.verify_assertion(mint("jwcrypto", "RS256", private_key("rsa2048"), c))
    assert got["nested"] == c["nested"]
    assert got["name"] == "Zoë ✓"
    assert got["scope"] == "read write"


def test_token_without_jti_is_accepted(rsa_server):
    got = rsa_server.verify_assertion(mint("pyjwt", "RS256", private_key("rsa2048"), claims(jti=None)))
    assert "jti" not in got and got["_issuer_name"] == "partner"


def test_token_without_iat_is_accepted(rsa_server):
    got = rsa_server.verify_assertion(mint("pyjwt", "RS256", private_key("rsa2048"), claims(iat=None)))
    assert "iat" not in got


def test_fractional_numeric_dates_are_accepted(rsa_server):
    c = claims(exp=T0 + 300.5, iat=T0 - 10.25, nbf=T0 - 0.5)
    got = rsa_server.verify_assertion(craft({"alg": "RS256"}, c, private_key("rsa2048")))
    assert got["exp"] == pytest.approx(T0 + 300.5)


def test_nbf_in_the_past_and_iat_29_minutes_old_are_accepted(rsa_server):
    c = claims(nbf=T0 - 60, iat=T0 - 29 * 60)
    assert rsa_server.verify_assertion(mint("joserfc", "RS256", private_key("rsa2048"), c))["sub"] == SUB


# --- audience -------------------------------------------------------------

@pytest.mark.parametrize("aud", [
    [SERVER_ISSUER],
    ["https://someone-else.example", SERVER_ISSUER],
    [SERVER_ISSUER, "https://someone-else.example", "x"],
])
def test_aud_as_array(rsa_server, aud):
    got = rsa_server.verify_assertion(mint("pyjwt", "RS256", private_key("rsa2048"), claims(aud=aud)))
    assert got["aud"] == aud


def test_aud_token_endpoint(make_server):
    te = "https://idp.example.com/oauth2/token-endpoint"
    server = make_server({"token_endpoint": te})
    server.register_issuer(issuer_json())
    for aud in (te, [te], ["other", te]):
        assert server.verify_assertion(mint("pyjwt", "RS256", private_key("rsa2048"), claims(aud=aud)))["aud"] == aud
    # The default issuer is still an accepted audience.
    server.verify_assertion(mint("pyjwt", "RS256", private_key("rsa2048"), claims()))


def test_aud_configured_issuer(make_server):
    mine = "https://auth.example.org/oauth2/token"
    server = make_server({"issuer": mine})
    server.register_issuer(issuer_json())
    assert server.verify_assertion(mint("pyjwt", "RS256", private_key("rsa2048"), claims(aud=mine)))["aud"] == mine
    # The default no longer applies once `issuer` is configured.
    assert_rejected(server, mint("pyjwt", "RS256", private_key("rsa2048"), claims(aud=SERVER_ISSUER)),
                    "JWTGRANT_EAUDIENCE")


def test_aud_issuer_alias(make_server):
    alias = "https://localhost:9443/t/partner-alias"
    server = make_server()
    server.register_issuer(issuer_json(alias=alias))
    for aud in (alias, [alias], ["nobody", alias]):
        got = server.verify_assertion(mint("jwcrypto", "RS256", private_key("rsa2048"), claims(aud=aud)))
        assert got["_issuer_name"] == "partner"


# --- several issuers, several keys (rotation) ------------------------------

def test_issuer_is_chosen_by_exact_iss(make_server):
    server = make_server()
    server.register_issuer(issuer_json(name="a", iss="https://a.example", kind="rsa2048", n=1))
    server.register_issuer(issuer_json(name="b", iss="https://b.example", fmt="jwks", kind="p256", n=1))
    ta = mint("pyjwt", "RS256", private_key("rsa2048", 1), claims(iss="https://a.example"))
    tb = mint("pyjwt", "ES256", private_key("p256", 1), claims(iss="https://b.example"))
    assert server.verify_assertion(ta)["_issuer_name"] == "a"
    assert server.verify_assertion(tb)["_issuer_name"] == "b"


def test_rotation_concatenated_certificates_without_kid(make_server):
    server = make_server()
    pem = cert_pem("rsa2048", 1) + cert_pem("rsa2048", 2) + cert_pem("p256", 3)
    server.register_issuer({"name": "rot", "issuer": ISS, "certificate": pem})
    for kind, n, alg in (("rsa2048", 1, "RS256"), ("rsa2048", 2, "PS256"), ("p256", 3, "ES256")):
        got = server.verify_assertion(mint("pyjwt", alg, private_key(kind, n), claims()))
        assert got["_issuer_name"] == "rot"
    # A key that is not among them still fails.
    assert_rejected(server, mint("pyjwt", "RS256", private_key("rsa2048", 4), claims()),
                    "JWTGRANT_ESIGNATURE")


@pytest.fixture
def rotation_server(make_server):
    server = make_server()
    server.register_issuer({"name": "rot", "issuer": ISS, "jwks": {"keys": [
        public_jwk("rsa2048", 1, kid="k1"),
        public_jwk("rsa2048", 2, kid="k2"),
        public_jwk("ed25519", 3, kid="k3"),
    ]}})
    return server


def test_rotation_jwks_without_kid_tries_each_key(rotation_server):
    for kind, n, alg in (("rsa2048", 1, "RS256"), ("rsa2048", 2, "RS256"), ("ed25519", 3, "EdDSA")):
        got = rotation_server.verify_assertion(mint("joserfc", alg, private_key(kind, n), claims()))
        assert got["_issuer_name"] == "rot"


def test_rotation_jwks_with_kid_uses_that_key(rotation_server):
    tok = mint("pyjwt", "RS256", private_key("rsa2048", 2), claims(), {"kid": "k2"})
    assert rotation_server.verify_assertion(tok)["_issuer_name"] == "rot"


def test_rotation_jwks_with_kid_uses_only_that_key(rotation_server):
    # Signed by k2's key but naming k1: only k1 is tried, so the signature fails.
    tok = mint("pyjwt", "RS256", private_key("rsa2048", 2), claims(), {"kid": "k1"})
    assert_rejected(rotation_server, tok, "JWTGRANT_ESIGNATURE")


def test_list_issuers_reports_registrations(make_server):
    server = make_server()
    assert server.list_issuers() == []
    server.register_issuer(issuer_json(name="one", iss="https://pem.example", alias="https://al"))
    server.register_issuer({"name": "two", "issuer": "https://jwks.example", "jwks": {"keys": [
        public_jwk("rsa2048", 1, kid="kid-one"), public_jwk("p256", 1, kid="kid-two")]}})
    listed = {i["name"]: i for i in server.list_issuers()}
    assert set(listed) == {"one", "two"}
    assert listed["one"]["issuer"] == "https://pem.example"
    assert listed["one"]["alias"] == "https://al"
    assert listed["two"]["issuer"] == "https://jwks.example"
    text = repr(listed["two"])
    assert "kid-one" in text and "kid-two" in text, "key ids are listed"
    # The key source is named (field name not fixed by the contract).
    assert "jwks" in repr(list(listed["two"].values()))
    assert "certificate" in repr(list(listed["one"].values()))
    server.remove_issuer("one")
    assert [i["name"] for i in server.list_issuers()] == ["two"]
