"""Issuer key files (certificate_file, jwks_file), refusal of an expired
certificate at registration, and the key details of list_issuers, checked
against an independent RFC 7638 implementation (jwcrypto)."""
import datetime
import json
import os

import jwcrypto.jwk
import pytest
from cryptography.hazmat.primitives import serialization

import jwtgrant
from helpers import (ISS, T0, assert_status, cert_pem, certificate, claims, craft, private_key,
                     public_jwk)


def thumbprint_of(kind, n=0):
    pem = private_key(kind, n).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return jwcrypto.jwk.JWK.from_pem(pem).thumbprint()


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "p384", "ed25519"])
def test_certificate_file_registers_and_lists_key_details(make_server, tmp_path, kind):
    s = make_server()
    path = tmp_path / "issuer.pem"
    path.write_text(cert_pem(kind, 3))
    s.register_issuer({"name": "partner", "issuer": ISS, "certificate_file": str(path)})
    [entry] = s.list_issuers()
    [detail] = entry["key_details"]
    cert = certificate(kind, 3)
    assert detail["thumbprint"] == thumbprint_of(kind, 3)
    assert detail["kty"] == {"rsa2048": "RSA", "p256": "EC", "p384": "EC", "ed25519": "OKP"}[kind]
    assert detail["kid"] is None
    assert detail["not_before"] == rfc3339(cert.not_valid_before_utc)
    assert detail["not_after"] == rfc3339(cert.not_valid_after_utc)
    assert detail["expired"] is False
    alg = {"rsa2048": "RS256", "p256": "ES256", "p384": "ES384", "ed25519": "EdDSA"}[kind]
    assert s.verify_assertion(craft({"alg": alg}, claims(), private_key(kind, 3)))


def test_certificate_file_binary_der(make_server, tmp_path):
    s = make_server()
    path = tmp_path / "issuer.der"
    path.write_bytes(certificate("p256", 4).public_bytes(serialization.Encoding.DER))
    s.register_issuer({"name": "partner", "issuer": ISS, "certificate_file": str(path)})
    assert s.list_issuers()[0]["key_details"][0]["thumbprint"] == thumbprint_of("p256", 4)


def test_jwks_file_lists_kid_and_thumbprint(make_server, tmp_path):
    s = make_server()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk("rsa2048", 2, kid="r1"), public_jwk("ed25519", 2, kid="o1")]}))
    s.register_issuer({"name": "partner", "issuer": ISS, "jwks_file": str(path)})
    details = {d["kid"]: d for d in s.list_issuers()[0]["key_details"]}
    assert details["r1"]["thumbprint"] == thumbprint_of("rsa2048", 2)
    assert details["o1"]["thumbprint"] == thumbprint_of("ed25519", 2)
    assert details["r1"]["not_after"] is None and "expired" not in details["r1"]
    assert s.verify_assertion(craft({"alg": "RS256", "kid": "r1"}, claims(), private_key("rsa2048", 2)))


def _refused(s, entry, status):
    with pytest.raises(jwtgrant.JWTGrantError) as ei:
        s.register_issuer(entry)
    assert_status(ei, status)
    assert s.list_issuers() == []
    return ei.value.message


def test_key_file_errors_name_the_path_never_the_content(make_server, tmp_path):
    s = make_server()
    missing = tmp_path / "missing.pem"
    m = _refused(s, {"name": "p", "issuer": ISS, "certificate_file": str(missing)}, "JWTGRANT_EINVAL")
    assert str(missing) in m and "cannot be opened" in m
    assert "not a regular file" in _refused(
        s, {"name": "p", "issuer": ISS, "certificate_file": str(tmp_path)}, "JWTGRANT_EINVAL")
    big = tmp_path / "big.pem"
    big.write_bytes(b"A" * (1 << 20) + b"A")
    assert "larger than 1048576 bytes" in _refused(
        s, {"name": "p", "issuer": ISS, "certificate_file": str(big)}, "JWTGRANT_EINVAL")
    unreadable = tmp_path / "unreadable.pem"
    unreadable.write_text(cert_pem("p256"))
    os.chmod(unreadable, 0)
    if os.geteuid() != 0:  # root reads any file
        _refused(s, {"name": "p", "issuer": ISS, "certificate_file": str(unreadable)}, "JWTGRANT_EINVAL")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _refused(s, {"name": "p", "issuer": ISS, "jwks_file": str(fifo)}, "JWTGRANT_EINVAL")
    secret = tmp_path / "secret.json"
    secret.write_text('{"keys": [{"kty": "RSA", "n": "SECRETCONTENT", "e": ')
    m = _refused(s, {"name": "p", "issuer": ISS, "jwks_file": str(secret)}, "JWTGRANT_EKEY")
    assert "SECRETCONTENT" not in m
    m = _refused(s, {"name": "p", "issuer": ISS, "certificate_file": str(secret)}, "JWTGRANT_EKEY")
    assert "SECRETCONTENT" not in m
    _refused(s, {"name": "p", "issuer": ISS, "certificate_file": str(big), "certificate": cert_pem("p256")},
             "JWTGRANT_EINVAL")


def test_expired_certificate_is_refused_with_its_not_after_date(make_server, tmp_path):
    s = make_server()
    expired = certificate("rsa2048", 7, "expired")
    m = _refused(s, {"name": "old", "issuer": ISS, "certificate": cert_pem("rsa2048", 7, "expired")},
                 "JWTGRANT_EKEY")
    assert rfc3339(expired.not_valid_after_utc) in m and "notAfter" in m
    path = tmp_path / "old.pem"
    path.write_text(cert_pem("rsa2048", 7, "expired"))
    _refused(s, {"name": "old", "issuer": ISS, "certificate_file": str(path)}, "JWTGRANT_EKEY")
    # A certificate that is valid by the context's clock registers, and the
    # listing says when it has expired since.
    ok = make_server(t=T0)
    ok.register_issuer({"name": "cur", "issuer": ISS, "certificate": cert_pem("rsa2048", 8)})
    not_after = certificate("rsa2048", 8).not_valid_after_utc.timestamp()
    ok.set_time(int(not_after) + 1)
    assert ok.list_issuers()[0]["key_details"][0]["expired"] is True


def test_bundle_with_an_expired_certificate_lists_it_as_expired(make_server):
    s = make_server()
    s.register_issuer({"name": "rot", "issuer": ISS,
                       "certificate": cert_pem("rsa2048", 5, "expired") + cert_pem("rsa2048", 6)})
    details = s.list_issuers()[0]["key_details"]
    assert [d["expired"] for d in details] == [True, False]
    assert [d["thumbprint"] for d in details] == [thumbprint_of("rsa2048", 5), thumbprint_of("rsa2048", 6)]
