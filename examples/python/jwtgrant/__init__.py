"""Python ctypes binding of libjwtgrant (include/jwtgrant.h).

libjwtgrant is an embeddable OAuth 2.0 JWT Bearer grant (RFC 7523)
authorization server with a plain C ABI. This module wraps every function of
the header, with no dependency beyond the standard library.

Install it with ``pip install examples/python`` (a package with type hints,
standard library only). Finding the library, in order:

1. the ``JWTGRANT_LIB`` environment variable (path to ``libjwtgrant.so``);
2. the system's dynamic loader: ``libjwtgrant.so.1`` as ``dlopen`` finds it
   (``LD_LIBRARY_PATH``, the ``ldconfig`` cache after ``scripts/install``
   to a system prefix, the default directories);
3. ``ctypes.util.find_library("jwtgrant")``.

Usage::

    import jwtgrant

    with jwtgrant.Server({"clock_skew": 30}) as server:
        server.register_issuer({
            "name": "partner",
            "issuer": "https://third-party-token-issuers.io/oauth2/token",
            "certificate_file": "/etc/jwtgrant/partner.pem",   # or "certificate": PEM text
        })
        server.log_to_logging()            # audit events to the "jwtgrant" logger
        server.register_client({
            "client_id": "app", "client_secret": "s3cret",
            "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        })
        claims = server.verify_assertion(assertion)      # raises JWTGrantError
        status, http_status, body = server.exchange_token(
            "Basic " + base64.b64encode(b"app:s3cret").decode(),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
            "&assertion=" + assertion)
        print(http_status, body["access_token"])

Audit trail: :meth:`Server.log_to_logging` forwards every exchange,
verification and JWKS fetch event to :mod:`logging` (ERROR, WARNING, INFO);
:meth:`Server.set_log_callback` takes any ``fn(level, event)``;
:meth:`Server.stats` returns the counters of ``jwtgrant_stats``.

``exchange_token`` returns a :class:`TokenResponse` (a named tuple
``status, http_status, body``). Errors raise :class:`JWTGrantError` with
``.status`` (the negative C code),
``.name`` (``"JWTGRANT_EEXPIRED"``), ``.oauth_error`` (``"invalid_grant"``)
and ``.message`` (the library's text, which never contains the token).

Memory follows the library's rule: every
string the library hands out is declared ``c_void_p``, copied with
``ctypes.string_at`` and released with ``jwtgrant_free`` at once, so no
library memory outlives a call.

JWKS endpoints. An issuer registered with ``"jwks_uri"`` gets its keys from
that URL; by default the library fetches it with libcurl (https, or http to
a loopback host; see the header section "JWKS endpoints: host-side
fetching"). ``list_issuers()`` shows, for such an issuer, ``key_ids``,
``last_fetch``, ``last_error``, ``fetch_count``, ``expires_in`` and
``stale``. A host may do the fetching itself::

    def fetch(issuer_name, url, timeout_ms, size_limit):
        r = requests.get(url, timeout=timeout_ms / 1000)   # any HTTP client
        return r.status_code, r.content, 300               # status, body, max-age (-1: none)
        # or: return jwtgrant.PENDING, and later
        #     server.issuer_set_jwks(issuer_name, document)
        # or: raise / return "reason": the fetch failed with that reason

    server.set_jwks_fetcher(fetch)      # None: back to libcurl
    server.issuer_set_jwks("partner", {"keys": [...]}, max_age=600)

``set_jwks_fetcher`` keeps the C callback alive on the Server (a collected
ctypes callback crashes the process when the library calls it). The fetch
function runs on the verifying thread or on a library thread, possibly on
several at once (never twice at once for one issuer); it must not call
``verify_assertion`` / ``exchange_token`` of the same Server. An exception
it raises does not escape into C: it becomes the fetch's failure reason
(``last_error``). ``issuer_set_jwks`` also replaces the keys of an issuer
registered with an inline ``"jwks"``; for a ``"certificate"`` issuer it
raises ``JWTGRANT_EINVAL``, for an unknown name ``JWTGRANT_ENOTFOUND``.

A Server belongs to the process that created it: after ``os.fork()`` the
child creates its own (the parent's raises ``JWTGRANT_EINVAL`` there; see
THREAD SAFETY in the header).

For tests of the C ABI itself, :class:`Raw` calls any function with any
argument, including NULL (``None``) for inputs, outputs and the context::

    raw = jwtgrant.Raw()
    err = jwtgrant.OutStr()
    rc = raw.call("jwtgrant_register_issuer", None, None, err)
    assert jwtgrant.status_name(rc) == "JWTGRANT_EINVAL" and err.value
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import threading
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Union

__all__ = [
    "__version__", "JWTGrantError", "Library", "Server", "TokenResponse", "Raw", "OutStr", "OutPtr", "OutInt32",
    "load", "version", "version_number", "status_name", "oauth_error",
    "JWT_BEARER_GRANT", "STATUS_CODES", "PENDING", "JWKS_FETCH_PENDING", "JWKS_FETCH_FN",
    "LOG_FN", "LOG_ERROR", "LOG_WARNING", "LOG_INFO", "LOGGER_NAME",
]

# The version of this binding: the header's JWTGRANT_VERSION_STRING it was
# written for (pyproject.toml reads it from here).
__version__ = "1.0.0"

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

# The status codes of include/jwtgrant.h (append-only there, mirrored here).
STATUS_CODES = {
    "JWTGRANT_OK": 0,
    "JWTGRANT_EINVAL": -1,
    "JWTGRANT_ENOMEM": -2,
    "JWTGRANT_EINTERNAL": -3,
    "JWTGRANT_EEXISTS": -4,
    "JWTGRANT_ENOTFOUND": -5,
    "JWTGRANT_EKEY": -6,
    "JWTGRANT_ESTORE": -7,
    "JWTGRANT_EMALFORMED": -8,
    "JWTGRANT_EALGORITHM": -9,
    "JWTGRANT_EHEADER": -10,
    "JWTGRANT_EUNTRUSTED_ISSUER": -11,
    "JWTGRANT_EKEY_NOT_FOUND": -12,
    "JWTGRANT_ESIGNATURE": -13,
    "JWTGRANT_EEXPIRED": -14,
    "JWTGRANT_ENOT_YET_VALID": -15,
    "JWTGRANT_EIAT_TOO_OLD": -16,
    "JWTGRANT_EIAT_FUTURE": -17,
    "JWTGRANT_EAUDIENCE": -18,
    "JWTGRANT_ECLAIM": -19,
    "JWTGRANT_EREPLAY": -20,
    "JWTGRANT_EKEY_SOURCE": -21,
    "JWTGRANT_EINVALID_REQUEST": -22,
    "JWTGRANT_EINVALID_CLIENT": -23,
    "JWTGRANT_EUNAUTHORIZED_CLIENT": -24,
    "JWTGRANT_EUNSUPPORTED_GRANT": -25,
    "JWTGRANT_EINVALID_SCOPE": -26,
    "JWTGRANT_EINVALID_TOKEN": -27,
    "JWTGRANT_EASSERTION_LIFETIME": -28,
    "JWTGRANT_EUNAVAILABLE": -29,
    "JWTGRANT_ESUBJECT_NOT_ALLOWED": -30,
    "JWTGRANT_ECLIENT_NOT_ALLOWED": -31,
    "JWTGRANT_EISSUER_EXPIRED": -32,
    "JWTGRANT_EJTI_REQUIRED": -33,
}
# Module constants OK, EINVAL, ... as in C without the prefix.
globals().update({k[len("JWTGRANT_"):]: v for k, v in STATUS_CODES.items()})
__all__ += [k[len("JWTGRANT_"):] for k in STATUS_CODES]

_c_char_pp = ctypes.POINTER(ctypes.c_void_p)   # char ** (read as void *)
_ctx_pp = ctypes.POINTER(ctypes.c_void_p)      # jwtgrant_ctx **

# What the binding's fetch trampoline returns for a failed fetch (any negative
# value means "failed" to the library).
_FETCH_FAILED = STATUS_CODES["JWTGRANT_EKEY_SOURCE"]

# JWTGRANT_JWKS_FETCH_PENDING: a fetch function started the fetch and will
# hand the document in later with jwtgrant_issuer_set_jwks (not a status code).
JWKS_FETCH_PENDING = 1
PENDING = JWKS_FETCH_PENDING

# jwtgrant_jwks_fetch_fn: int32_t (*)(void *user_data, const char *issuer_name,
#     const char *url, int32_t timeout_ms, int32_t size_limit_bytes,
#     jwtgrant_jwks_sink *sink)
JWKS_FETCH_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_char_p,
                                 ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32,
                                 ctypes.c_void_p)


# jwtgrant_log_fn: void (*)(void *user_data, int32_t level, const char *event_json)
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p)

# Event levels (syslog severities) and the logging levels they map to.
LOG_ERROR, LOG_WARNING, LOG_INFO = 3, 4, 6
_LOGGING_LEVELS = {LOG_ERROR: logging.ERROR, LOG_WARNING: logging.WARNING, LOG_INFO: logging.INFO}

# The logger Server.log_to_logging() uses by default.
LOGGER_NAME = "jwtgrant"


def _int32(v: int) -> int:
    """Clamps to int32_t (ctypes would wrap a bigger value silently)."""
    return max(-(2 ** 31), min(int(v), 2 ** 31 - 1))


class _LogFnArg:
    """Argument type of a jwtgrant_log_fn parameter: a LOG_FN, or None for NULL."""

    @classmethod
    def from_param(cls, value):
        if value is None:
            return ctypes.c_void_p(None)
        if isinstance(value, LOG_FN):
            return value
        raise TypeError(f"expected a LOG_FN or None, not {type(value).__name__}")


class _FetchFnArg:
    """Argument type of a jwtgrant_jwks_fetch_fn parameter: a JWKS_FETCH_FN,
    or None for NULL (ctypes refuses None for a CFUNCTYPE argtype)."""

    @classmethod
    def from_param(cls, value):
        if value is None:
            return ctypes.c_void_p(None)
        if isinstance(value, JWKS_FETCH_FN):
            return value
        raise TypeError(f"expected a JWKS_FETCH_FN or None, not {type(value).__name__}")


# Every function of include/jwtgrant.h: name -> (restype, argtypes).
_PROTOTYPES = {
    "jwtgrant_version": (ctypes.c_char_p, []),          # static
    "jwtgrant_version_number": (ctypes.c_int32, []),
    "jwtgrant_status_name": (ctypes.c_char_p, [ctypes.c_int32]),   # static
    "jwtgrant_oauth_error": (ctypes.c_char_p, [ctypes.c_int32]),   # static
    "jwtgrant_free": (None, [ctypes.c_void_p]),
    "jwtgrant_ctx_new": (ctypes.c_int32, [_ctx_pp, ctypes.c_char_p, _c_char_pp]),
    "jwtgrant_ctx_free": (None, [ctypes.c_void_p]),
    "jwtgrant_ctx_set_time": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int64, _c_char_pp]),
    "jwtgrant_register_issuer": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, _c_char_pp]),
    "jwtgrant_remove_issuer": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, _c_char_pp]),
    "jwtgrant_list_issuers": (ctypes.c_int32, [ctypes.c_void_p, _c_char_pp, _c_char_pp]),
    "jwtgrant_register_client": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, _c_char_pp]),
    "jwtgrant_remove_client": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, _c_char_pp]),
    "jwtgrant_list_clients": (ctypes.c_int32, [ctypes.c_void_p, _c_char_pp, _c_char_pp]),
    "jwtgrant_rotate_client_secret": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                                       ctypes.c_int64, _c_char_pp]),
    "jwtgrant_verify_assertion": (ctypes.c_int32,
                                  [ctypes.c_void_p, ctypes.c_char_p, _c_char_pp, _c_char_pp]),
    "jwtgrant_exchange_token": (ctypes.c_int32,
                                [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                 ctypes.POINTER(ctypes.c_int32), _c_char_pp]),
    "jwtgrant_token_body_limit": (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), _c_char_pp]),
    "jwtgrant_jwks": (ctypes.c_int32, [ctypes.c_void_p, _c_char_pp, _c_char_pp]),
    "jwtgrant_verify_access_token": (ctypes.c_int32,
                                     [ctypes.c_void_p, ctypes.c_char_p, _c_char_pp, _c_char_pp]),
    # jansson variants: json_t ** out (a new reference; for C callers, tested here raw).
    "jwtgrant_verify_assertion_json": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p,
                                                        ctypes.POINTER(ctypes.c_void_p), _c_char_pp]),
    "jwtgrant_verify_access_token_json": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p,
                                                           ctypes.POINTER(ctypes.c_void_p), _c_char_pp]),
    # JWKS endpoints: host-side fetching.
    "jwtgrant_set_jwks_fetcher": (ctypes.c_int32,
                                  [ctypes.c_void_p, _FetchFnArg, ctypes.c_void_p, _c_char_pp]),
    "jwtgrant_jwks_fetch_result": (ctypes.c_int32,
                                   [ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p,
                                    ctypes.c_size_t, ctypes.c_int32]),
    "jwtgrant_jwks_fetch_error": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p]),
    "jwtgrant_issuer_set_jwks": (ctypes.c_int32,
                                 [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                  ctypes.c_int32, _c_char_pp]),
    # Audit trail and counters.
    "jwtgrant_set_log_callback": (ctypes.c_int32, [ctypes.c_void_p, _LogFnArg, ctypes.c_void_p, _c_char_pp]),
    "jwtgrant_stats": (ctypes.c_int32, [ctypes.c_void_p, _c_char_pp, _c_char_pp]),
}


def _candidates() -> List[str]:
    """JWTGRANT_LIB alone when it is set; otherwise the SONAME, which the
    system's loader resolves (LD_LIBRARY_PATH, ld.so.cache, default
    directories), then what ctypes.util.find_library reports."""
    env = os.environ.get("JWTGRANT_LIB")
    if env:
        return [env]
    found = ["libjwtgrant.so.1"]
    name = ctypes.util.find_library("jwtgrant")
    if name and name not in found:
        found.append(name)
    return found


class Library:
    """The loaded shared library with every prototype declared.

    A function the loaded build does not export raises
    :class:`NotImplementedError` when called, not at load time, so a partial
    build still serves the functions it has.
    """

    def __init__(self, path: Optional[str] = None):
        paths = [path] if path else _candidates()
        if not paths:
            raise OSError("libjwtgrant not found: set JWTGRANT_LIB to the path of libjwtgrant.so")
        errors = []
        for p in paths:
            try:
                self.cdll = ctypes.CDLL(p)
                self.path = p
                break
            except OSError as e:
                errors.append(f"{p}: {e}")
        else:
            raise OSError("cannot load libjwtgrant (set JWTGRANT_LIB to the path of libjwtgrant.so, "
                          "or install it where the loader finds it): " + "; ".join(errors))
        self.missing = []
        for name, (restype, argtypes) in _PROTOTYPES.items():
            try:
                fn = getattr(self.cdll, name)
            except AttributeError:
                self.missing.append(name)
                continue
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)

    def __getattr__(self, name: str):
        # Only reached for names not set in __init__.
        if name in _PROTOTYPES:
            raise NotImplementedError(f"{self.__dict__.get('path')} does not export {name}")
        raise AttributeError(name)

    def take_string(self, p: ctypes.c_void_p) -> Optional[str]:
        """Copies a library-owned string, frees it, and clears the slot."""
        if not p.value:
            return None
        try:
            return ctypes.string_at(p.value).decode("utf-8", "replace")
        finally:
            self.jwtgrant_free(p.value)
            p.value = None


_lib: Optional[Library] = None
_lib_lock = threading.Lock()


def load(path: Optional[str] = None) -> Library:
    """Loads the library (once; a `path` loads that file anew)."""
    global _lib
    with _lib_lock:
        if path is not None:
            _lib = Library(path)
        elif _lib is None:
            _lib = Library()
        return _lib


def version() -> str:
    return load().jwtgrant_version().decode()


def version_number() -> int:
    return load().jwtgrant_version_number()


def status_name(status: int) -> str:
    return load().jwtgrant_status_name(status).decode()


def oauth_error(status: int) -> Optional[str]:
    p = load().jwtgrant_oauth_error(status)
    return p.decode() if p is not None else None


class JWTGrantError(Exception):
    """A failure reported by libjwtgrant.

    ``status`` is the negative C status code, ``name`` its name
    (``"JWTGRANT_EEXPIRED"``), ``oauth_error`` the OAuth error it maps to
    (``"invalid_grant"``), ``message`` the library's text (never a token)."""

    status: int
    name: str
    oauth_error: Optional[str]
    message: Optional[str]

    def __init__(self, status: int, message: Optional[str] = None, lib: Optional[Library] = None):
        lib = lib or load()
        self.status = status
        self.name = lib.jwtgrant_status_name(status).decode()
        p = lib.jwtgrant_oauth_error(status)
        self.oauth_error = p.decode() if p is not None else None
        self.message = message
        super().__init__(f"{self.name} ({status}): {message}")


class TokenResponse(NamedTuple):
    """What :meth:`Server.exchange_token` answers: the C status
    (``OK`` or the failure), the HTTP status to send, and the JSON body
    parsed (RFC 6749 5.1 or 5.2)."""

    status: int
    http_status: int
    body: Optional[Dict[str, Any]]


def _arg(v: Any) -> Any:
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, (dict, list)):
        return json.dumps(v).encode("utf-8")
    return v


class Server:
    """One authorization server (a ``jwtgrant_ctx``). Thread-safe."""

    def __init__(self, config: Union[dict, str, None] = None, lib: Optional[Library] = None):
        self._lib = lib or load()
        self._jwks_fetchers: list = []   # every JWKS_FETCH_FN handed to this context
        self._log_fns: list = []         # every LOG_FN handed to this context
        self._handle = ctypes.c_void_p()
        err = ctypes.c_void_p()
        rc = self._lib.jwtgrant_ctx_new(ctypes.byref(self._handle), _arg(config), ctypes.byref(err))
        self._check(rc, err)

    @property
    def handle(self) -> Optional[int]:
        """The raw ``jwtgrant_ctx *`` (for :class:`Raw`); None once closed."""
        return self._handle.value

    def close(self) -> None:
        if self._handle.value:
            self._lib.jwtgrant_ctx_free(self._handle)
            self._handle.value = None

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _check(self, rc: int, err: ctypes.c_void_p) -> None:
        message = self._lib.take_string(err)
        if rc != 0:
            raise JWTGrantError(rc, message, self._lib)

    def _ctx(self) -> ctypes.c_void_p:
        if not self._handle.value:
            raise ValueError("server is closed")
        return self._handle

    def _call_out(self, fn, *args) -> str:
        out, err = ctypes.c_void_p(), ctypes.c_void_p()
        rc = fn(self._ctx(), *args, ctypes.byref(out), ctypes.byref(err))
        text = self._lib.take_string(out)
        self._check(rc, err)
        return text

    def set_time(self, unix_time: int) -> None:
        """Pins the clock (0 returns to the system clock)."""
        err = ctypes.c_void_p()
        self._check(self._lib.jwtgrant_ctx_set_time(self._ctx(), int(unix_time), ctypes.byref(err)), err)

    def register_issuer(self, issuer: Union[dict, str]) -> None:
        err = ctypes.c_void_p()
        self._check(self._lib.jwtgrant_register_issuer(self._ctx(), _arg(issuer), ctypes.byref(err)), err)

    def remove_issuer(self, name: str) -> None:
        err = ctypes.c_void_p()
        self._check(self._lib.jwtgrant_remove_issuer(self._ctx(), _arg(name), ctypes.byref(err)), err)

    def list_issuers(self) -> List[Dict[str, Any]]:
        return json.loads(self._call_out(self._lib.jwtgrant_list_issuers))

    def register_client(self, client: Union[dict, str]) -> None:
        """Registers an application: ``client_id``, ``client_secret`` (absent
        only for a public client, ``"token_endpoint_auth_method": "none"``),
        ``token_endpoint_auth_method``, ``grant_types``, ``scopes`` (absent:
        the client may request no scope)."""
        err = ctypes.c_void_p()
        self._check(self._lib.jwtgrant_register_client(self._ctx(), _arg(client), ctypes.byref(err)), err)

    def remove_client(self, client_id: str) -> None:
        """Removes an application (``JWTGrantError`` ``JWTGRANT_ENOTFOUND`` if unknown)."""
        err = ctypes.c_void_p()
        self._check(self._lib.jwtgrant_remove_client(self._ctx(), _arg(client_id), ctypes.byref(err)), err)

    def list_clients(self) -> List[Dict[str, Any]]:
        """The applications, sorted by client_id, never with a secret."""
        return json.loads(self._call_out(self._lib.jwtgrant_list_clients))

    def rotate_client_secret(self, client_id: str, new_secret: str, grace_seconds: int = 0) -> None:
        """Gives a client a new secret; the old one stays valid
        ``grace_seconds`` more seconds (0: replaced at once)."""
        err = ctypes.c_void_p()
        self._check(self._lib.jwtgrant_rotate_client_secret(self._ctx(), _arg(client_id), _arg(new_secret),
                                                            int(grace_seconds), ctypes.byref(err)), err)

    def verify_assertion(self, assertion: Union[str, bytes]) -> Dict[str, Any]:
        """The verified claims plus ``_issuer_name``; raises JWTGrantError."""
        return json.loads(self._call_out(self._lib.jwtgrant_verify_assertion, _arg(assertion)))

    def exchange_token(self, authorization: Optional[str], body: Union[str, bytes]) -> TokenResponse:
        """The token endpoint. Never raises for a failed grant: returns
        ``TokenResponse(status, http_status, body)``."""
        http = ctypes.c_int32(0)
        out = ctypes.c_void_p()
        rc = self._lib.jwtgrant_exchange_token(self._ctx(), _arg(authorization), _arg(body),
                                               ctypes.byref(http), ctypes.byref(out))
        text = self._lib.take_string(out)
        return TokenResponse(rc, http.value, json.loads(text) if text is not None else None)

    def token_body_limit(self) -> int:
        """The largest token request body exchange_token accepts, in bytes
        (max_assertion_size + 32768)."""
        out, err = ctypes.c_size_t(), ctypes.c_void_p()
        self._check(self._lib.jwtgrant_token_body_limit(self._ctx(), ctypes.byref(out), ctypes.byref(err)), err)
        return out.value

    def jwks(self) -> Dict[str, Any]:
        return json.loads(self._call_out(self._lib.jwtgrant_jwks))

    def verify_access_token(self, token: Union[str, bytes]) -> Dict[str, Any]:
        return json.loads(self._call_out(self._lib.jwtgrant_verify_access_token, _arg(token)))

    # -- audit trail and counters -------------------------------------------

    def set_log_callback(self, fn: Optional[Callable[[int, Dict[str, Any]], None]]) -> None:
        """Makes ``fn(level, event)`` the log and audit function
        (``jwtgrant_set_log_callback``); None removes it. ``level`` is
        :data:`LOG_ERROR`, :data:`LOG_WARNING` or :data:`LOG_INFO`; ``event``
        the decoded event (see docs/abi.md). Called on the thread that did
        the work, with no library lock held; an exception ``fn`` raises is
        reported through ``logging`` and does not reach the library.
        The C callback objects are kept on the Server for its whole life."""
        if fn is None:
            cb = None
        else:
            def trampoline(user_data, level, event_json):
                try:
                    fn(int(level), json.loads(event_json.decode("utf-8")))
                except Exception:  # never let an exception cross the C boundary
                    logging.getLogger(LOGGER_NAME).exception("jwtgrant log callback failed")
            cb = LOG_FN(trampoline)
            self._log_fns.append(cb)
        err = ctypes.c_void_p()
        self._check(self._lib.jwtgrant_set_log_callback(self._ctx(), cb, None, ctypes.byref(err)), err)

    def log_to_logging(self, logger: Optional[logging.Logger] = None) -> None:
        """Forwards every event to ``logger`` (default: the ``jwtgrant``
        logger) at the matching level (ERROR, WARNING, INFO). The message is
        ``jwtgrant <event> <outcome>: <event JSON>``; the decoded event is
        also in the record as ``jwtgrant_event``."""
        log = logger or logging.getLogger(LOGGER_NAME)

        def forward(level: int, event: Dict[str, Any]) -> None:
            py_level = _LOGGING_LEVELS.get(level, logging.INFO)
            if log.isEnabledFor(py_level):
                log.log(py_level, "jwtgrant %s %s: %s", event.get("event"), event.get("outcome"),
                        json.dumps(event, sort_keys=True), extra={"jwtgrant_event": event})
        self.set_log_callback(forward)

    def stats(self) -> Dict[str, Any]:
        """The counters since the context was created (``jwtgrant_stats``)."""
        return json.loads(self._call_out(self._lib.jwtgrant_stats))

    # -- JWKS endpoints: host-side fetching --------------------------------

    def set_jwks_fetcher(self, fetch: Optional[Callable[[str, str, int, int], Any]]) -> None:
        """Makes ``fetch`` the fetcher of every ``jwks_uri`` issuer
        (``jwtgrant_set_jwks_fetcher``); None returns to libcurl.

        ``fetch(issuer_name, url, timeout_ms, size_limit)`` is called on a
        verifying thread or a library thread and answers with one of:

        - ``(http_status, body, max_age)``: delivered with
          ``jwtgrant_jwks_fetch_result`` (``body`` bytes, str, or a dict/list
          sent as JSON; ``max_age`` seconds or -1 when absent);
        - :data:`PENDING`: the host hands the document in later with
          :meth:`issuer_set_jwks`;
        - a ``str`` (or ``bytes``, or None), or an exception raised: the
          fetch failed with that reason (``jwtgrant_jwks_fetch_error``, then
          a negative return).

        Integers beyond int32_t (``max_age``) are clamped, not wrapped.

        The C callback object is kept on the Server for its whole life (a
        collected callback would crash the process); replaced ones are kept
        too, since a call of them may still be running on another thread."""
        if fetch is None:
            cb = None
        else:
            cb = JWKS_FETCH_FN(_make_fetch_trampoline(self._lib, fetch))
            self._jwks_fetchers.append(cb)      # before the library can call it
        err = ctypes.c_void_p()
        self._check(self._lib.jwtgrant_set_jwks_fetcher(self._ctx(), cb, None, ctypes.byref(err)), err)

    def issuer_set_jwks(self, name: str, jwks: Union[dict, str, bytes], max_age: int = -1) -> None:
        """Hands in the JWKS document of issuer ``name``
        (``jwtgrant_issuer_set_jwks``): the answer to a :data:`PENDING`
        fetch, or new keys for an inline ``jwks`` issuer. ``max_age`` in
        seconds, -1 for the default lifetime."""
        err = ctypes.c_void_p()
        rc = self._lib.jwtgrant_issuer_set_jwks(self._ctx(), _arg(name), _arg(jwks), _int32(max_age),
                                                ctypes.byref(err))
        self._check(rc, err)


def _make_fetch_trampoline(lib: Library, fetch):
    """The C-callable body around a Python fetch function: turns its answer
    into jwtgrant_jwks_fetch_result / _error and the int32 return value.
    Never lets an exception escape into ctypes (which would print it and
    return 0, "answered", without an answer)."""

    def trampoline(user_data, issuer_name, url, timeout_ms, size_limit, sink):
        try:
            answer = fetch(issuer_name.decode("utf-8", "replace") if issuer_name else None,
                           url.decode("utf-8", "replace") if url else None,
                           int(timeout_ms), int(size_limit))
        except Exception as e:  # noqa: BLE001 - every failure becomes the fetch's reason
            reason = f"{type(e).__name__}: {e}"
            lib.jwtgrant_jwks_fetch_error(sink, reason.encode("utf-8", "replace"))
            return _FETCH_FAILED
        try:
            if isinstance(answer, int) and not isinstance(answer, bool) and answer == JWKS_FETCH_PENDING:
                return JWKS_FETCH_PENDING
            if answer is None or isinstance(answer, (str, bytes)):
                reason = answer.encode("utf-8", "replace") if isinstance(answer, str) else answer
                lib.jwtgrant_jwks_fetch_error(sink, reason)
                return _FETCH_FAILED
            status, body, max_age = answer
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode("utf-8")
            elif isinstance(body, str):
                body = body.encode("utf-8")
            elif body is None:
                body = b""
            body = bytes(body)
            return lib.jwtgrant_jwks_fetch_result(sink, _int32(status), body, len(body),
                                                  -1 if max_age is None else _int32(max_age))
        except Exception as e:  # noqa: BLE001 - a malformed answer is a failed fetch
            reason = f"bad answer from the fetch function: {type(e).__name__}: {e}"
            lib.jwtgrant_jwks_fetch_error(sink, reason.encode("utf-8", "replace"))
            return _FETCH_FAILED

    return trampoline


# --------------------------------------------------------------------------
# Raw escape hatch: any function, any argument, NULL included.
# --------------------------------------------------------------------------

class OutStr:
    """A ``char **`` output slot. After :meth:`Raw.call`, ``.value`` holds
    the copied string (or None for NULL) and the library memory is freed.

    ``initial`` pre-fills the slot with a sentinel pointer value so that a
    test can check the library overwrote it (``.untouched`` is then True if
    it did not; the sentinel is never dereferenced or freed)."""

    def __init__(self, initial: Optional[int] = None):
        self.slot = ctypes.c_void_p(initial)
        self.initial = initial
        self.value: Optional[str] = None
        self.untouched = False

    def _collect(self, lib: Library) -> None:
        if self.initial is not None and self.slot.value == self.initial:
            self.untouched = True
            self.slot.value = None
            return
        self.value = lib.take_string(self.slot)


class OutPtr:
    """A ``jwtgrant_ctx **`` output slot; ``.value`` is the pointer or None."""

    def __init__(self):
        self.slot = ctypes.c_void_p()

    @property
    def value(self) -> Optional[int]:
        return self.slot.value


class OutInt32:
    """An ``int32_t *`` output slot; ``.value`` after the call."""

    def __init__(self, initial: int = -12345):
        self.slot = ctypes.c_int32(initial)

    @property
    def value(self) -> int:
        return self.slot.value


class Raw:
    """Calls functions of the header with arguments exactly as given.

    Arguments: ``None`` is NULL; ``str`` is UTF-8 encoded, ``bytes`` passed
    as is (so malformed UTF-8 can be sent); ``dict``/``list`` become JSON;
    a :class:`Server` passes its context; :class:`OutStr`, :class:`OutPtr`
    and :class:`OutInt32` pass the address of their slot; ints pass as is.
    Returns what the C function returns (``int32_t`` status, or the decoded
    static string for the version/name functions)."""

    def __init__(self, lib: Optional[Library] = None):
        self.lib = lib or load()

    def call(self, name: str, *args: Any) -> Any:
        fn = getattr(self.lib, name)
        conv = []
        for a in args:
            if isinstance(a, Server):
                conv.append(a.handle)
            elif isinstance(a, (OutStr, OutPtr, OutInt32)):
                conv.append(ctypes.byref(a.slot))
            else:
                conv.append(_arg(a))
        result = fn(*conv)
        for a in args:
            if isinstance(a, OutStr):
                a._collect(self.lib)
        if isinstance(result, bytes):
            return result.decode()
        return result

    def ctx_new(self, config: Any = None) -> int:
        """A raw context (free it with ``call("jwtgrant_ctx_free", ctx)``)."""
        out = OutPtr()
        rc = self.call("jwtgrant_ctx_new", out, config, None)
        if rc != 0:
            raise JWTGrantError(rc, "jwtgrant_ctx_new failed", self.lib)
        return out.value
