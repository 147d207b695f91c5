"""The C ABI as a careless caller sees it: NULL, empty and malformed arguments.

The C ABI contract (docs/abi.md): "A NULL or malformed argument is an error code, never a crash.
Nothing that a caller can pass makes the process abort." Every test body runs
in a forked child (see `isolated`), so a crash or a trap fails that test with
the signal instead of killing the suite. Pointers the library must overwrite
are pre-filled with a sentinel that is never dereferenced.
"""

import functools
import os
import signal
import traceback

import pytest

import jwtgrant
from jwtgrant import OutInt32, OutPtr, OutStr, Raw
from helpers import T0, claims, craft, issuer_json, private_key

SENTINEL = 0x5EB7  # an address the library must overwrite (never read by us)
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
INT64_MAX = 2 ** 63 - 1
GRANT = jwtgrant.JWT_BEARER_GRANT
TIMEOUT = 60


def isolated(test):
    """Runs the test body in a forked child; a signal (SIGSEGV, SIGILL from a
    Swift trap, SIGABRT, SIGALRM on a hang) fails the test with its name.

    A context belongs to the process that created it (the header's FORK
    rule: the parent's context answers JWTGRANT_EINVAL in a child), so a
    `ctx` fixture is replaced by one made the same way in the child."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(r)
            code = 0
            try:
                signal.alarm(TIMEOUT)
                if "ctx" in kwargs:
                    kwargs["ctx"] = make_ctx(Raw(jwtgrant.load()))
                test(*args, **kwargs)
                msg = b""
            except BaseException:
                msg = traceback.format_exc().encode()
                code = 1
            try:
                while msg:
                    msg = msg[os.write(w, msg):]
            finally:
                os._exit(code)
        os.close(w)
        chunks = []
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            pytest.fail(f"the process died: {signal.Signals(sig).name}"
                        + (" (hang)" if sig == signal.SIGALRM else ""), pytrace=False)
        if chunks or os.WEXITSTATUS(status) != 0:
            pytest.fail(b"".join(chunks).decode(errors="replace"), pytrace=False)

    return run


@pytest.fixture
def raw(lib):
    return Raw(lib)


def make_ctx(raw):
    """A raw jwtgrant_ctx * with the clock pinned."""
    c = raw.ctx_new(None)
    assert raw.call("jwtgrant_ctx_set_time", c, T0, None) == 0
    return c


@pytest.fixture
def ctx(raw):
    """A raw jwtgrant_ctx * with the clock pinned, freed after the test."""
    c = make_ctx(raw)
    yield c
    raw.call("jwtgrant_ctx_free", c)


def short_id(v):
    """Readable ids for long or binary parameters."""
    r = repr(v)
    return r if len(r) <= 24 else f"{r[:16]}...len{len(v)}"


def name(rc):
    return jwtgrant.status_name(rc)


def known_failure(rc):
    """A negative status the library knows (never UNKNOWN, never OK)."""
    assert rc < 0, f"expected a failure, got {rc}"
    assert name(rc) != "JWTGRANT_UNKNOWN", rc


# --- library functions ---------------------------------------------------------------------

def test_version(raw):
    v = raw.call("jwtgrant_version")
    parts = v.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts), v
    x, y, z = map(int, parts)
    assert raw.call("jwtgrant_version_number") == x * 1_000_000 + y * 1_000 + z


def test_status_names_match_the_header(raw):
    for n, code in jwtgrant.STATUS_CODES.items():
        assert raw.call("jwtgrant_status_name", code) == n
    # Append-only and contiguous: 0 .. -33, -29 (EUNAVAILABLE) included.
    assert sorted(jwtgrant.STATUS_CODES.values()) == list(range(-33, 1))


@pytest.mark.parametrize("code", [1, 42, -99, -1000, INT32_MIN, INT32_MAX])
def test_status_name_of_unknown_codes(raw, code):
    assert raw.call("jwtgrant_status_name", code) == "JWTGRANT_UNKNOWN"


def test_oauth_error_mapping(raw):
    assert raw.lib.jwtgrant_oauth_error(0) is None
    for code in range(jwtgrant.EMALFORMED, jwtgrant.EKEY_SOURCE - 1, -1):
        assert jwtgrant.oauth_error(code) == "invalid_grant", name(code)
    assert jwtgrant.oauth_error(jwtgrant.EINVALID_REQUEST) == "invalid_request"
    assert jwtgrant.oauth_error(jwtgrant.EINVALID_CLIENT) == "invalid_client"
    assert jwtgrant.oauth_error(jwtgrant.EUNAUTHORIZED_CLIENT) == "unauthorized_client"
    assert jwtgrant.oauth_error(jwtgrant.EUNSUPPORTED_GRANT) == "unsupported_grant_type"
    assert jwtgrant.oauth_error(jwtgrant.EINVALID_SCOPE) == "invalid_scope"
    assert jwtgrant.oauth_error(jwtgrant.EINVALID_TOKEN) == "invalid_token"
    assert jwtgrant.oauth_error(jwtgrant.EINTERNAL) == "server_error"
    assert jwtgrant.oauth_error(jwtgrant.ENOMEM) == "server_error"
    for code in (INT32_MIN, -1000, 7, INT32_MAX):
        assert isinstance(jwtgrant.oauth_error(code), str)  # never NULL for a failure


@isolated
def test_free_and_ctx_free_accept_null(raw):
    raw.call("jwtgrant_free", None)
    raw.call("jwtgrant_ctx_free", None)


# --- context ---------------------------------------------------------------------------------

@isolated
def test_ctx_new_null_out(raw):
    err = OutStr()
    assert name(raw.call("jwtgrant_ctx_new", None, "{}", err)) == "JWTGRANT_EINVAL"
    assert err.value
    assert name(raw.call("jwtgrant_ctx_new", None, None, None)) == "JWTGRANT_EINVAL"


@isolated
@pytest.mark.parametrize("config", [None, "{}", " { } "])
def test_ctx_new_defaults(raw, config):
    out, err = OutPtr(), OutStr(initial=SENTINEL)
    assert raw.call("jwtgrant_ctx_new", out, config, err) == 0
    assert out.value
    assert not err.untouched and err.value is None, "error_out is set to NULL on success"
    raw.call("jwtgrant_ctx_free", out.value)


@isolated
@pytest.mark.parametrize("config", ["", "{", "[]", "null", "42", '"{}"', b"\xff\xfe", b'{"issuer":"\xff"}',
                                    '{"a":1}', '{"clock_skew":1e400}', '{"clock_skew":9223372036854775808}',
                                    '{"clock_skew":-9223372036854775809}', '{"clock_skew":"x"}',
                                    '{"store":"nosuch://x"}', "{}x",
                                    "[" * 100000 + "]" * 100000,
                                    '{"grant_type":' * 50000 + "1" + "}" * 50000], ids=short_id)
def test_ctx_new_malformed_config(raw, config):
    out, err = OutPtr(), OutStr(initial=SENTINEL)
    out.slot.value = SENTINEL
    rc = raw.call("jwtgrant_ctx_new", out, config, err)
    assert name(rc) in ("JWTGRANT_EINVAL", "JWTGRANT_ESTORE"), name(rc)
    assert out.value is None, "out is NULL on failure"
    assert not err.untouched and err.value, "a failure carries a message"
    assert name(raw.call("jwtgrant_ctx_new", OutPtr(), config, None)) == name(rc)  # error_out optional


@isolated
def test_ctx_set_time(raw, ctx):
    assert name(raw.call("jwtgrant_ctx_set_time", None, T0, None)) == "JWTGRANT_EINVAL"
    err = OutStr()
    assert name(raw.call("jwtgrant_ctx_set_time", None, T0, err)) == "JWTGRANT_EINVAL" and err.value
    assert name(raw.call("jwtgrant_ctx_set_time", ctx, -1, None)) == "JWTGRANT_EINVAL"
    assert name(raw.call("jwtgrant_ctx_set_time", ctx, -(2 ** 63), None)) == "JWTGRANT_EINVAL"
    assert raw.call("jwtgrant_ctx_set_time", ctx, 0, None) == 0
    assert raw.call("jwtgrant_ctx_set_time", ctx, T0, None) == 0


@isolated
@pytest.mark.parametrize("t", [INT64_MAX, INT64_MAX - 1, 2 ** 62, 1])
def test_extreme_clock_does_not_trap(raw, ctx, t):
    """now + clock_skew, exp - now, iat + period: no overflow trap anywhere.
    The issuer's key is a bare public key: a certificate would be refused at
    registration as expired at such a clock (which is checked too)."""
    rc = raw.call("jwtgrant_ctx_set_time", ctx, t, None)
    assert rc in (0, jwtgrant.EINVAL)
    rc = raw.call("jwtgrant_register_issuer", ctx, issuer_json(name="cert"), None)
    assert rc == 0 or name(rc) == "JWTGRANT_EKEY"
    assert raw.call("jwtgrant_remove_issuer", ctx, "cert", None) in (0, jwtgrant.ENOTFOUND)
    assert raw.call("jwtgrant_register_issuer", ctx, issuer_json(fmt="spki_pem"), None) == 0
    tok = craft({"alg": "RS256"}, claims(exp=2 ** 53, iat=1, nbf=0), private_key("rsa2048"))
    rc = raw.call("jwtgrant_verify_assertion", ctx, tok, OutStr(), OutStr())
    assert rc == 0 or name(rc) != "JWTGRANT_UNKNOWN"
    assert raw.call("jwtgrant_register_client", ctx, {"client_id": "c", "client_secret": "s",
                                                      "grant_types": [GRANT]}, None) == 0
    http, out = OutInt32(), OutStr()
    rc = raw.call("jwtgrant_exchange_token", ctx, "Basic YzpzCg==", f"grant_type={GRANT}&assertion={tok}",
                  http, out)
    assert http.value in (200, 400, 401, 500) and out.value


@isolated
@pytest.mark.parametrize("config", [{"clock_skew": INT64_MAX}, {"clock_skew": 2 ** 62},
                                    {"access_token": {"lifetime": INT64_MAX}},
                                    {"grant_type": {"jwt": {"iat_validity_period": INT64_MAX}}}])
def test_extreme_config_numbers_do_not_trap(raw, config):
    out = OutPtr()
    rc = raw.call("jwtgrant_ctx_new", out, config, None)
    if rc != 0:
        assert name(rc) == "JWTGRANT_EINVAL"
        return
    ctx = out.value
    raw.call("jwtgrant_ctx_set_time", ctx, T0, None)
    assert raw.call("jwtgrant_register_issuer", ctx, issuer_json(), None) == 0
    assert raw.call("jwtgrant_register_client", ctx, {"client_id": "c", "client_secret": "s",
                                                      "grant_types": [GRANT]}, None) == 0
    tok = craft({"alg": "RS256"}, claims(exp=T0 - 10 ** 6, iat=T0 - 10 ** 6), private_key("rsa2048"))
    raw.call("jwtgrant_verify_assertion", ctx, tok, OutStr(), OutStr())
    http, resp = OutInt32(), OutStr()
    good = craft({"alg": "RS256"}, claims(), private_key("rsa2048"))
    raw.call("jwtgrant_exchange_token", ctx, "Basic YzpzCg==", f"grant_type={GRANT}&assertion={good}",
             http, resp)
    assert http.value in (200, 400, 401, 500) and resp.value
    raw.call("jwtgrant_ctx_free", ctx)


# --- functions taking a context and a string ------------------------------------------------------

STRING_FUNCS = ["jwtgrant_register_issuer", "jwtgrant_remove_issuer", "jwtgrant_register_client",
                "jwtgrant_remove_client"]
MALFORMED = ["", "{", "[]", "null", b"\xff\xfe\xfd", b'{"name":"\xc3"}', "{}", '{"x":1}',
             "[" * 100000 + "]" * 100000, "{" * 3 + "}" * 3, "A" * (4 << 20)]


@isolated
@pytest.mark.parametrize("fn", STRING_FUNCS)
def test_null_ctx(raw, fn):
    err = OutStr(initial=SENTINEL)
    assert name(raw.call(fn, None, "{}", err)) == "JWTGRANT_EINVAL"
    assert not err.untouched and err.value
    assert name(raw.call(fn, None, None, None)) == "JWTGRANT_EINVAL"


@isolated
@pytest.mark.parametrize("fn", STRING_FUNCS)
def test_null_string(raw, ctx, fn):
    err = OutStr(initial=SENTINEL)
    assert name(raw.call(fn, ctx, None, err)) == "JWTGRANT_EINVAL"
    assert not err.untouched and err.value
    assert name(raw.call(fn, ctx, None, None)) == "JWTGRANT_EINVAL"


@isolated
@pytest.mark.parametrize("fn", ["jwtgrant_register_issuer", "jwtgrant_register_client"])
@pytest.mark.parametrize("i", range(len(MALFORMED)))
def test_malformed_json(raw, ctx, fn, i):
    err = OutStr(initial=SENTINEL)
    rc = raw.call(fn, ctx, MALFORMED[i], err)
    assert name(rc) == "JWTGRANT_EINVAL", name(rc)
    assert not err.untouched and err.value
    assert len(err.value) < 4096, "the message does not echo a huge argument"


@isolated
@pytest.mark.parametrize("arg", ["", "nosuch", b"\xff", "A" * (1 << 20)], ids=short_id)
def test_remove_issuer_unknown_or_malformed(raw, ctx, arg):
    rc = raw.call("jwtgrant_remove_issuer", ctx, arg, None)
    assert name(rc) in ("JWTGRANT_ENOTFOUND", "JWTGRANT_EINVAL")


@isolated
@pytest.mark.parametrize("arg", ["", "nosuch", b"\xff", "A" * (1 << 20)], ids=short_id)
def test_remove_client_unknown_or_malformed(raw, ctx, arg):
    rc = raw.call("jwtgrant_remove_client", ctx, arg, None)
    assert name(rc) in ("JWTGRANT_ENOTFOUND", "JWTGRANT_EINVAL")


@isolated
@pytest.mark.parametrize("cid,secret,grace", [(None, "s", 0), ("app", None, 0), (b"\xff", "s", 0), ("app", b"\xff", 0),
                                              ("app", "", 0), ("app", "s", -1), ("app", "s", -(2**63)),
                                              ("app", "s", 2**63 - 1), ("nosuch", "s", 0),
                                              ("A" * (1 << 20), "s", 0), ("app", "A" * (4 << 20), 2**62)],
                         ids=short_id)
def test_rotate_client_secret_bad_arguments(raw, ctx, cid, secret, grace):
    assert raw.call("jwtgrant_register_client", ctx, {"client_id": "app", "client_secret": "old"}, None) == 0
    err = OutStr(initial=SENTINEL)
    rc = raw.call("jwtgrant_rotate_client_secret", ctx, cid, secret, grace, err)
    assert name(rc) in ("JWTGRANT_ENOTFOUND", "JWTGRANT_EINVAL"), name(rc)
    assert not err.untouched and err.value and len(err.value) < 4096
    assert name(raw.call("jwtgrant_rotate_client_secret", None, "app", "s", 0, None)) == "JWTGRANT_EINVAL"


@isolated
def test_register_issuer_with_null_error_out(raw, ctx):
    assert raw.call("jwtgrant_register_issuer", ctx, issuer_json(), None) == 0
    assert name(raw.call("jwtgrant_register_issuer", ctx, issuer_json(), None)) == "JWTGRANT_EEXISTS"
    assert raw.call("jwtgrant_remove_issuer", ctx, "partner", None) == 0


@isolated
def test_set_log_callback_null_arguments(raw, ctx):
    err = OutStr(initial=SENTINEL)
    assert name(raw.call("jwtgrant_set_log_callback", None, None, None, err)) == "JWTGRANT_EINVAL"
    assert not err.untouched and err.value
    assert name(raw.call("jwtgrant_set_log_callback", None, None, None, None)) == "JWTGRANT_EINVAL"
    # NULL fn on a context without a callback: removing nothing is fine.
    err = OutStr(initial=SENTINEL)
    assert raw.call("jwtgrant_set_log_callback", ctx, None, None, err) == 0
    assert not err.untouched and err.value is None


# --- functions with an output string --------------------------------------------------------------

@isolated
@pytest.mark.parametrize("fn", ["jwtgrant_list_issuers", "jwtgrant_jwks", "jwtgrant_stats",
                                "jwtgrant_list_clients"])
def test_out_only_functions(raw, ctx, fn):
    out, err = OutStr(initial=SENTINEL), OutStr(initial=SENTINEL)
    assert name(raw.call(fn, None, out, err)) == "JWTGRANT_EINVAL"
    assert not err.untouched and err.value
    err = OutStr()
    assert name(raw.call(fn, ctx, None, err)) == "JWTGRANT_EINVAL" and err.value
    assert name(raw.call(fn, ctx, None, None)) == "JWTGRANT_EINVAL"
    out, err = OutStr(initial=SENTINEL), OutStr(initial=SENTINEL)
    assert raw.call(fn, ctx, out, err) == 0
    assert out.value and not err.untouched and err.value is None
    assert raw.call(fn, ctx, OutStr(), None) == 0


@isolated
@pytest.mark.parametrize("fn", ["jwtgrant_verify_assertion", "jwtgrant_verify_access_token"])
def test_verify_functions_null_arguments(raw, ctx, fn):
    tok = craft({"alg": "RS256"}, claims(), private_key("rsa2048"))
    err = OutStr(initial=SENTINEL)
    assert name(raw.call(fn, None, tok, OutStr(), err)) == "JWTGRANT_EINVAL"
    assert not err.untouched and err.value
    assert name(raw.call(fn, ctx, None, OutStr(), OutStr())) == "JWTGRANT_EINVAL"
    assert name(raw.call(fn, None, None, None, None)) == "JWTGRANT_EINVAL"
    known_failure(raw.call(fn, ctx, tok, None, None))  # no issuer registered, no out slot


@isolated
@pytest.mark.parametrize("fn", ["jwtgrant_verify_assertion", "jwtgrant_verify_access_token"])
@pytest.mark.parametrize("tok", ["", ".", "..", "a.b.c", b"\xff.\xfe.\xfd", "\x01\x02", "." * 100000,
                                 "A" * (4 << 20), "eyJ.eyJ.AAAA", "e30.e30.", "e30.e30.e30.e30.e30"], ids=short_id)
def test_verify_functions_malformed_tokens(raw, ctx, fn, tok):
    raw.call("jwtgrant_register_issuer", ctx, issuer_json(), None)
    out, err = OutStr(initial=SENTINEL), OutStr(initial=SENTINEL)
    known_failure(raw.call(fn, ctx, tok, out, err))
    assert not out.untouched and out.value is None, "claims_json_out is NULL on failure"
    assert not err.untouched and err.value and len(err.value) < 4096


# --- the token endpoint -----------------------------------------------------------------------------

@isolated
def test_exchange_null_ctx(raw):
    http, out = OutInt32(), OutStr(initial=SENTINEL)
    rc = raw.call("jwtgrant_exchange_token", None, None, "grant_type=x", http, out)
    assert name(rc) == "JWTGRANT_EINVAL"
    assert http.value in (400, 500), "http_status_out is always set"
    assert not out.untouched and out.value and "error" in out.value


@isolated
@pytest.mark.parametrize("auth", [None, "", "Basic", "Basic ====", "Basic \xff", b"Basic \xff\xfe",
                                  "Basic " + "A" * (1 << 20), "\r\n", "Basic YTpi\r\nX: y"], ids=short_id)
@pytest.mark.parametrize("body", [None, "", "&&&", "%", "%zz=1", b"\xff=\xfe", "a=" + "%41" * 100000,
                                  "a&" * 100000, "=" * 1000], ids=short_id)
def test_exchange_malformed_requests(raw, ctx, auth, body):
    http, out = OutInt32(), OutStr(initial=SENTINEL)
    rc = raw.call("jwtgrant_exchange_token", ctx, auth, body, http, out)
    known_failure(rc)
    assert http.value in (400, 401), http.value
    assert not out.untouched and out.value
    import json
    resp = json.loads(out.value)
    assert resp["error"] == jwtgrant.oauth_error(rc)


@isolated
def test_exchange_null_out_parameters(raw, ctx):
    body = f"grant_type={GRANT}&assertion=abc"
    known_failure(raw.call("jwtgrant_exchange_token", ctx, None, body, None, None))
    http = OutInt32()
    known_failure(raw.call("jwtgrant_exchange_token", ctx, None, body, http, None))
    assert http.value == 401  # response_json_out may be NULL; the status is still set
    out = OutStr()
    known_failure(raw.call("jwtgrant_exchange_token", ctx, None, body, None, out))
