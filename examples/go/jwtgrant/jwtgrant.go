// Package jwtgrant wraps libjwtgrant, an embeddable OAuth 2.0 JWT Bearer
// grant (RFC 7523) authorization server with a C ABI, for Go programs.
//
// It links the installed library through pkg-config (jwtgrant.pc, as
// scripts/install writes it): build with PKG_CONFIG_PATH pointing at
// PREFIX/lib/pkgconfig and CGO_ENABLED=1, and let the dynamic linker find
// libjwtgrant.so.1 at run time (LD_LIBRARY_PATH, or an rpath given with
// CGO_LDFLAGS="-Wl,-rpath,PREFIX/lib").
//
// Usage:
//
//	srv, err := jwtgrant.New(`{"clock_skew": 30}`)
//	if err != nil { ... }
//	defer srv.Close()
//	err = srv.RegisterIssuer(`{"name": "partner", "issuer": "https://idp.example.com", "certificate": "-----BEGIN CERTIFICATE-----\n..."}`)
//	err = srv.RegisterClient(`{"client_id": "app", "client_secret": "s3cret", "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"]}`)
//	status, body, err := srv.ExchangeToken(r.Header.Get("Authorization"), string(form))
//	// send body with status, Content-Type: application/json, Cache-Control: no-store
//
// Configuration, issuers and clients are JSON documents exactly as
// include/jwtgrant.h describes them; results (claims, token responses, JWKS)
// are returned as JSON text for the caller to decode into its own types.
//
// Errors are *Error values carrying the library's status code, its name
// (jwtgrant_status_name), the OAuth error it maps to (jwtgrant_oauth_error)
// and the library's message, which never contains a token or a secret.
//
// Memory: every string the library hands out is copied into Go memory and
// released with jwtgrant_free before the method returns; every C string made
// for a call is released with C.free. No C memory outlives a call.
//
// Concurrency: a *Server may be used from many goroutines at once (the
// library is thread-safe). Close waits for calls in progress to return, and
// calls made after Close fail with JWTGRANT_EINVAL instead of touching freed
// memory.
//
// Lifetime: call Close when done with a Server. A finalizer frees a Server
// that became unreachable without Close, but it is only a backstop against
// leaks: the garbage collector decides when (or whether) it runs, it cannot
// see how much C memory (keys, caches, a JWKS refresh thread) a Server holds,
// and it runs on the single finalizer goroutine. It is not a substitute for
// Close.
package jwtgrant

/*
#cgo pkg-config: jwtgrant
#include <stdint.h>
#include <stdlib.h>
#include <jwtgrant.h>

// The Go log function (log.go) and its registration: user_data carries a
// runtime/cgo Handle, never a Go pointer.
extern void jwtgrantGoLog(void *user_data, int32_t level, char *event_json);
static int32_t jg_set_log(jwtgrant_ctx *ctx, uintptr_t handle, char **error_out) {
    return jwtgrant_set_log_callback(ctx, handle ? (jwtgrant_log_fn)jwtgrantGoLog : NULL,
                                     (void *)handle, error_out);
}
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Status is a libjwtgrant status code: 0 or a negative JWTGRANT_E* value.
type Status int32

// The status codes of include/jwtgrant.h, taken from the header itself.
const (
	OK                   Status = C.JWTGRANT_OK
	EINVAL               Status = C.JWTGRANT_EINVAL
	ENOMEM               Status = C.JWTGRANT_ENOMEM
	EINTERNAL            Status = C.JWTGRANT_EINTERNAL
	EEXISTS              Status = C.JWTGRANT_EEXISTS
	ENOTFOUND            Status = C.JWTGRANT_ENOTFOUND
	EKEY                 Status = C.JWTGRANT_EKEY
	ESTORE               Status = C.JWTGRANT_ESTORE
	EMALFORMED           Status = C.JWTGRANT_EMALFORMED
	EALGORITHM           Status = C.JWTGRANT_EALGORITHM
	EHEADER              Status = C.JWTGRANT_EHEADER
	EUNTRUSTED_ISSUER    Status = C.JWTGRANT_EUNTRUSTED_ISSUER
	EKEY_NOT_FOUND       Status = C.JWTGRANT_EKEY_NOT_FOUND
	ESIGNATURE           Status = C.JWTGRANT_ESIGNATURE
	EEXPIRED             Status = C.JWTGRANT_EEXPIRED
	ENOT_YET_VALID       Status = C.JWTGRANT_ENOT_YET_VALID
	EIAT_TOO_OLD         Status = C.JWTGRANT_EIAT_TOO_OLD
	EIAT_FUTURE          Status = C.JWTGRANT_EIAT_FUTURE
	EAUDIENCE            Status = C.JWTGRANT_EAUDIENCE
	ECLAIM               Status = C.JWTGRANT_ECLAIM
	EREPLAY              Status = C.JWTGRANT_EREPLAY
	EKEY_SOURCE          Status = C.JWTGRANT_EKEY_SOURCE
	EINVALID_REQUEST     Status = C.JWTGRANT_EINVALID_REQUEST
	EINVALID_CLIENT      Status = C.JWTGRANT_EINVALID_CLIENT
	EUNAUTHORIZED_CLIENT Status = C.JWTGRANT_EUNAUTHORIZED_CLIENT
	EUNSUPPORTED_GRANT   Status = C.JWTGRANT_EUNSUPPORTED_GRANT
	EINVALID_SCOPE       Status = C.JWTGRANT_EINVALID_SCOPE
	EINVALID_TOKEN       Status = C.JWTGRANT_EINVALID_TOKEN
	EASSERTION_LIFETIME  Status = C.JWTGRANT_EASSERTION_LIFETIME
	EUNAVAILABLE         Status = C.JWTGRANT_EUNAVAILABLE // a shared store is unreachable or late (HTTP 503)
	// The trusted issuer's policy refused the assertion (invalid_grant).
	ESUBJECT_NOT_ALLOWED Status = C.JWTGRANT_ESUBJECT_NOT_ALLOWED
	ECLIENT_NOT_ALLOWED  Status = C.JWTGRANT_ECLIENT_NOT_ALLOWED
	EISSUER_EXPIRED      Status = C.JWTGRANT_EISSUER_EXPIRED
	EJTI_REQUIRED        Status = C.JWTGRANT_EJTI_REQUIRED
)

// HeaderVersion is the version of the jwtgrant.h this package was compiled
// against; Version() is the version of the library loaded at run time.
const HeaderVersion = C.JWTGRANT_VERSION_STRING

// JWTBearerGrant is the grant type a client must be allowed (RFC 7523 2.1).
const JWTBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// Name is the status code's name, e.g. "JWTGRANT_EEXPIRED"
// ("JWTGRANT_UNKNOWN" for a code the library does not know).
func (s Status) Name() string { return C.GoString(C.jwtgrant_status_name(C.int32_t(s))) }

// OAuthError is the RFC 6749 / RFC 6750 error code the status maps to
// ("invalid_grant", "invalid_client", ...); "" for OK.
func (s Status) OAuthError() string {
	p := C.jwtgrant_oauth_error(C.int32_t(s))
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func (s Status) String() string { return s.Name() }

// Error is a failure reported by libjwtgrant.
type Error struct {
	Op         string // the method that failed, e.g. "RegisterIssuer"
	Status     Status // the negative status code
	Name       string // jwtgrant_status_name, e.g. "JWTGRANT_EREPLAY"
	OAuthError string // jwtgrant_oauth_error, e.g. "invalid_grant"
	Message    string // the library's message; never contains a token or secret
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("jwtgrant: %s: %s (%s): %s", e.Op, e.Name, e.OAuthError, msg)
}

// Is reports whether target is an *Error with the same Status, so that
// errors.Is(err, &jwtgrant.Error{Status: jwtgrant.EREPLAY}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status
}

func newError(op string, rc C.int32_t, message string) *Error {
	s := Status(rc)
	return &Error{Op: op, Status: s, Name: s.Name(), OAuthError: s.OAuthError(), Message: message}
}

// Version is the version of the loaded library, e.g. "1.0.0".
func Version() string { return C.GoString(C.jwtgrant_version()) }

// VersionNumber is the loaded library's version as X*1000000 + Y*1000 + Z.
func VersionNumber() int { return int(C.jwtgrant_version_number()) }

// takeString copies a string handed out by the library and frees it.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.jwtgrant_free(unsafe.Pointer(p))
	return s
}

// cString makes a C copy of s for one call (free it with C.free). A Go string
// may contain NUL bytes, which C would silently cut the text at; such input
// is refused instead of being passed on truncated.
func cString(op, what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, newError(op, C.JWTGRANT_EINVAL, what+" contains a NUL byte")
	}
	return C.CString(s), nil
}

// result turns a status and an error_out message into a Go error.
func result(op string, rc C.int32_t, cerr *C.char) error {
	msg := takeString(cerr)
	if rc == C.JWTGRANT_OK {
		return nil
	}
	return newError(op, rc, msg)
}

// Server is one authorization server (a jwtgrant_ctx): its configuration,
// trusted token issuers, clients, replay cache and signing key.
type Server struct {
	mu  sync.RWMutex // read-held by every call, write-held by Close
	ctx *C.jwtgrant_ctx

	logMu      sync.Mutex   // guards logHandles
	logHandles []cgo.Handle // every LogFunc handed to the library, deleted by Close
}

// New creates an authorization server from a JSON configuration (see
// jwtgrant_ctx_new in include/jwtgrant.h); "" or "{}" gives the embedded
// defaults. Unknown fields and wrong types fail with JWTGRANT_EINVAL naming
// the field. Call Close when done.
func New(configJSON string) (*Server, error) {
	var config *C.char
	if configJSON != "" {
		var err error
		if config, err = cString("New", "configuration", configJSON); err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(config))
	}
	var ctx *C.jwtgrant_ctx
	var cerr *C.char
	rc := C.jwtgrant_ctx_new(&ctx, config, &cerr)
	if err := result("New", rc, cerr); err != nil {
		C.jwtgrant_ctx_free(ctx) // NULL on failure; a no-op
		return nil, err
	}
	s := &Server{ctx: ctx}
	runtime.SetFinalizer(s, (*Server).Close)
	return s, nil
}

// Close destroys the server and everything it owns. It waits for calls in
// progress on other goroutines to return; later calls fail with
// JWTGRANT_EINVAL. Closing twice is harmless. It always returns nil.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil {
		C.jwtgrant_ctx_free(s.ctx)
		s.ctx = nil
		runtime.SetFinalizer(s, nil)
		s.logMu.Lock()
		for _, h := range s.logHandles {
			h.Delete()
		}
		s.logHandles = nil
		s.logMu.Unlock()
	}
	return nil
}

// acquire read-locks the server for one call; release with s.mu.RUnlock().
func (s *Server) acquire(op string) (*C.jwtgrant_ctx, error) {
	if s == nil {
		return nil, newError(op, C.JWTGRANT_EINVAL, "nil *Server")
	}
	s.mu.RLock()
	if s.ctx == nil {
		s.mu.RUnlock()
		return nil, newError(op, C.JWTGRANT_EINVAL, "the server is closed")
	}
	return s.ctx, nil
}

// withString runs a call that takes one string and reports only a status.
func (s *Server) withString(op, what, arg string,
	call func(ctx *C.jwtgrant_ctx, arg *C.char, cerr **C.char) C.int32_t) error {
	carg, err := cString(op, what, arg)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(carg))
	ctx, err := s.acquire(op)
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	var cerr *C.char
	rc := call(ctx, carg, &cerr)
	return result(op, rc, cerr)
}

// withStringOut runs a call that takes one string and hands out one string.
func (s *Server) withStringOut(op, what, arg string,
	call func(ctx *C.jwtgrant_ctx, arg *C.char, out, cerr **C.char) C.int32_t) (string, error) {
	carg, err := cString(op, what, arg)
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(carg))
	ctx, err := s.acquire(op)
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var out, cerr *C.char
	rc := call(ctx, carg, &out, &cerr)
	text := takeString(out) // freed even on failure, should the library set it
	if err := result(op, rc, cerr); err != nil {
		return "", err
	}
	return text, nil
}

// SetTime fixes the server's clock (for tests and replays): exp, nbf and iat
// are judged, and issued tokens stamped, as if it were t. The zero Time
// returns to the system clock.
func (s *Server) SetTime(t time.Time) error {
	var unix int64
	if !t.IsZero() {
		unix = t.Unix()
		if unix == 0 {
			// 0 would mean "system clock" to the library.
			return newError("SetTime", C.JWTGRANT_EINVAL, "the Unix epoch itself cannot be fixed")
		}
	}
	ctx, err := s.acquire("SetTime")
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	var cerr *C.char
	rc := C.jwtgrant_ctx_set_time(ctx, C.int64_t(unix), &cerr)
	return result("SetTime", rc, cerr)
}

// RegisterIssuer registers a trusted token issuer: {"name", "issuer",
// "alias"?, and one of "certificate" (PEM), "certificate_file" (a path),
// "jwks_uri", "jwks", "jwks_file" (a path)}. ListIssuers shows each key's
// type, kid, RFC 7638 thumbprint and validity dates under "key_details".
func (s *Server) RegisterIssuer(issuerJSON string) error {
	return s.withString("RegisterIssuer", "issuer", issuerJSON,
		func(ctx *C.jwtgrant_ctx, arg *C.char, cerr **C.char) C.int32_t {
			return C.jwtgrant_register_issuer(ctx, arg, cerr)
		})
}

// RemoveIssuer removes the trusted token issuer called name.
func (s *Server) RemoveIssuer(name string) error {
	return s.withString("RemoveIssuer", "name", name,
		func(ctx *C.jwtgrant_ctx, arg *C.char, cerr **C.char) C.int32_t {
			return C.jwtgrant_remove_issuer(ctx, arg, cerr)
		})
}

// ListIssuers returns the trusted token issuers as a JSON array.
func (s *Server) ListIssuers() (string, error) {
	ctx, err := s.acquire("ListIssuers")
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var out, cerr *C.char
	rc := C.jwtgrant_list_issuers(ctx, &out, &cerr)
	text := takeString(out)
	if err := result("ListIssuers", rc, cerr); err != nil {
		return "", err
	}
	return text, nil
}

// RegisterClient registers an application: {"client_id", "client_secret"?,
// "token_endpoint_auth_method"?, "grant_types"?, "scopes"?}. The exchange is
// allowed only when grant_types contains JWTBearerGrant. A client without
// client_secret must be public ("token_endpoint_auth_method": "none"); a
// client without scopes may request no scope.
func (s *Server) RegisterClient(clientJSON string) error {
	return s.withString("RegisterClient", "client", clientJSON,
		func(ctx *C.jwtgrant_ctx, arg *C.char, cerr **C.char) C.int32_t {
			return C.jwtgrant_register_client(ctx, arg, cerr)
		})
}

// TokenBodyLimit is the largest token request body ExchangeToken accepts,
// in bytes: the configuration's max_assertion_size + 32768. A server that
// reads the body itself uses it as its own limit.
func (s *Server) TokenBodyLimit() (int, error) {
	ctx, err := s.acquire("TokenBodyLimit")
	if err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	var limit C.size_t
	var cerr *C.char
	rc := C.jwtgrant_token_body_limit(ctx, &limit, &cerr)
	if err := result("TokenBodyLimit", rc, cerr); err != nil {
		return 0, err
	}
	return int(limit), nil
}

// RemoveClient removes the application clientID (ENOTFOUND when there
// is none).
func (s *Server) RemoveClient(clientID string) error {
	return s.withString("RemoveClient", "client_id", clientID,
		func(ctx *C.jwtgrant_ctx, arg *C.char, cerr **C.char) C.int32_t {
			return C.jwtgrant_remove_client(ctx, arg, cerr)
		})
}

// ListClients returns the applications as a JSON array sorted by client_id,
// never with a secret: client_id, token_endpoint_auth_method (when
// registered), auth_methods, grant_types, scopes, secrets and, during a
// rotation's grace period, grace_until.
func (s *Server) ListClients() (string, error) {
	ctx, err := s.acquire("ListClients")
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var out, cerr *C.char
	rc := C.jwtgrant_list_clients(ctx, &out, &cerr)
	text := takeString(out)
	if err := result("ListClients", rc, cerr); err != nil {
		return "", err
	}
	return text, nil
}

// RotateClientSecret gives the application clientID a new secret. With a
// zero grace the old secret stops working at once; otherwise it stays valid
// for grace more (by the server's clock, see SetTime). grace is truncated to
// whole seconds.
func (s *Server) RotateClientSecret(clientID, newSecret string, grace time.Duration) error {
	const op = "RotateClientSecret"
	if grace < 0 {
		return newError(op, C.JWTGRANT_EINVAL, "grace must not be negative")
	}
	cid, err := cString(op, "client_id", clientID)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cid))
	csecret, err := cString(op, "new_secret", newSecret)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(csecret))
	ctx, err := s.acquire(op)
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	var cerr *C.char
	rc := C.jwtgrant_rotate_client_secret(ctx, cid, csecret, C.int64_t(grace/time.Second), &cerr)
	return result(op, rc, cerr)
}

// VerifyAssertion validates a JWT bearer assertion as the token endpoint
// would, without consuming its jti, and returns its claims as a JSON object
// (plus "_issuer_name", the trusted issuer that matched).
func (s *Server) VerifyAssertion(assertion string) (claimsJSON string, err error) {
	return s.withStringOut("VerifyAssertion", "assertion", assertion,
		func(ctx *C.jwtgrant_ctx, arg *C.char, out, cerr **C.char) C.int32_t {
			return C.jwtgrant_verify_assertion(ctx, arg, out, cerr)
		})
}

// ExchangeToken is the token endpoint (POST /oauth2/token). authorization is
// the raw Authorization header value ("" when the request had none), body
// the raw application/x-www-form-urlencoded request body.
//
// httpStatus and response are what to send back (200, 400, 401 or 500, and
// an RFC 6749 5.1 / 5.2 JSON body) whether or not err is nil; send them with
// Content-Type: application/json, Cache-Control: no-store, Pragma: no-cache,
// and with a 401 also WWW-Authenticate: Basic. err is nil for an issued
// token, otherwise an *Error whose Message is the response's
// error_description.
func (s *Server) ExchangeToken(authorization, body string) (httpStatus int, response string, err error) {
	const op = "ExchangeToken"
	var cauth *C.char
	if authorization != "" {
		if cauth, err = cString(op, "authorization", authorization); err != nil {
			return 400, oauthErrorBody(err.(*Error)), err
		}
		defer C.free(unsafe.Pointer(cauth))
	}
	cbody, err := cString(op, "body", body)
	if err != nil {
		return 400, oauthErrorBody(err.(*Error)), err
	}
	defer C.free(unsafe.Pointer(cbody))
	ctx, err := s.acquire(op)
	if err != nil {
		return 500, oauthErrorBody(err.(*Error)), err
	}
	defer s.mu.RUnlock()
	var status C.int32_t
	var out *C.char
	rc := C.jwtgrant_exchange_token(ctx, cauth, cbody, &status, &out)
	response = takeString(out)
	if rc == C.JWTGRANT_OK {
		return int(status), response, nil
	}
	var parsed struct {
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal([]byte(response), &parsed)
	return int(status), response, newError(op, rc, parsed.Description)
}

// oauthErrorBody is the RFC 6749 5.2 body for a failure found before the
// library was called (a NUL byte in the request, a closed server).
func oauthErrorBody(e *Error) string {
	b, _ := json.Marshal(map[string]string{"error": e.OAuthError, "error_description": e.Message})
	return string(b)
}

// VerifyAccessToken validates an access token this server issued (signature,
// typ at+jwt, iss, exp) and returns its claims as a JSON object.
func (s *Server) VerifyAccessToken(token string) (claimsJSON string, err error) {
	return s.withStringOut("VerifyAccessToken", "token", token,
		func(ctx *C.jwtgrant_ctx, arg *C.char, out, cerr **C.char) C.int32_t {
			return C.jwtgrant_verify_access_token(ctx, arg, out, cerr)
		})
}

// JWKS returns the public keys of the access tokens this server issues, as a
// JWKS document for resource servers.
func (s *Server) JWKS() (string, error) {
	ctx, err := s.acquire("JWKS")
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var out, cerr *C.char
	rc := C.jwtgrant_jwks(ctx, &out, &cerr)
	text := takeString(out)
	if err := result("JWKS", rc, cerr); err != nil {
		return "", err
	}
	return text, nil
}

// setLogCallback registers the Go log function with handle as its user data
// (0 removes it); the C side is in this file's preamble.
func setLogCallback(ctx *C.jwtgrant_ctx, handle cgo.Handle, cerr **C.char) C.int32_t {
	return C.jg_set_log(ctx, C.uintptr_t(handle), cerr)
}
