"""Keys, certificates and assertions for the libjwtgrant tests.

Keys come from the `cryptography` package; assertions are minted by three
independent JOSE libraries (PyJWT, joserfc, jwcrypto), and hostile tokens are
crafted byte by byte with `craft()` so that exactly one thing is wrong.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import hmac
import json
import time
import uuid

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

import jwtgrant

# A fixed clock: every server in the suite is pinned to T0.
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z

SERVER_ISSUER = "https://localhost:9443/oauth2/token"  # the default `issuer` of the configuration
ISS = "https://third-party-token-issuers.io/oauth2/token"
SUB = "alice@example.com"

ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA"]
KEY_FORMATS = ["cert_pem", "cert_der_b64", "spki_pem", "jwks"]
JOSE_LIBS = ["pyjwt", "joserfc", "jwcrypto"]

# The key kind each algorithm is tested with.
KEY_FOR_ALG = {
    "RS256": "rsa2048", "PS256": "rsa2048",
    "RS384": "rsa3072", "PS384": "rsa3072",
    "RS512": "rsa3072", "PS512": "rsa2048",
    "ES256": "p256", "ES384": "p384", "ES512": "p521",
    "EdDSA": "ed25519",
}
_HASH = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC_SIZE = {"ES256": 32, "ES384": 48, "ES512": 66}


# --------------------------------------------------------------------------
# Keys and certificates
# --------------------------------------------------------------------------

def private_key(kind: str, n: int = 0):
    """A private key, cached per (kind, n): n distinguishes rotation keys."""
    return _private_key(kind, int(n))


@functools.lru_cache(maxsize=None)
def _private_key(kind: str, n: int):
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    curves = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1,
              "secp256k1": ec.SECP256K1}
    if kind in curves:
        return ec.generate_private_key(curves[kind]())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def key_for_alg(alg: str, n: int = 0):
    return private_key(KEY_FOR_ALG[alg], n)


def _utc(t: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)


DAY = 86400


def validity(kind: str = "valid"):
    """(not_before, not_after) unix times. The windows hold both at T0 and at
    the real time, so the result does not depend on which clock the library
    judges certificates by."""
    lo, hi = min(T0, time.time()), max(T0, time.time())
    if kind == "valid":
        return lo - DAY, hi + 365 * DAY
    if kind == "expired":
        return lo - 400 * DAY, lo - 10 * DAY
    if kind == "not_yet_valid":
        return hi + 30 * DAY, hi + 400 * DAY
    raise ValueError(kind)


def certificate(kind: str, n: int = 0, when: str = "valid") -> x509.Certificate:
    """A self-signed certificate for private_key(kind, n), cached."""
    return _certificate(kind, int(n), when)


@functools.lru_cache(maxsize=None)
def _certificate(kind: str, n: int, when: str) -> x509.Certificate:
    key = private_key(kind, n)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"issuer-{kind}-{n}-{when}")])
    nb, na = validity(when)
    builder = (x509.CertificateBuilder()
               .subject_name(name).issuer_name(name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(_utc(nb)).not_valid_after(_utc(na)))
    algo = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algo)


def cert_pem(kind: str, n: int = 0, when: str = "valid") -> str:
    return certificate(kind, n, when).public_bytes(serialization.Encoding.PEM).decode()


def cert_der_b64(kind: str, n: int = 0, when: str = "valid") -> str:
    der = certificate(kind, n, when).public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode()


def spki_pem(kind: str, n: int = 0) -> str:
    return private_key(kind, n).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64u(i: int, size: int | None = None) -> str:
    size = size or (i.bit_length() + 7) // 8
    return b64u(i.to_bytes(size, "big"))


def public_jwk(kind: str, n: int = 0, kid: str | None = None) -> dict:
    """The public JWK (RFC 7517/7518/8037) of private_key(kind, n), built here
    from the numbers rather than by a JOSE library."""
    pub = private_key(kind, n).public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        jwk = {"kty": "RSA", "n": _int_b64u(nums.n), "e": _int_b64u(nums.e)}
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        crv, size = {"secp256r1": ("P-256", 32), "secp384r1": ("P-384", 48),
                     "secp521r1": ("P-521", 66), "secp256k1": ("secp256k1", 32)}[pub.curve.name]
        nums = pub.public_numbers()
        jwk = {"kty": "EC", "crv": crv, "x": _int_b64u(nums.x, size), "y": _int_b64u(nums.y, size)}
    else:
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    if kid is not None:
        jwk["kid"] = kid
    jwk["use"] = "sig"
    return jwk


def key_material(fmt: str, kind: str, n: int = 0, kid: str | None = None) -> dict:
    """The key-source fields of an issuer_json for one key in `fmt`.

    SPKI PEM has no field of its own in issuer_json; it goes in `certificate`
    (SPKI_FIELD), which is how the product's "Use PEM certificate" box is
    commonly fed with a bare public key."""
    if fmt == "cert_pem":
        return {"certificate": cert_pem(kind, n)}
    if fmt == "cert_der_b64":
        return {"certificate": cert_der_b64(kind, n)}
    if fmt == "spki_pem":
        return {SPKI_FIELD: spki_pem(kind, n)}
    if fmt == "jwks":
        return {"jwks": {"keys": [public_jwk(kind, n, kid=kid)]}}
    raise ValueError(fmt)


SPKI_FIELD = "certificate"


def issuer_json(name: str = "partner", iss: str = ISS, fmt: str = "cert_pem",
                kind: str = "rsa2048", n: int = 0, kid: str | None = None,
                alias: str | None = None) -> dict:
    d = {"name": name, "issuer": iss}
    if alias is not None:
        d["alias"] = alias
    d.update(key_material(fmt, kind, n, kid))
    return d


# --------------------------------------------------------------------------
# Assertions
# --------------------------------------------------------------------------

def claims(**over) -> dict:
    """Valid assertion claims at T0; a keyword set to None removes the claim."""
    c = {"iss": ISS, "sub": SUB, "aud": SERVER_ISSUER,
         "exp": T0 + 300, "iat": T0 - 10, "jti": str(uuid.uuid4())}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint(lib: str, alg: str, key, payload: dict, headers: dict | None = None) -> str:
    """A compact JWS minted by one of three independent JOSE libraries."""
    headers = dict(headers or {})
    if lib == "pyjwt":
        import jwt
        return jwt.encode(payload, key, algorithm=alg, headers=headers or None)
    if lib == "joserfc":
        from joserfc import jwt as jjwt
        from joserfc.jwk import ECKey, OKPKey, RSAKey
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        if isinstance(key, rsa.RSAPrivateKey):
            k = RSAKey.import_key(pem)
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            k = ECKey.import_key(pem)
        else:
            k = OKPKey.import_key(pem)
        return jjwt.encode({"alg": alg, **headers}, payload, k, algorithms=[alg])
    if lib == "jwcrypto":
        from jwcrypto import jwk, jwt as cjwt
        k = jwk.JWK.from_pyca(key)
        t = cjwt.JWT(header={"alg": alg, **headers}, claims=payload)
        t.make_signed_token(k)
        return t.serialize()
    raise ValueError(lib)


def sign_raw(alg: str, key, signing_input: bytes, ecdsa_der: bool = False) -> bytes:
    """A JWS signature (RFC 7518) made with `cryptography` directly: RSA
    PKCS#1 v1.5 / PSS, ECDSA as fixed-size r||s (or DER when asked), Ed25519."""
    if alg.startswith("RS"):
        return key.sign(signing_input, padding.PKCS1v15(), _HASH[alg[2:]]())
    if alg.startswith("PS"):
        h = _HASH[alg[2:]]()
        return key.sign(signing_input, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if alg.startswith("ES"):
        der = key.sign(signing_input, ec.ECDSA(_HASH[alg[2:]]()))
        if ecdsa_der:
            return der
        r, s = decode_dss_signature(der)
        size = _EC_SIZE[alg]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg == "EdDSA":
        return key.sign(signing_input)
    if alg.startswith("HS"):
        return hmac.new(key, signing_input, getattr(hashlib, "sha" + alg[2:])).digest()
    raise ValueError(alg)


def _segment(part) -> str:
    if isinstance(part, dict):
        part = json.dumps(part, separators=(",", ":"))
    if isinstance(part, str):
        part = part.encode()
    return b64u(part)


def craft(header, payload, key=None, alg: str | None = None, *, sig: bytes | None = None,
          ecdsa_der: bool = False) -> str:
    """A compact JWS with exactly the given header and payload (dict -> JSON,
    str/bytes -> taken verbatim as the JSON text), signed with `key` under
    `alg` (default: the header's alg), or carrying `sig` verbatim."""
    h, p = _segment(header), _segment(payload)
    signing_input = f"{h}.{p}".encode()
    if sig is None:
        if alg is None:
            alg = header["alg"] if isinstance(header, dict) else json.loads(header)["alg"]
        sig = sign_raw(alg, key, signing_input, ecdsa_der=ecdsa_der)
    return f"{h}.{p}.{b64u(sig)}"


def resign(token_text: str, key, alg: str) -> str:
    """Signs exactly the text `h.p` given (possibly malformed base64) and
    appends the signature: only the first two segments are at fault."""
    return token_text + "." + b64u(sign_raw(alg, key, token_text.encode()))


# --------------------------------------------------------------------------
# Assertions on the library's answers
# --------------------------------------------------------------------------

def assert_status(excinfo_or_err, expected: str):
    err = excinfo_or_err.value if hasattr(excinfo_or_err, "value") else excinfo_or_err
    assert err.name == expected, f"expected {expected}, got {err.name}: {err.message}"


def _b64u_decode(segment: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except Exception:
        return None


def token_texts(token) -> list[str]:
    """Every string a token carries in its header and claims: member names and
    string values at any depth; a segment that is not JSON counts as one
    string (its decoded bytes, or its base64url text)."""
    text = token.decode("latin-1") if isinstance(token, bytes) else token
    out: list[str] = []

    def walk(v):
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                out.append(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for segment in text.strip().split(".")[:2]:
        raw = _b64u_decode(segment)
        try:
            walk(json.loads(raw))
        except Exception:
            out.append(raw.decode("latin-1") if raw is not None else segment)
    return out


def _plain_word(window: str) -> bool:
    return all("a" <= c <= "z" or c in " :/." for c in window)


def assert_no_token_text(message: str | None, token) -> None:
    """THE message property of every refusal: a refusal reason is built only
    from static text and the server's own configuration, so it holds no
    control byte and no run of 4 characters taken from any string of the
    token's header or claims. (Runs of plain lowercase letters, spaces and
    ":/." are skipped: the messages are English prose naming claims such as
    "iss", and may quote the server's own URLs, "https://...".) The whole
    token and its segments never appear either."""
    if not message:
        return
    for c in message:
        assert c >= " " and c != "\x7f", f"control byte {ord(c):#04x} in message: {message!r}"
    text = token.decode("latin-1") if isinstance(token, bytes) else token
    for part in [text] + text.strip().split("."):
        if len(part) >= 16:
            assert part not in message, "the message echoes the token"
    for value in token_texts(token):
        for i in range(len(value) - 3):
            w = value[i:i + 4]
            if not _plain_word(w):
                assert w not in message, f"the message repeats token text {w!r}: {message!r}"


# The client every refusal is also exchanged with (registered on first use).
REFUSAL_CLIENT = ("refusal-probe", "probe-Secret-1")
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def exchange_refused(server, token, expected: str | None):
    """jwtgrant_exchange_token with `token` as the assertion of a confidential
    client: refused (status `expected` when given), and the
    error_description holds no token text. Returns (status, body)."""
    from urllib.parse import quote
    cid, secret = REFUSAL_CLIENT
    try:
        server.register_client({"client_id": cid, "client_secret": secret, "grant_types": [GRANT_TYPE]})
    except jwtgrant.JWTGrantError as e:
        assert e.name == "JWTGRANT_EEXISTS", e
    raw = token.encode("utf-8") if isinstance(token, str) else token
    body = f"grant_type={quote(GRANT_TYPE, safe='')}&assertion={quote(raw, safe='')}"
    auth = "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()
    if not raw or len(body) > server.token_body_limit():
        # The form layer refuses a missing assertion or an oversized body
        # before any verification.
        expected = "JWTGRANT_EINVALID_REQUEST"
    rc, http, answer = server.exchange_token(auth, body)
    assert rc != 0 and "access_token" not in answer, "the refused assertion was exchanged"
    if expected is not None:
        assert jwtgrant.status_name(rc) == expected, f"exchange: expected {expected}, got {answer}"
    assert_no_token_text(answer.get("error_description"), token)
    assert_no_token_text(answer.get("error"), token)
    return rc, answer


def assert_rejected(server, token, expected: str, exchange: bool = True):
    """verify_assertion fails with status `expected`, maps to invalid_grant,
    and its message has no token text (`assert_no_token_text`); the same
    token through jwtgrant_exchange_token is refused the same way (unless
    `exchange` is False: a refusal that only verification can see)."""
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        server.verify_assertion(token)
    err = ei.value
    assert err.name == expected, f"expected {expected}, got {err.name}: {err.message}"
    assert err.oauth_error == "invalid_grant"
    assert err.message, "a failure carries a message"
    assert_no_token_text(err.message, token)
    if exchange:
        exchange_refused(server, token, expected)
    return err
