"""Security regressions: one test per defect class, through the C ABI.

- the identity of an assertion is what was signed (ECDSA (r, n-s) is the
  same assertion), keyed on the issuer's iss, not its registration name;
- a replay record outlives the last instant the assertion passes;
- no refusal message holds token text (helpers.assert_no_token_text, which
  every refusal test of the suite runs);
- grant_type.jwt.max_assertion_lifetime;
- form parameter names: only known ones are named in messages.
"""

import base64
import json
import threading
import urllib.parse

import pytest

import jwtgrant
from helpers import (ISS, SERVER_ISSUER, T0, assert_no_token_text, assert_rejected, b64u, claims,
                     craft, exchange_refused, issuer_json, key_for_alg, mint, private_key)

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ID, CLIENT_SECRET = "sec-app", "sec-Secret-1"
KIND = {"ES256": "p256", "ES384": "p384", "ES512": "p521", "RS256": "rsa2048", "EdDSA": "ed25519"}
# Group orders of the NIST curves (SEC 2 / FIPS 186-4).
ORDER = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    "ES512": int("01FF" + "FFFFFFFF" * 7 + "FFFFFFFA"
                 "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16),
}
SIZE = {"ES256": 32, "ES384": 48, "ES512": 66}


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def malleate(token: str, alg: str) -> str:
    """The other valid ECDSA signature of the same header and claims: (r, n - s)."""
    h, p, sig = token.split(".")
    raw, size = _b64d(sig), SIZE[alg]
    r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
    return f"{h}.{p}.{b64u(r.to_bytes(size, 'big') + (ORDER[alg] - s).to_bytes(size, 'big'))}"


def make_endpoint(make_server, config=None, kind="rsa2048", fmt="cert_pem", name="partner", iss=ISS):
    s = make_server(config)
    s.register_issuer(issuer_json(name=name, iss=iss, fmt=fmt, kind=kind))
    s.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    return s


def exchange(server, token: str):
    body = f"grant_type={urllib.parse.quote(GRANT, safe='')}&assertion={urllib.parse.quote(token, safe='')}"
    auth = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    rc, http, answer = server.exchange_token(auth, body)
    return rc, http, answer


def assert_replayed(server, token):
    rc, http, answer = exchange(server, token)
    assert (rc, http) != (0, 200), "a used assertion was exchanged again"
    assert jwtgrant.status_name(rc) == "JWTGRANT_EREPLAY", answer
    assert_no_token_text(answer.get("error_description"), token)


# --- 1. the identity of an assertion is what was signed ------------------------------

@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
@pytest.mark.parametrize("first", ["original", "malleated"])
def test_ecdsa_malleated_copy_of_a_used_assertion_without_jti_is_a_replay(make_server, alg, first):
    s = make_endpoint(make_server, kind=KIND[alg])
    original = mint("pyjwt", alg, key_for_alg(alg), claims(jti=None))
    other = malleate(original, alg)
    assert other != original
    # Both are valid signatures of the same header and claims.
    assert s.verify_assertion(original)["sub"] == s.verify_assertion(other)["sub"]
    a, b = (original, other) if first == "original" else (other, original)
    rc, http, answer = exchange(s, a)
    assert (rc, http) == (0, 200), answer
    assert_replayed(s, b)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_sixteen_threads_racing_two_signatures_of_one_assertion_get_one_token(make_server, alg):
    s = make_endpoint(make_server, kind=KIND[alg])
    original = mint("pyjwt", alg, key_for_alg(alg), claims(jti=None))
    # ECDSA: (r, n-s); other algorithms: the same signing input signed again
    # (RSA PKCS#1 and EdDSA give the same bytes; the rule is the same).
    other = malleate(original, alg) if alg.startswith("ES") else original
    results, go = [], threading.Barrier(16)

    def run(tok):
        go.wait()
        results.append(exchange(s, tok)[:2])

    threads = [threading.Thread(target=run, args=(original if i % 2 else other,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for rc, http in results if (rc, http) == (0, 200)) == 1, results
    assert all(jwtgrant.status_name(rc) == "JWTGRANT_EREPLAY" for rc, _ in results if rc != 0)


@pytest.mark.parametrize("with_jti", [True, False])
def test_issuer_registered_again_under_another_name_remembers_used_assertions(make_server, with_jti):
    s = make_endpoint(make_server)
    token = mint("pyjwt", "RS256", key_for_alg("RS256"), claims() if with_jti else claims(jti=None))
    assert exchange(s, token)[:2] == (0, 200)
    s.remove_issuer("partner")
    s.register_issuer(issuer_json(name="partner-renamed"))
    assert s.verify_assertion(mint("pyjwt", "RS256", key_for_alg("RS256"), claims()))["_issuer_name"] == \
        "partner-renamed"
    assert_replayed(s, token)


def test_same_jti_from_two_issuers_are_two_assertions(make_server):
    s = make_endpoint(make_server)
    s.register_issuer(issuer_json(name="second", iss="https://second.example", kind="p256", fmt="jwks"))
    one = mint("pyjwt", "RS256", key_for_alg("RS256"), claims(jti="shared"))
    two = mint("pyjwt", "ES256", key_for_alg("ES256"), claims(jti="shared", iss="https://second.example"))
    assert exchange(s, one)[:2] == (0, 200)
    assert exchange(s, two)[:2] == (0, 200)
    assert_replayed(s, one)
    assert_replayed(s, two)


# --- 3. a record outlives the last instant the assertion passes ----------------------

SKEW = 30
EDGE_CONFIG = {"clock_skew": SKEW, "grant_type": {"jwt": {"iat_validity_period": 1}}}


@pytest.mark.parametrize("with_jti", [True, False])
@pytest.mark.parametrize("rule,over,last", [
    ("iat", {"iat": T0, "exp": T0 + 10_000}, T0 + 60 + SKEW),
    ("exp", {"iat": None, "exp": T0 + 100}, T0 + 100 + SKEW - 1),
    ("nbf", {"iat": None, "nbf": T0 + 100, "exp": T0 + 200}, T0 + 200 + SKEW - 1),
])
def test_replay_at_the_last_passing_instant(make_server, rule, over, last, with_jti):
    s = make_endpoint(make_server, EDGE_CONFIG)
    c = claims(**over)
    if not with_jti:
        c.pop("jti")
    token = mint("pyjwt", "RS256", key_for_alg("RS256"), c)
    s.set_time(last + 1)
    with pytest.raises(jwtgrant.JWTGrantError):
        s.verify_assertion(token)
    s.set_time(last)
    assert exchange(s, token)[:2] == (0, 200), f"{rule}: passes at its last second"
    assert_replayed(s, token)


def test_nbf_at_the_edge_of_the_skew(make_server):
    s = make_endpoint(make_server, EDGE_CONFIG)
    token = mint("pyjwt", "RS256", key_for_alg("RS256"), claims(nbf=T0 + SKEW))
    assert exchange(s, token)[:2] == (0, 200)
    assert_replayed(s, token)
    assert_rejected(s, mint("pyjwt", "RS256", key_for_alg("RS256"), claims(nbf=T0 + SKEW + 1)),
                    "JWTGRANT_ENOT_YET_VALID")


# --- 5. refusal messages hold no token text ------------------------------------------

@pytest.mark.parametrize("alg", ["HSQZXJVW99", "HS\r\n\x1b[2J", "\r\n\x1b]0;x\x07", "nOnE", "HS256",
                                 "ÉS256", "RS256 "])
def test_alg_text_is_never_repeated(rsa_server, alg):
    token = craft({"alg": alg, "typ": "JWT"}, claims(), sig=b"\x01" * 64)
    assert_rejected(rsa_server, token, "JWTGRANT_EALGORITHM")


@pytest.mark.parametrize("field,value", [
    ("kid", "KIDQZX\r\n\x1b"), ("typ", "TYPQZX\x1b"), ("cty", "CTYQZX\n"), ("x5u", "https://EVIL.QZX/\r\n"),
])
def test_header_text_is_never_repeated(make_server, field, value):
    s = make_endpoint(make_server, kind="p256", fmt="jwks")
    token = craft({"alg": "ES256", field: value}, claims(), key_for_alg("ES256"))
    try:
        s.verify_assertion(token)
        refused = False
    except jwtgrant.JWTGrantError as e:
        refused = True
        assert_no_token_text(e.message, token)
    if refused:
        exchange_refused(s, token, None)


@pytest.mark.parametrize("claim,value,status", [
    ("iss", "https://ISSQZX.example/\r\n\x1b", "JWTGRANT_EUNTRUSTED_ISSUER"),
    ("aud", "https://AUDQZX.example/\x1b", "JWTGRANT_EAUDIENCE"),
    ("aud", ["https://AUDQZX.example/\x1b", "ZZ\n"], "JWTGRANT_EAUDIENCE"),
    ("sub", 12345, "JWTGRANT_ECLAIM"),
    ("exp", "EXPQZX\r\n", "JWTGRANT_ECLAIM"),
    ("nbf", "NBFQZX\x1b", "JWTGRANT_ECLAIM"),
    ("iat", "IATQZX\x1b", "JWTGRANT_ECLAIM"),
    ("jti", {"JTIQZX\n": "V\x1bQZX"}, "JWTGRANT_ECLAIM"),
])
def test_claim_text_is_never_repeated(rsa_server, claim, value, status):
    token = mint("pyjwt", "RS256", key_for_alg("RS256"), claims(**{claim: value}))
    assert_rejected(rsa_server, token, status)


# --- max_assertion_lifetime ------------------------------------------------------------

def test_max_assertion_lifetime(make_server):
    s = make_endpoint(make_server, {"grant_type": {"jwt": {"max_assertion_lifetime": 600}}})
    assert exchange(s, mint("pyjwt", "RS256", key_for_alg("RS256"), claims(exp=T0 + 600)))[:2] == (0, 200)
    for exp in (T0 + 601, 253_402_300_799):
        assert_rejected(s, mint("pyjwt", "RS256", key_for_alg("RS256"), claims(exp=exp)),
                        "JWTGRANT_EASSERTION_LIFETIME")
    assert jwtgrant.status_name(-28) == "JWTGRANT_EASSERTION_LIFETIME"
    assert jwtgrant.oauth_error(-28) == "invalid_grant"
    rc, http, answer = exchange(s, mint("pyjwt", "RS256", key_for_alg("RS256"), claims(exp=T0 + 601)))
    assert (jwtgrant.status_name(rc), http, answer["error"]) == ("JWTGRANT_EASSERTION_LIFETIME", 400, "invalid_grant")


def test_default_has_no_assertion_lifetime_limit(make_server):
    s = make_endpoint(make_server)
    assert exchange(s, mint("pyjwt", "RS256", key_for_alg("RS256"), claims(exp=253_402_300_799)))[:2] == (0, 200)


@pytest.mark.parametrize("bad", [-1, 315_360_001, "600", 1.5, True])
def test_max_assertion_lifetime_must_be_a_sane_integer(bad):
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        jwtgrant.Server({"grant_type": {"jwt": {"max_assertion_lifetime": bad}}})
    assert ei.value.name == "JWTGRANT_EINVAL"


# --- form parameter names ----------------------------------------------------------------

def test_repeated_unknown_parameter_name_is_not_echoed(make_server):
    s = make_endpoint(make_server)
    token = mint("pyjwt", "RS256", key_for_alg("RS256"), claims())
    auth = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    base = f"grant_type={urllib.parse.quote(GRANT, safe='')}&assertion={token}"
    # The client gets the generic description of the status (the detailed
    # reason, which names only known parameters, is checked by the engine's
    # FormBodyTests); no caller text comes back.
    generic = "the request is malformed or lacks a required parameter"
    for extra in ["&XYZZYsecret=1&XYZZYsecret=2", "&x%0D%0A%1B=1&x%0D%0A%1B=2", "&XYZZY=%ZZ", "&scope=a&scope=b"]:
        rc, http, answer = s.exchange_token(auth, base + extra)
        assert (jwtgrant.status_name(rc), http) == ("JWTGRANT_EINVALID_REQUEST", 400)
        assert answer == {"error": "invalid_request", "error_description": generic}, answer


# --- 2. identifiers compare as bytes: NFC/NFD pairs through the C ABI ---------------

NFC, NFD = "caf\u00e9", "cafe\u0301"


@pytest.mark.parametrize("registered,sent", [(NFC, NFD), (NFD, NFC)])
def test_iss_canonically_equal_is_not_the_issuer(make_server, registered, sent):
    s = make_server()
    s.register_issuer(issuer_json(iss=f"https://idp.example/{registered}"))
    good = mint("pyjwt", "RS256", key_for_alg("RS256"), claims(iss=f"https://idp.example/{registered}"))
    assert s.verify_assertion(good)["iss"] == f"https://idp.example/{registered}"
    bad = mint("pyjwt", "RS256", key_for_alg("RS256"), claims(iss=f"https://idp.example/{sent}"))
    assert_rejected(s, bad, "JWTGRANT_EUNTRUSTED_ISSUER")


def test_issuer_names_and_iss_values_are_bytes(make_server):
    s = make_server()
    s.register_issuer(issuer_json(name=NFC, iss=f"https://idp.example/{NFC}"))
    s.register_issuer(issuer_json(name=NFD, iss=f"https://idp.example/{NFD}", n=1))
    assert sorted(i["name"] for i in s.list_issuers()) == sorted([NFC, NFD])
    s.remove_issuer(NFD)
    assert [i["name"] for i in s.list_issuers()] == [NFC]
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.remove_issuer(NFD)
    assert ei.value.name == "JWTGRANT_ENOTFOUND"


@pytest.mark.parametrize("registered,sent", [(NFC, NFD), (NFD, NFC)])
def test_aud_canonically_equal_is_not_this_server(make_server, registered, sent):
    s = make_server({"issuer": f"https://as.example/{registered}"})
    s.register_issuer(issuer_json())
    assert s.verify_assertion(mint("pyjwt", "RS256", key_for_alg("RS256"),
                                   claims(aud=f"https://as.example/{registered}")))
    assert_rejected(s, mint("pyjwt", "RS256", key_for_alg("RS256"), claims(aud=f"https://as.example/{sent}")),
                    "JWTGRANT_EAUDIENCE")


@pytest.mark.parametrize("registered,sent", [(NFC, NFD), (NFD, NFC), ("OKP", "O\u212aP")])
def test_kid_canonically_equal_names_no_key(make_server, registered, sent):
    s = make_server()
    s.register_issuer(issuer_json(fmt="jwks", kind="p256", kid=registered))
    key = key_for_alg("ES256")
    assert s.verify_assertion(mint("pyjwt", "ES256", key, claims(), headers={"kid": registered}))
    assert_rejected(s, mint("pyjwt", "ES256", key, claims(), headers={"kid": sent}), "JWTGRANT_EKEY_NOT_FOUND")


def test_jti_canonically_equal_is_another_assertion(make_server):
    s = make_endpoint(make_server)
    one = mint("pyjwt", "RS256", key_for_alg("RS256"), claims(jti=NFC))
    two = mint("pyjwt", "RS256", key_for_alg("RS256"), claims(jti=NFD))
    assert exchange(s, one)[:2] == (0, 200)
    assert exchange(s, two)[:2] == (0, 200), "a jti is compared byte for byte"
    assert_replayed(s, one)
    assert_replayed(s, two)


@pytest.mark.parametrize("registered,sent", [(NFC, NFD), (NFD, NFC)])
def test_client_id_canonically_equal_is_another_client(make_server, registered, sent):
    s = make_server()
    s.register_issuer(issuer_json())
    s.register_client({"client_id": registered, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    token = mint("pyjwt", "RS256", key_for_alg("RS256"), claims())
    body = f"grant_type={urllib.parse.quote(GRANT, safe='')}&assertion={token}"

    def auth(cid):
        return "Basic " + base64.b64encode(
            f"{urllib.parse.quote_plus(cid)}:{CLIENT_SECRET}".encode()).decode()

    rc, http, answer = s.exchange_token(auth(sent), body)
    assert (jwtgrant.status_name(rc), http) == ("JWTGRANT_EINVALID_CLIENT", 401), answer
    s.register_client({"client_id": sent, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    rc, http, answer = s.exchange_token(auth(registered), body)
    assert (rc, http) == (0, 200), answer
    claims_out = s.verify_access_token(answer["access_token"])
    assert claims_out["client_id"] == registered


def test_json_member_values_with_kelvin_sign_are_not_ascii(make_server):
    """"O\u212aP" is canonically "OKP" for Swift's String ==; as bytes it is
    an unknown kty, so the key is ignored (and listed), not used."""
    s = make_server()
    jwk = public_jwk_of("ed25519")
    jwk["kty"] = "O\u212aP"
    s.register_issuer({"name": "partner", "issuer": ISS,
                       "jwks": {"keys": [jwk, public_jwk_of("p256", kid="good")]}})
    [entry] = s.list_issuers()
    assert entry["key_ids"] == ["good"]
    assert [k["index"] for k in entry["ignored_keys"]] == [0]


# --- 6. a key set with keys the library does not use ------------------------------------

def public_jwk_of(kind, kid=None):
    from helpers import public_jwk
    return public_jwk(kind, kid=kid)


def ed448_jwk(kid="ed448"):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed448
    raw = ed448.Ed448PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed448", "x": b64u(raw), "kid": kid}


def unusable_keys():
    enc = dict(public_jwk_of("rsa2048", kid="enc"), use="enc")
    oaep = dict(public_jwk_of("rsa3072", kid="oaep"), alg="RSA-OAEP")
    oaep.pop("use")
    wrap = dict(public_jwk_of("p384", kid="wrap"), key_ops=["wrapKey"])
    wrap.pop("use")
    unknown = {"kty": "XYZ", "kid": "xyz", "v": "AQAB"}
    k256 = public_jwk_of("secp256k1", kid="k1curve")
    return [ed448_jwk(), enc, oaep, wrap, unknown, k256]


REASON_WORDS = ["OKP curve", "use", "alg", "key_ops", "kty", "EC curve"]


def check_ignored(entry):
    ignored = entry["ignored_keys"]
    assert [k["kid"] for k in ignored] == ["ed448", "enc", "oaep", "wrap", "xyz", "k1curve"]
    for k, word in zip(ignored, REASON_WORDS):
        assert word in k["reason"], k
    assert [k["index"] for k in ignored] == [0, 1, 2, 3, 4, 5]


def test_jwks_with_unusable_keys_keeps_the_usable_ones(make_server):
    s = make_server()
    good = public_jwk_of("p256", kid="good")
    s.register_issuer({"name": "partner", "issuer": ISS, "jwks": {"keys": unusable_keys() + [good]}})
    [entry] = s.list_issuers()
    assert entry["key_ids"] == ["good"]
    check_ignored(entry)
    assert s.verify_assertion(mint("pyjwt", "ES256", key_for_alg("ES256"), claims(), headers={"kid": "good"}))
    # a token naming an ignored key finds no key
    assert_rejected(s, mint("pyjwt", "ES256", key_for_alg("ES256"), claims(), headers={"kid": "ed448"}),
                    "JWTGRANT_EKEY_NOT_FOUND")
    # new keys handed in for the inline issuer: the same rule
    s.issuer_set_jwks("partner", {"keys": [good] + unusable_keys()[:1]})
    assert [k["kid"] for k in s.list_issuers()[0]["ignored_keys"]] == ["ed448"]


def test_jwks_uri_with_unusable_keys_keeps_the_usable_ones(make_server):
    s = make_server()
    good = public_jwk_of("p256", kid="good")
    s.set_jwks_fetcher(lambda name, url, timeout, limit: (200, {"keys": unusable_keys() + [good]}, 300))
    s.register_issuer({"name": "partner", "issuer": ISS, "jwks_uri": "https://idp.example.com/jwks"})
    assert s.verify_assertion(mint("pyjwt", "ES256", key_for_alg("ES256"), claims(), headers={"kid": "good"}))
    [entry] = s.list_issuers()
    assert entry["key_ids"] == ["good"] and entry["last_error"] is None
    check_ignored(entry)


def off_curve(jwk):
    bad = dict(jwk)
    y = bytearray(base64.urlsafe_b64decode(bad["y"] + "=="))
    y[-1] ^= 1
    bad["y"] = b64u(bytes(y))
    return bad


@pytest.mark.parametrize("malformed", ["off_curve", "rsa1024", "private", "kid_type", "key_ops_type"])
def test_malformed_key_still_refuses_the_set(make_server, malformed):
    good = public_jwk_of("p256", kid="good")
    bad = {
        "off_curve": lambda: off_curve(public_jwk_of("p384", kid="bad")),
        "rsa1024": lambda: public_jwk_of("rsa1024", kid="bad"),
        "private": lambda: dict(public_jwk_of("p256", n=0) if False else public_jwk_of("p256"), d="AAAA"),
        "kid_type": lambda: dict(public_jwk_of("p256"), kid=5),
        "key_ops_type": lambda: dict(public_jwk_of("p256"), key_ops="verify"),
    }[malformed]()
    s = make_server()
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.register_issuer({"name": "partner", "issuer": ISS, "jwks": {"keys": [good, bad]}})
    assert ei.value.name == "JWTGRANT_EKEY", ei.value
    assert s.list_issuers() == []


def test_only_unusable_keys_refuses_the_set(make_server):
    s = make_server()
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.register_issuer({"name": "partner", "issuer": ISS, "jwks": {"keys": unusable_keys()}})
    assert ei.value.name == "JWTGRANT_EKEY"
    assert "no usable" in ei.value.message


@pytest.mark.parametrize("header_text", [
    '{"alg":"ES256","kid":"\\uD800QZXW"}',        # lone surrogate: jansson quotes the escape
    '{"alg":"ES256","kid":"\\uDBFF\\uDBFFQZ"}',
    '{"alg":"ES256","QZXW":tru}',
    "{'alg':'QZXW'}",
])
def test_reader_complaints_do_not_quote_the_token(rsa_server, header_text):
    token = craft(header_text, claims(), sig=b"\x01" * 64)
    err = assert_rejected(rsa_server, token, "JWTGRANT_EMALFORMED")
    for fragment in ("D800", "DBFF", "QZXW", "tru", "'"):
        assert fragment not in err.message, err.message
