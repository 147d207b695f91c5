"""Writes the seed inputs of Tests/Fuzz/FuzzTarget.swift into the folder
named on the command line: one or more valid documents per target, so the
fuzzer starts from inputs that reach deep into each parser."""
import base64
import datetime
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
T0 = 1750000000                 # the fixture's clock


def write(name, target, data: bytes):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([target]) + data)


def b64u(b: bytes) -> bytes:
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def int_b64u(i: int) -> str:
    return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big")).decode()


header = json.dumps({"alg": "EdDSA", "typ": "JWT"}).encode()
claims = {"iss": "https://fuzz.example.com", "sub": "alice@example.com",
          "aud": "https://localhost:9443/oauth2/token", "iat": T0 - 10, "exp": T0 + 300,
          "nbf": T0 - 20, "jti": "j1"}
payload = json.dumps(claims).encode()

# 0: a token as is; 1: header and payload to be signed.
write("0_eddsa", 0, b64u(header) + b"." + b64u(payload) + b"." + b64u(os.urandom(64)))
write("0_rs256", 0, b64u(b'{"alg":"RS256","kid":"k"}') + b"." + b64u(payload) + b"." + b64u(os.urandom(256)))
write("1_valid", 1, header + b"\n" + payload)
write("1_aud_array", 1, header + b"\n" + json.dumps(dict(claims, aud=["https://alias.example.com", "x"])).encode())
write("1_crit", 1, json.dumps({"alg": "EdDSA", "crit": ["b64"], "b64": False}).encode() + b"\n" + payload)

# 2: issuer registrations, every key format.
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz-idp")])
start = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256()))
pem = cert.public_bytes(serialization.Encoding.PEM).decode()
der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
spki = key.public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()
rsa_pub = key.public_key().public_numbers()
ec_pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
jwks = {"keys": [
    {"kty": "RSA", "n": int_b64u(rsa_pub.n), "e": int_b64u(rsa_pub.e), "kid": "r1", "alg": "RS256", "use": "sig"},
    {"kty": "EC", "crv": "P-256", "x": int_b64u(ec_pub.x), "y": int_b64u(ec_pub.y), "kid": "e1"},
    {"kty": "OKP", "crv": "Ed25519", "x": b64u(os.urandom(32)).decode(), "kid": "o1"},
]}
base = {"name": "a", "issuer": "https://a.example.com"}
write("2_cert_pem", 2, json.dumps(dict(base, certificate=pem)).encode())
write("2_cert_der", 2, json.dumps(dict(base, certificate=der)).encode())
write("2_spki", 2, json.dumps(dict(base, alias="https://b.example.com", certificate=spki)).encode())
write("2_jwks", 2, json.dumps(dict(base, jwks=jwks)).encode())
write("2_jwks_uri", 2, json.dumps(dict(base, jwks_uri="https://idp.example.com/jwks")).encode())

# 3: the token endpoint: Authorization header, newline, form body.
token = b64u(header) + b"." + b64u(payload) + b"." + b64u(os.urandom(64))
write("3_request", 3, b"Basic " + base64.b64encode(b"app:secret-secret") +
      b"\ngrant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + token + b"&scope=a+b")

# 4: a server configuration with every field.
write("4_config", 4, json.dumps({
    "issuer": "https://x.example.com", "token_endpoint": "https://y.example.com", "clock_skew": 5,
    "jwks_endpoint": {"connection_timeout": 100, "read_timeout": 100, "size_limit_bytes": 1000},
    "grant_type": {"jwt": {"enable_iat_validation": True, "iat_validity_period": 10, "enable_jwt_cache": True}},
    "access_token": {"lifetime": 60, "algorithm": "EdDSA"}, "store": "memory", "max_assertion_size": 2048,
}).encode())

# 5: a JWKS document handed in.
write("5_jwks", 5, json.dumps(jwks).encode())

# 6: JSON documents for the differential target (simdjson vs jansson).
write("6_header", 6, header)
write("6_claims", 6, payload)
write("6_aud_array", 6, json.dumps(dict(claims, aud=["a", "b"], nested={"x": [1, 2.5, None, True]})).encode())
write("6_escapes", 6, b'{"s":"\\u00e9\\ud83d\\ude00\\n","i":-9223372036854775808,"r":-0.0,"big":1e308}')
write("6_edges", 6, b'{"a":9223372036854775807,"b":[[[[1]]]],"c":{"d":{"e":"f"}}}')
