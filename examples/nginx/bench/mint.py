#!/usr/bin/env python3
"""Writes a load-test set into OUTDIR: idp.json (a trusted issuer with a P-256
certificate), app.json (a client), server.json (the configuration, with a
signing key and STORE) and assertions.txt (N distinct ES256 assertions, one
per line, minted with PyJWT and valid for an hour).
Usage: mint.py OUTDIR N [STORE]"""
import datetime
import json
import multiprocessing
import pathlib
import sys
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ISS = "https://idp.example.com/oauth2/token"
AUD = "https://localhost:9443/oauth2/token"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def mint(args):
    key_pem, start, count = args
    key = serialization.load_pem_private_key(key_pem, None)
    now = int(time.time())
    return [jwt.encode({"iss": ISS, "sub": f"user{i}@example.com", "aud": AUD, "iat": now,
                        "exp": now + 3600, "jti": str(uuid.uuid4())}, key, algorithm="ES256")
            for i in range(start, start + count)]


def main():
    out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    store = sys.argv[3] if len(sys.argv) > 3 else "memory"
    out.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-idp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (out / "idp.json").write_text(json.dumps({"name": "bench-idp", "issuer": ISS, "certificate":
                                              cert.public_bytes(serialization.Encoding.PEM).decode()}))
    (out / "app.json").write_text(json.dumps({"client_id": "bench-app", "client_secret": "bench-secret",
                                              "grant_types": [GRANT]}))
    (out / "server.json").write_text(json.dumps({
        "issuer": AUD, "store": store,
        "access_token": {"signing_key": pem(ec.generate_private_key(ec.SECP256R1())).decode()}}))
    parts = 8
    jobs = [(pem(key), i * (n // parts), n // parts + (n % parts if i == parts - 1 else 0)) for i in range(parts)]
    with multiprocessing.Pool() as pool:
        lines = [a for chunk in pool.map(mint, jobs) for a in chunk]
    (out / "assertions.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
