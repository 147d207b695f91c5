"""The jansson variants (jwtgrant_verify_assertion_json,
jwtgrant_verify_access_token_json): a new json_t reference with the same
claims as the string forms, released with json_decref; NULL handling."""

import ctypes
import ctypes.util
import json

import pytest

import jwtgrant
from helpers import claims, issuer_json, mint, private_key
from test_exchange import CLIENT_ID, CLIENT_SECRET, GRANT, basic, curl_body

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

RSA = private_key("rsa2048")


@pytest.fixture(scope="module")
def jansson():
    j = ctypes.CDLL(ctypes.util.find_library("jansson") or "libjansson.so.4")
    j.json_dumps.restype = ctypes.c_void_p
    j.json_dumps.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    j.json_delete.argtypes = [ctypes.c_void_p]
    return j


def json_text(jansson, ptr: int) -> dict:
    p = jansson.json_dumps(ctypes.c_void_p(ptr), 0)
    try:
        return json.loads(ctypes.string_at(p).decode())
    finally:
        ctypes.CDLL(None).free(ctypes.c_void_p(p))


def decref(ptr: int) -> None:
    # json_decref is an inline function: the refcount is the second field of json_t
    # (after the type enum); libjansson exports json_delete for the final release.
    class JsonT(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("refcount", ctypes.c_size_t)]
    v = JsonT.from_address(ptr)
    v.refcount -= 1
    if v.refcount == 0:
        ctypes.CDLL(ctypes.util.find_library("jansson") or "libjansson.so.4").json_delete(ctypes.c_void_p(ptr))


def call_json(lib, name, ctx, text):
    fn = getattr(lib, name)
    out, err = ctypes.c_void_p(1), ctypes.c_void_p()
    rc = fn(ctx, None if text is None else text.encode(), ctypes.byref(out), ctypes.byref(err))
    message = lib.take_string(err)
    return rc, out.value, message


def test_verify_assertion_json_matches_the_string_form(make_server, jansson):
    s = make_server()
    s.register_issuer(issuer_json())
    token = mint("pyjwt", "RS256", RSA, claims())
    rc, ptr, message = call_json(s._lib, "jwtgrant_verify_assertion_json", s.handle, token)
    assert rc == 0 and message is None and ptr
    try:
        assert json_text(jansson, ptr) == s.verify_assertion(token)
    finally:
        decref(ptr)


def test_verify_access_token_json(make_server, jansson):
    s = make_server()
    s.register_issuer(issuer_json())
    s.register_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_types": [GRANT]})
    body = curl_body(("grant_type", GRANT), ("assertion", mint("pyjwt", "RS256", RSA, claims())))
    rc, http, response = s.exchange_token(basic(), body)
    assert (rc, http) == (0, 200)
    rc, ptr, _ = call_json(s._lib, "jwtgrant_verify_access_token_json", s.handle, response["access_token"])
    assert rc == 0 and ptr
    try:
        got = json_text(jansson, ptr)
        assert got == s.verify_access_token(response["access_token"])
        assert got["client_id"] == CLIENT_ID
    finally:
        decref(ptr)


@pytest.mark.parametrize("name", ["jwtgrant_verify_assertion_json", "jwtgrant_verify_access_token_json"])
def test_json_variants_refuse_null_and_garbage(make_server, name):
    s = make_server()
    rc, ptr, _ = call_json(s._lib, name, None, "a.b.c")
    assert jwtgrant.status_name(rc) == "JWTGRANT_EINVAL" and ptr is None
    rc, ptr, _ = call_json(s._lib, name, s.handle, None)
    assert jwtgrant.status_name(rc) == "JWTGRANT_EINVAL" and ptr is None
    rc, ptr, message = call_json(s._lib, name, s.handle, "a.b.c")
    assert rc < 0 and ptr is None and message
