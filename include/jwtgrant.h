/*
 * jwtgrant.h - the C interface of libjwtgrant, an embeddable OAuth 2.0
 * JWT Bearer grant (RFC 7523) authorization server.
 *
 * A server links libjwtgrant.so to accept a JWT issued by a trusted token
 * issuer (a third-party identity provider) and exchange it for an access
 * token of its own (RFC 6749 token endpoint, RFC 9068 access tokens).
 *
 * THREAD SAFETY: every function may be called from any thread. A
 * jwtgrant_ctx is safe to use from many threads at once, including
 * registering and removing issuers and clients while other threads verify
 * and exchange. The only rule is the usual one for destructors: do not call
 * jwtgrant_ctx_free() while another thread still uses the same context.
 * Processes: create contexts after fork(). A context belongs to the process
 * that created it: a child of fork() has none of the library's threads (the
 * background JWKS refresh), may inherit locks that a thread of the parent
 * held at the fork, and must not share the parent's connections. Every call
 * on a context created before the fork answers JWTGRANT_EINVAL in the child
 * ("created in another process before fork()"; jwtgrant_exchange_token also
 * sets a 500 server_error answer) and never touches the context's state, so
 * it cannot hang. jwtgrant_ctx_free() of such a context returns at once in
 * the child without releasing anything: the child's copy of it is leaked
 * (the parent's context is not affected). jwtgrant_ctx_new() in the child
 * works as in any process. The check costs one load and one compare per call
 * (a pthread_atfork child handler counts forks). Pre-fork servers (Apache
 * prefork, an nginx master) create their contexts in each child, or free the
 * parent's before forking.
 *
 * MEMORY: strings passed in are NUL-terminated UTF-8 and are only read
 * during the call. Every string handed out through an output parameter is
 * new memory owned by the caller, released with jwtgrant_free(). Strings
 * returned directly (jwtgrant_version, jwtgrant_status_name,
 * jwtgrant_oauth_error) are static and must not be freed.
 *
 * ERRORS: functions return JWTGRANT_OK (0) or a negative JWTGRANT_E* code.
 * `char **error_out` is optional (NULL allowed); on failure it receives a
 * human-readable message (free with jwtgrant_free), on success it is set to
 * NULL. Messages never contain a token, a secret or a private key.
 * A NULL or malformed argument is an error code, never a crash.
 */
#ifndef JWTGRANT_H
#define JWTGRANT_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  define JWTGRANT_API __declspec(dllimport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define JWTGRANT_API __attribute__((visibility("default")))
#else
#  define JWTGRANT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Version
 * ---------------------------------------------------------------------- */

#define JWTGRANT_VERSION_MAJOR 1
#define JWTGRANT_VERSION_MINOR 0
#define JWTGRANT_VERSION_PATCH 0
#define JWTGRANT_VERSION_STRING "1.0.0"
/** X*1000000 + Y*1000 + Z */
#define JWTGRANT_VERSION_NUMBER \
    (JWTGRANT_VERSION_MAJOR * 1000000 + JWTGRANT_VERSION_MINOR * 1000 + JWTGRANT_VERSION_PATCH)

/* ------------------------------------------------------------------------
 * Opaque types
 * ---------------------------------------------------------------------- */

/** One authorization server: its configuration, trusted token issuers,
 *  applications, replay cache and signing key. */
typedef struct jwtgrant_ctx jwtgrant_ctx;

/** jansson's value type, for the optional *_json variants (include
 *  <jansson.h> to use them; the rest of this header does not need it). */
struct json_t;

/* ------------------------------------------------------------------------
 * Status codes. Append-only: never remove, never renumber, never reuse.
 * jwtgrant_status_name() gives the name, jwtgrant_oauth_error() the
 * RFC 6749 / RFC 6750 error code each maps to.
 * ---------------------------------------------------------------------- */

#define JWTGRANT_OK                       0   /* success */
#define JWTGRANT_EINVAL                  -1   /* NULL, malformed or unknown argument or JSON field */
#define JWTGRANT_ENOMEM                  -2   /* out of memory */
#define JWTGRANT_EINTERNAL               -3   /* internal error (a bug or a crypto library failure) */
#define JWTGRANT_EEXISTS                 -4   /* an issuer or client with that name / value exists */
#define JWTGRANT_ENOTFOUND               -5   /* no such issuer or client */
#define JWTGRANT_EKEY                    -6   /* unusable key material (unparsable, RSA < 2048, bad curve) */
#define JWTGRANT_ESTORE                  -7   /* the configured store failed */
/* Assertion failures (RFC 7523); all map to "invalid_grant". */
#define JWTGRANT_EMALFORMED              -8   /* not a compact JWS: shape, base64url, JSON, size */
#define JWTGRANT_EALGORITHM              -9   /* alg none, HS*, unknown, or not allowed for the key */
#define JWTGRANT_EHEADER                -10   /* unsupported header: crit, b64, or other forbidden use */
#define JWTGRANT_EUNTRUSTED_ISSUER      -11   /* iss missing or not a registered trusted token issuer */
#define JWTGRANT_EKEY_NOT_FOUND         -12   /* no key of the issuer matches kid / alg */
#define JWTGRANT_ESIGNATURE             -13   /* the signature does not verify */
#define JWTGRANT_EEXPIRED               -14   /* exp is in the past (beyond clock_skew) */
#define JWTGRANT_ENOT_YET_VALID         -15   /* nbf is in the future (beyond clock_skew) */
#define JWTGRANT_EIAT_TOO_OLD           -16   /* iat older than grant_type.jwt.iat_validity_period */
#define JWTGRANT_EIAT_FUTURE            -17   /* iat is in the future (beyond clock_skew) */
#define JWTGRANT_EAUDIENCE              -18   /* aud names neither this server nor the issuer's alias */
#define JWTGRANT_ECLAIM                 -19   /* a required claim is missing or ill-typed */
#define JWTGRANT_EREPLAY                -20   /* the assertion (jti or signature) was used before */
#define JWTGRANT_EKEY_SOURCE            -21   /* the issuer's key source (JWKS endpoint) is unavailable */
/* Token endpoint request failures (RFC 6749 5.2). */
#define JWTGRANT_EINVALID_REQUEST       -22   /* malformed token request: "invalid_request" (400) */
#define JWTGRANT_EINVALID_CLIENT        -23   /* client authentication failed: "invalid_client" (401) */
#define JWTGRANT_EUNAUTHORIZED_CLIENT   -24   /* client not allowed the grant: "unauthorized_client" (400) */
#define JWTGRANT_EUNSUPPORTED_GRANT     -25   /* other grant type: "unsupported_grant_type" (400) */
#define JWTGRANT_EINVALID_SCOPE         -26   /* scope outside the client's: "invalid_scope" (400) */
/* Access tokens this server issued (RFC 6750). */
#define JWTGRANT_EINVALID_TOKEN         -27   /* not a valid access token of ours: "invalid_token" */
/* exp lies further from now than grant_type.jwt.max_assertion_lifetime:
 * "invalid_grant" (400). */
#define JWTGRANT_EASSERTION_LIFETIME    -28   /* exp beyond max_assertion_lifetime: "invalid_grant" */
/* Shared stores ("store": "sqlite:..." or "redis://..."): the store cannot
 * be reached or answered late; retry later. */
#define JWTGRANT_EUNAVAILABLE           -29   /* store unavailable: "temporarily_unavailable" (503) */
/* Per-issuer trust policy (the policy fields of jwtgrant_register_issuer);
 * each is "invalid_grant" (400) and leaves the assertion unconsumed. */
#define JWTGRANT_ESUBJECT_NOT_ALLOWED   -30   /* sub not in the issuer's allowed_subjects */
#define JWTGRANT_ECLIENT_NOT_ALLOWED    -31   /* client not in the issuer's allowed_clients */
#define JWTGRANT_EISSUER_EXPIRED        -32   /* the issuer's trust ended (expires_at) */
#define JWTGRANT_EJTI_REQUIRED          -33   /* no jti, and the issuer has require_jti */

/* ------------------------------------------------------------------------
 * Library
 * ---------------------------------------------------------------------- */

/** The library version, e.g. "1.0.0". Static string. */
JWTGRANT_API const char *jwtgrant_version(void);

/** The library version as X*1000000 + Y*1000 + Z. */
JWTGRANT_API int32_t jwtgrant_version_number(void);

/** The name of a status code, e.g. "JWTGRANT_EEXPIRED"; "JWTGRANT_UNKNOWN"
 *  for a code this version does not know. Static string, never NULL. */
JWTGRANT_API const char *jwtgrant_status_name(int32_t status);

/** The OAuth error code a status maps to ("invalid_grant", "invalid_client",
 *  ... RFC 6749 5.2; "invalid_token" RFC 6750; "server_error" for internal
 *  failures). NULL for JWTGRANT_OK. Static string. */
JWTGRANT_API const char *jwtgrant_oauth_error(int32_t status);

/** Releases memory handed out by the library. NULL is a no-op. */
JWTGRANT_API void jwtgrant_free(void *ptr);

/* ------------------------------------------------------------------------
 * Server context
 * ---------------------------------------------------------------------- */

/**
 * Creates an authorization server.
 *
 * @param[out] out          receives the new context (NULL on failure);
 *                          release it with jwtgrant_ctx_free().
 * @param config_json       configuration; every field optional, NULL or "{}"
 *                          gives embedded defaults; unknown fields and wrong
 *                          types are JWTGRANT_EINVAL naming the field:
 *     issuer                 this server's issuer ("https://localhost:9443/oauth2/token")
 *     token_endpoint         another accepted aud (none)
 *     clock_skew             seconds of leeway on exp, nbf, iat (0)
 *     jwks_endpoint: { connection_timeout, read_timeout (ms, 1000 each),
 *                      size_limit_bytes (51200),
 *                      ca_file (PEM CA bundle for a private CA),
 *                      min_cache_ttl (60), max_cache_ttl (86400),
 *                      default_cache_ttl (600), unknown_kid_cooldown (30),
 *                      stale_if_error (86400), retry_after_failure (5)
 *                      (seconds), refresh_ahead (fraction of the
 *                      lifetime, 0.2) }
 *     grant_type: { jwt: { enable_iat_validation (true),
 *                          iat_validity_period (minutes, 30),
 *                          enable_jwt_cache (true),
 *                          max_assertion_lifetime (seconds from now to
 *                          exp, 0..315360000; 0 = no limit, the default;
 *                          beyond: JWTGRANT_EASSERTION_LIFETIME) } }
 *     access_token: { lifetime (seconds, 3600), signing_key (PEM private
 *                     key; generated at start when absent),
 *                     algorithm ("ES256", "RS256" or "EdDSA"; default the
 *                     signing key's, ES256 for a generated key) }
 *     store                  where the shared state lives ("memory"):
 *                            "memory": in this context only;
 *                            "sqlite:PATH": a SQLite file shared by every
 *                              process of the machine (WAL mode; created
 *                              with mode 0600; PATH's directory must be
 *                              writable: the -wal and -shm files live
 *                              beside it);
 *                            "redis://[:PASSWORD@]HOST:PORT[/DB]": a Redis
 *                              server shared by every process on every
 *                              machine (keys under store_options.key_prefix).
 *                            See "Shared stores" below.
 *     store_options: { connect_timeout, command_timeout (Redis, ms, 250
 *                      each), key_prefix (Redis, "jwtgrant:"),
 *                      busy_timeout (SQLite, ms a statement waits for
 *                      another process's lock, 1000) }
 *     max_assertion_size     bytes, 1024..1048576 (32768); also sets the
 *                            token endpoint's body limit to this + 32768
 * @param[out] error_out    optional; message on failure (free with jwtgrant_free).
 * @return JWTGRANT_OK, JWTGRANT_EINVAL (also a malformed store value),
 *         JWTGRANT_EKEY (bad signing_key), JWTGRANT_ESTORE (the store
 *         answered unusably: not a SQLite database, a schema newer than this
 *         library's, a file or directory that cannot be written, a refused
 *         Redis password), JWTGRANT_EUNAVAILABLE (the store cannot be
 *         reached or answered late).
 *
 * Shared stores. On a "sqlite:" or "redis://" store, every context opened
 * on the same store shares:
 *   - the replay records: consuming an assertion is one atomic
 *     insert-if-absent, so of all processes and machines exactly one
 *     exchange of an assertion succeeds;
 *   - the issuers and clients: registrations and removals are written to
 *     the store before they return JWTGRANT_OK (a process killed right
 *     afterwards loses none); a context starts with what the store holds and
 *     sees other processes' changes within one second (it reads the store's
 *     generation counter at most once a second, on a request). Registering
 *     an issuer or client identical to the stored one is JWTGRANT_OK (every
 *     worker registering the same configuration at start-up); the same name
 *     with other content is JWTGRANT_EEXISTS. Client secrets are stored only
 *     as salted hashes;
 *   - the access-token signing key, when access_token.signing_key is not
 *     configured: the first context generates it and stores it (a PRIVATE
 *     KEY, unencrypted: protect the SQLite file and the Redis server as a
 *     secret); every context signs with it and jwtgrant_jwks() gives the
 *     same document everywhere.
 * Faults fail closed: when the store cannot be reached or answers late
 * (Redis: command_timeout; SQLite: busy_timeout, I/O errors), no assertion
 * is accepted: jwtgrant_exchange_token answers HTTP 503
 * {"error":"temporarily_unavailable"} with JWTGRANT_EUNAVAILABLE (its
 * error_description is the generic text of that status: the store's address
 * is not for the client). The error messages of the other functions
 * (jwtgrant_verify_assertion, the registrations) name the store and the
 * reason, never a password. Service resumes by itself when the store is
 * back.
 */
JWTGRANT_API int32_t jwtgrant_ctx_new(jwtgrant_ctx **out, const char *config_json,
                                      char **error_out);

/** Destroys a context and everything it owns. NULL is a no-op. Must not be
 *  called while another thread uses the context. Called in a child of fork()
 *  on a context created before the fork, it returns at once and frees
 *  nothing (see THREAD SAFETY at the top of this header). */
JWTGRANT_API void jwtgrant_ctx_free(jwtgrant_ctx *ctx);

/**
 * Fixes the clock of a context (for tests and replays): from now on the
 * context judges exp, nbf and iat, and stamps issued tokens, as if the time
 * were `unix_time` seconds since the epoch. 0 returns to the system clock.
 * Thread-safe.
 *
 * @return JWTGRANT_OK or JWTGRANT_EINVAL (NULL ctx, negative time).
 */
JWTGRANT_API int32_t jwtgrant_ctx_set_time(jwtgrant_ctx *ctx, int64_t unix_time,
                                           char **error_out);

/* ------------------------------------------------------------------------
 * Trusted token issuers
 * ---------------------------------------------------------------------- */

/**
 * Registers a trusted token issuer.
 *
 * @param issuer_json  {"name", "issuer", "alias"?, and exactly one of
 *                     "certificate" (PEM, one or several, or DER as base64),
 *                     "certificate_file" (the path of such a file, or of a
 *                     binary DER certificate), "jwks_uri", "jwks" (inline
 *                     JWKS document), "jwks_file" (the path of a JWKS
 *                     document)}. Files are read once, during this call: a
 *                     regular file of at most 1 MiB.
 *                     Key material is validated now: unparsable keys, RSA
 *                     under 2048 bits and unsupported curves are refused,
 *                     and so is a certificate already expired by the
 *                     context's clock (a bundle: when all have expired);
 *                     the message gives its notAfter date.
 *                     Optional trust policy (a malformed value is
 *                     JWTGRANT_EINVAL naming the field); identifiers
 *                     compare byte for byte:
 *     allowed_subjects   array of exact sub values accepted (absent: any;
 *                        else JWTGRANT_ESUBJECT_NOT_ALLOWED)
 *     subject_format     the sub of the issued access token: a template
 *                        over {sub} (the assertion's sub), {name} (this
 *                        issuer's name) and {issuer} (its issuer value);
 *                        must contain {sub}; any other {...} or a lone
 *                        brace is refused. Default "{sub}"; "{name}|{sub}"
 *                        keeps the subjects of two issuers apart by sub.
 *                        Every access token also carries "idp": the
 *                        issuer value of the trusted issuer it came from.
 *     allowed_scopes     array of scope tokens an exchange of its
 *                        assertions may be granted (absent: no restriction
 *                        beyond the client's scopes); a requested scope
 *                        outside it is JWTGRANT_EINVALID_SCOPE
 *     allowed_clients    array of client_ids that may exchange its
 *                        assertions (absent: every client allowed the
 *                        grant; else JWTGRANT_ECLIENT_NOT_ALLOWED)
 *     expires_at         NumericDate; after it the issuer's assertions are
 *                        refused (JWTGRANT_EISSUER_EXPIRED) and
 *                        jwtgrant_list_issuers shows "expired": true
 *                        (absent: never)
 *     require_jti        true: an assertion without jti is
 *                        JWTGRANT_EJTI_REQUIRED (default false)
 *     max_assertion_lifetime  seconds, 0..315360000, replacing
 *                        grant_type.jwt.max_assertion_lifetime for this
 *                        issuer (absent: the server-wide value)
 *     iat_validity_period     minutes, 1..525600, replacing
 *                        grant_type.jwt.iat_validity_period for this
 *                        issuer; the iat age check then applies to its
 *                        assertions even with enable_iat_validation false
 *                     Every policy rule runs after the signature check and
 *                     before the assertion is recorded as used: an
 *                     assertion refused by policy is not consumed. To
 *                     change a policy, remove the issuer and register it
 *                     again with the new content.
 *                     On a shared store the policy is part of the stored
 *                     registration document: every process applies it.
 * @return JWTGRANT_OK, JWTGRANT_EINVAL (also: a key file missing,
 *         unreadable, not a regular file or over 1 MiB; the message names
 *         the path, never the content), JWTGRANT_EEXISTS (name or issuer
 *         value taken; on a shared store, the name stored with other
 *         content), JWTGRANT_EKEY, and on a shared store JWTGRANT_ESTORE or
 *         JWTGRANT_EUNAVAILABLE (nothing registered).
 */
JWTGRANT_API int32_t jwtgrant_register_issuer(jwtgrant_ctx *ctx, const char *issuer_json,
                                              char **error_out);

/** Removes the trusted token issuer called `name`. Its assertions are
 *  rejected from the moment this returns (by other processes sharing the
 *  store within one second).
 *  @return JWTGRANT_OK, JWTGRANT_EINVAL, JWTGRANT_ENOTFOUND, and on a shared
 *          store JWTGRANT_ESTORE or JWTGRANT_EUNAVAILABLE. */
JWTGRANT_API int32_t jwtgrant_remove_issuer(jwtgrant_ctx *ctx, const char *name,
                                            char **error_out);

/**
 * Lists the trusted token issuers as a JSON array of objects: name, issuer,
 * alias, key source ("certificate", "jwks", "jwks_uri"), key ids and
 * "key_details": per key in use {"kty", "summary", "kid" (or null),
 * "thumbprint" (RFC 7638, SHA-256, base64url), "not_before", "not_after"
 * (a certificate's validity, RFC 3339 UTC, or null) and, for a
 * certificate, "expired"}. No key material. A
 * "jwks" or "jwks_uri" issuer also has "ignored_keys": the keys of its set
 * that are not used (RFC 7517 5), each {"index", "kid" (or null), "reason"}
 * (a "use" other than "sig", "key_ops" without "verify", an "alg", "kty" or
 * curve this library does not verify with). Each object also shows the
 * trust policy: "allowed_subjects", "allowed_scopes", "allowed_clients"
 * (arrays, or null when absent), "subject_format", "expires_at" (or null),
 * "expired" (true once the context's clock is past expires_at),
 * "require_jti", "max_assertion_lifetime" and "iat_validity_period" (null:
 * the server-wide value).
 *
 * @param[out] issuers_json_out  new string, free with jwtgrant_free.
 */
JWTGRANT_API int32_t jwtgrant_list_issuers(jwtgrant_ctx *ctx, char **issuers_json_out,
                                           char **error_out);

/* ------------------------------------------------------------------------
 * Applications (OAuth clients)
 * ---------------------------------------------------------------------- */

/**
 * Registers an application. Thread-safe.
 *
 * @param client_json  {"client_id", "client_secret"?,
 *                     "token_endpoint_auth_method"?, "grant_types"?,
 *                     "scopes"?, "access_token_lifetime"?}. The secret is
 *                     kept only as a salted hash.
 *                     token_endpoint_auth_method (RFC 7591 names):
 *                     "client_secret_basic" (Authorization: Basic only),
 *                     "client_secret_post" (client_id and client_secret in
 *                     the form body only), absent (either of the two), or
 *                     "none": a public client, which has no client_secret
 *                     and sends only client_id in the body (RFC 7523 3.1).
 *                     A client without client_secret must say "none"; a
 *                     "none" client must not have one (JWTGRANT_EINVAL
 *                     naming the field). access_token_lifetime (seconds,
 *                     1..31536000) replaces access_token.lifetime for the
 *                     tokens issued to this client.
 *                     The exchange is allowed only when grant_types contains
 *                     "urn:ietf:params:oauth:grant-type:jwt-bearer".
 *                     scopes lists what the client may request; absent or
 *                     [] means it may request no scope at all (a request
 *                     with a scope parameter is then invalid_scope).
 *                     On a shared store, registering the client again with
 *                     the same content (secret, authentication method,
 *                     grant types, scopes, access_token_lifetime) is OK.
 * @return JWTGRANT_OK, JWTGRANT_EINVAL, JWTGRANT_EEXISTS, and on a shared
 *         store JWTGRANT_ESTORE or JWTGRANT_EUNAVAILABLE.
 */
JWTGRANT_API int32_t jwtgrant_register_client(jwtgrant_ctx *ctx, const char *client_json,
                                              char **error_out);

/**
 * Removes the application `client_id` (compared byte for byte). Its token
 * requests fail with invalid_client from the moment this returns (a request
 * already past client authentication finishes). Thread-safe.
 *
 * On a shared store the client is removed from the store before this
 * returns; other processes refuse it within one second.
 *
 * @return JWTGRANT_OK, JWTGRANT_EINVAL (NULL argument),
 *         JWTGRANT_ENOTFOUND (no such client), and on a shared store
 *         JWTGRANT_ESTORE or JWTGRANT_EUNAVAILABLE (nothing removed).
 */
JWTGRANT_API int32_t jwtgrant_remove_client(jwtgrant_ctx *ctx, const char *client_id,
                                            char **error_out);

/**
 * Lists the applications as a JSON array sorted by client_id, never with a
 * secret or its hash. Each object: "client_id", "token_endpoint_auth_method"
 * (only when registered), "auth_methods" (the methods accepted now),
 * "grant_types", "scopes" ([] when the client may request none), "secrets"
 * (how many secrets authenticate the client now: 0 for a public client, 2 or
 * more during a rotation's grace period) and, during a grace period,
 * "grace_until" (Unix seconds at which the last previous secret stops
 * working). Thread-safe. On a shared store: the clients as of the last
 * generation check (at most one second old).
 *
 * @param[out] clients_json_out  new string, free with jwtgrant_free; NULL on
 *                               failure.
 * @return JWTGRANT_OK, JWTGRANT_EINVAL.
 */
JWTGRANT_API int32_t jwtgrant_list_clients(jwtgrant_ctx *ctx, char **clients_json_out,
                                           char **error_out);

/**
 * Gives the confidential application `client_id` a new secret (kept only as
 * a salted hash). With grace_seconds 0 the new secret replaces every earlier
 * one atomically: the old secret fails from the moment this returns. With
 * grace_seconds N > 0 the secret that was current stays valid N more seconds
 * (by the context's clock, see jwtgrant_ctx_set_time) next to the new one,
 * so that the client's instances can be updated one by one; secrets of
 * earlier rotations still in their grace period keep their own end.
 * Thread-safe: concurrent rotations of one client apply one after the other.
 * On a shared store the new secret and the grace secrets (salted hashes,
 * with their end) are written to the store before this returns, and
 * concurrent rotations from several processes also apply one after the
 * other (compare-and-set on the stored registration); other processes use
 * them within one second. The stored registration then holds the new
 * secret: registering the client again with the old one is
 * JWTGRANT_EEXISTS.
 *
 * @param new_secret     the new secret, non-empty UTF-8.
 * @param grace_seconds  0 ... 31536000 (one year).
 * @return JWTGRANT_OK, JWTGRANT_EINVAL (NULL or empty argument, grace out of
 *         range, a public client), JWTGRANT_ENOTFOUND (no such client),
 *         and on a shared store JWTGRANT_ESTORE or JWTGRANT_EUNAVAILABLE
 *         (nothing changed).
 */
JWTGRANT_API int32_t jwtgrant_rotate_client_secret(jwtgrant_ctx *ctx, const char *client_id,
                                                   const char *new_secret, int64_t grace_seconds,
                                                   char **error_out);

/* ------------------------------------------------------------------------
 * Assertions and the token endpoint
 * ---------------------------------------------------------------------- */

/**
 * Validates a JWT bearer assertion as the token endpoint would (signature,
 * iss, sub, aud, exp, nbf, iat, replay), without consuming its jti. Of the
 * trusted issuer's policy it applies expires_at, allowed_subjects,
 * require_jti and the per-issuer time rules; it knows no client and no
 * requested scope, so it skips allowed_clients and allowed_scopes (an
 * assertion it accepts may still be refused by jwtgrant_exchange_token for
 * the client or scope of the request). The claims are the assertion's: the
 * access token's sub (subject_format) is made only by the token endpoint.
 *
 * @param assertion             the compact JWS.
 * @param[out] claims_json_out  on success the verified claims as a JSON
 *                              object plus "_issuer_name" (the trusted
 *                              issuer that matched); new string, free with
 *                              jwtgrant_free. NULL on failure.
 * @return JWTGRANT_OK or the status of the first rule that failed
 *         (JWTGRANT_EMALFORMED ... JWTGRANT_EKEY_SOURCE,
 *         JWTGRANT_EASSERTION_LIFETIME, JWTGRANT_ESUBJECT_NOT_ALLOWED,
 *         JWTGRANT_EISSUER_EXPIRED, JWTGRANT_EJTI_REQUIRED).
 */
JWTGRANT_API int32_t jwtgrant_verify_assertion(jwtgrant_ctx *ctx, const char *assertion,
                                               char **claims_json_out, char **error_out);

/**
 * jansson variant of jwtgrant_verify_assertion() for C callers that already
 * use jansson (the same libjansson the library links): on success
 * *claims_out is a NEW REFERENCE to the claims object (release it with
 * json_decref). Saves serializing and re-parsing the claims.
 */
JWTGRANT_API int32_t jwtgrant_verify_assertion_json(jwtgrant_ctx *ctx, const char *assertion,
                                                    struct json_t **claims_out, char **error_out);

/**
 * The token endpoint (POST /oauth2/token).
 *
 * @param authorization      the raw Authorization header value, or NULL.
 * @param form_body          the raw application/x-www-form-urlencoded body.
 * @param[out] http_status_out    always set: 200, 400, 401, 503 (a shared
 *                                store is unreachable: JWTGRANT_EUNAVAILABLE,
 *                                "temporarily_unavailable") or 500.
 * @param[out] response_json_out  always set (unless NULL): the JSON body to
 *                                send, RFC 6749 5.1 or 5.2; new string, free
 *                                with jwtgrant_free. An error body's
 *                                error_description is short and generic,
 *                                one text per status code (it never names a
 *                                trusted issuer, key or rule detail); the
 *                                returned status code says what failed, and
 *                                jwtgrant_verify_assertion() gives the
 *                                detailed reason for an assertion.
 * Client authentication: client_secret_basic (Authorization: Basic),
 * client_secret_post (client_id and client_secret in the body) or, for a
 * public client, client_id alone (see jwtgrant_register_client). The body
 * may be up to max_assertion_size + 32768 bytes (65536 by default); a larger
 * body is invalid_request.
 * The issued access token (RFC 9068) carries iss, sub (the trusted
 * issuer's subject_format applied to the assertion's sub), aud, client_id,
 * "idp" (the issuer value of the trusted issuer the assertion came from),
 * iat, exp (iat plus the client's access_token_lifetime, else
 * access_token.lifetime), jti and scope (the requested scopes, when any;
 * they must lie within the client's scopes and the issuer's
 * allowed_scopes).
 * The host sends the body with Content-Type: application/json,
 * Cache-Control: no-store and Pragma: no-cache, and with a 401 also
 * WWW-Authenticate: Basic.
 * @return JWTGRANT_OK or the status code of the failure.
 */
JWTGRANT_API int32_t jwtgrant_exchange_token(jwtgrant_ctx *ctx, const char *authorization,
                                             const char *form_body, int32_t *http_status_out,
                                             char **response_json_out);

/**
 * The largest token request body jwtgrant_exchange_token() accepts, in
 * bytes: the configuration's max_assertion_size + 32768 (65536 by default).
 * A host that reads the body itself (an HTTP server module) uses it as its
 * own limit, so that there is one limit, set by the configuration.
 * Thread-safe.
 *
 * @param[out] limit_out  the limit; required.
 * @return JWTGRANT_OK or JWTGRANT_EINVAL (NULL argument).
 */
JWTGRANT_API int32_t jwtgrant_token_body_limit(jwtgrant_ctx *ctx, size_t *limit_out, char **error_out);

/* ------------------------------------------------------------------------
 * Access tokens this server issues (for resource servers)
 * ---------------------------------------------------------------------- */

/** The public keys of the access tokens this server issues, as a JWKS
 *  document (no private members).
 *  @param[out] jwks_json_out  new string, free with jwtgrant_free. */
JWTGRANT_API int32_t jwtgrant_jwks(jwtgrant_ctx *ctx, char **jwks_json_out, char **error_out);

/** Validates an access token issued by this server (signature, typ at+jwt,
 *  iss, exp) and returns its claims.
 *  @param[out] claims_json_out  new string, free with jwtgrant_free.
 *  @return JWTGRANT_OK, JWTGRANT_EINVAL, JWTGRANT_EINVALID_TOKEN. */
JWTGRANT_API int32_t jwtgrant_verify_access_token(jwtgrant_ctx *ctx, const char *token,
                                                  char **claims_json_out, char **error_out);

/**
 * jansson variant of jwtgrant_verify_access_token(): on success *claims_out
 * is a NEW REFERENCE to the claims object (release it with json_decref).
 */
JWTGRANT_API int32_t jwtgrant_verify_access_token_json(jwtgrant_ctx *ctx, const char *token,
                                                       struct json_t **claims_out, char **error_out);


/* ------------------------------------------------------------------------
 * JWKS endpoints: host-side fetching
 *
 * An issuer registered with "jwks_uri" gets its keys from that URL. By
 * default the library fetches it itself with libcurl: https only (http only
 * to 127.0.0.0/8, ::1, localhost), no redirects, TLS verification always
 * on, the whole transfer bounded by jwks_endpoint.connection_timeout +
 * jwks_endpoint.read_timeout, at most jwks_endpoint.size_limit_bytes. Such a
 * fetch blocks the calling thread only when no usable key set is cached
 * (first use, or a token with a kid not in the set, at most once per 30 s
 * per issuer); otherwise keys are refreshed ahead of expiry on a background
 * thread of the library.
 *
 * A host with its own event loop (nginx, an async runtime) that must never
 * block in the library can take the fetching over:
 *   - jwtgrant_set_jwks_fetcher() registers a function the library calls
 *     instead of libcurl. It may answer at once through the sink, or start
 *     the fetch on its loop and return JWTGRANT_JWKS_FETCH_PENDING;
 *   - jwtgrant_issuer_set_jwks() hands a JWKS document in at any time (the
 *     answer to a pending fetch, or a document the host obtained otherwise).
 * ---------------------------------------------------------------------- */

/** Where a fetch function delivers its answer. Owned by the library and
 *  valid only until the fetch function that received it returns: never keep
 *  it, never use it from another thread after that return. */
typedef struct jwtgrant_jwks_sink jwtgrant_jwks_sink;

/** Returned by a jwtgrant_jwks_fetch_fn that started the fetch and will hand
 *  the document in later with jwtgrant_issuer_set_jwks(). (Positive: it is
 *  not a status code.) */
#define JWTGRANT_JWKS_FETCH_PENDING 1

/**
 * A host fetch function: fetches `url` (GET) for the issuer `issuer_name`.
 *
 * Called on the thread of a verification (jwtgrant_verify_assertion,
 * jwtgrant_exchange_token) when no usable key set is cached, or on a
 * background thread of the library to refresh one ahead of expiry. It may be
 * called from several threads at once (never twice at once for the same
 * issuer) and must be thread-safe.
 *
 * The function answers in one of three ways:
 *   - it calls jwtgrant_jwks_fetch_result() (or jwtgrant_jwks_fetch_error())
 *     once on `sink` and returns JWTGRANT_OK;
 *   - it returns JWTGRANT_JWKS_FETCH_PENDING: the fetch goes on in the host,
 *     which later calls jwtgrant_issuer_set_jwks(ctx, issuer_name, ...).
 *     Meanwhile tokens are verified with the cached key set, or fail with
 *     JWTGRANT_EKEY_SOURCE when there is none. The library does not call the
 *     function again for that issuer for 5 seconds, and afterwards only if
 *     no document has arrived: a host should coalesce repeated calls;
 *   - it returns a negative value: the fetch failed (give the reason with
 *     jwtgrant_jwks_fetch_error() first, if known).
 *
 * It must not call jwtgrant_verify_assertion() or jwtgrant_exchange_token()
 * of the same context (they may wait for this very fetch); it may call
 * jwtgrant_issuer_set_jwks().
 *
 * @param user_data         the pointer given to jwtgrant_set_jwks_fetcher().
 * @param issuer_name       the "name" of the trusted token issuer; valid
 *                          during the call only (copy it to keep it).
 * @param url               the issuer's jwks_uri; valid during the call only.
 * @param timeout_ms        the bound the library applies to its own fetches
 *                          (connection_timeout + read_timeout); a blocking
 *                          host function should honour it.
 * @param size_limit_bytes  the largest document accepted.
 * @param sink              where to deliver the answer; see jwtgrant_jwks_sink.
 * @return JWTGRANT_OK, JWTGRANT_JWKS_FETCH_PENDING, or a negative value.
 */
typedef int32_t (*jwtgrant_jwks_fetch_fn)(void *user_data, const char *issuer_name,
                                          const char *url, int32_t timeout_ms,
                                          int32_t size_limit_bytes,
                                          jwtgrant_jwks_sink *sink);

/**
 * Makes `fn` the fetcher of every "jwks_uri" issuer of `ctx`, those already
 * registered included. Thread-safe.
 *
 * @param fn         the host fetch function; NULL returns to the built-in
 *                   libcurl fetcher.
 * @param user_data  passed to `fn` unchanged; not owned by the library. It
 *                   must stay valid until `fn` is replaced or the context is
 *                   freed, and every call of `fn` in progress has returned.
 *                   jwtgrant_ctx_free() waits for a fetch in progress on a
 *                   library thread for at most timeout_ms + 1 s: a fetch
 *                   function that returns within timeout_ms (or returns
 *                   JWTGRANT_JWKS_FETCH_PENDING at once) is never called
 *                   or still running after jwtgrant_ctx_free() returns.
 * @param[out] error_out  optional; message on failure (free with jwtgrant_free).
 * @return JWTGRANT_OK or JWTGRANT_EINVAL (NULL ctx).
 */
JWTGRANT_API int32_t jwtgrant_set_jwks_fetcher(jwtgrant_ctx *ctx, jwtgrant_jwks_fetch_fn fn,
                                               void *user_data, char **error_out);

/**
 * Delivers the answer of a fetch to `sink`, from inside the fetch function
 * that received it. The body is copied: the host keeps ownership of `body`
 * and frees it with its own allocator after this returns. The library judges
 * the answer as it would its own fetch: a 3xx is "redirect not followed",
 * another non-2xx status, a body larger than size_limit_bytes, a body that is
 * not JSON or not a JWKS make the key source unavailable, with that reason.
 *
 * @param sink         the sink given to the fetch function.
 * @param http_status  the HTTP status of the answer (e.g. 200).
 * @param body         the response body (need not be NUL-terminated); may
 *                     be NULL when `len` is 0.
 * @param len          the length of `body` in bytes.
 * @param max_age      the Cache-Control max-age of the answer in seconds
 *                     (0 for no-store / no-cache), or -1 when absent. The
 *                     lifetime is clamped to [60 s, 24 h], 10 min when absent.
 * @return JWTGRANT_OK, or JWTGRANT_EINVAL (NULL sink, NULL body with a
 *         non-zero len, or an answer already delivered to this sink).
 */
JWTGRANT_API int32_t jwtgrant_jwks_fetch_result(jwtgrant_jwks_sink *sink, int32_t http_status,
                                                const char *body, size_t len,
                                                int32_t max_age);

/**
 * Reports that a fetch failed, from inside the fetch function that received
 * `sink`. `reason` ("connection refused", "timeout") is copied and shown in
 * the issuer's "last_error" (jwtgrant_list_issuers).
 *
 * @param reason  NUL-terminated text; NULL gives a generic reason.
 * @return JWTGRANT_OK, or JWTGRANT_EINVAL (NULL sink, or an answer already
 *         delivered to this sink).
 */
JWTGRANT_API int32_t jwtgrant_jwks_fetch_error(jwtgrant_jwks_sink *sink, const char *reason);

/**
 * Hands in the JWKS document of the trusted token issuer `issuer_name`: the
 * answer to a fetch that returned JWTGRANT_JWKS_FETCH_PENDING, or a document
 * the host obtained in any other way. For a "jwks_uri" issuer it replaces the
 * cached key set, which then lives `max_age_seconds`; for a "jwks" issuer it
 * replaces the inline key set. It takes effect from
 * the moment this returns (verifications that start afterwards use the new
 * set). Thread-safe; never blocks on the network.
 *
 * @param issuer_name      the issuer's "name".
 * @param jwks_json        a JWKS document (RFC 7517 5: {"keys": [...]}),
 *                         NUL-terminated; only read during the call.
 * @param max_age_seconds  lifetime in seconds, clamped to [60 s, 24 h]
 *                         (jwks_endpoint bounds); -1 for the default (10 min).
 * @param[out] error_out   optional; message on failure (free with jwtgrant_free).
 * @return JWTGRANT_OK; JWTGRANT_EINVAL (NULL argument, not JSON, not a
 *         JWKS, or an issuer registered with "certificate");
 *         JWTGRANT_ENOTFOUND (no such issuer); JWTGRANT_EKEY (a key is
 *         malformed: a point off its curve, RSA under 2048 bits, a private
 *         member, a member of the wrong type; or no key is usable). Keys
 *         that are well formed but not for us (Ed448, "use":"enc", an
 *         encryption "alg", an unknown "kty") are ignored and listed as
 *         "ignored_keys" by jwtgrant_list_issuers. On failure the cached key
 *         set is left as it was.
 */
JWTGRANT_API int32_t jwtgrant_issuer_set_jwks(jwtgrant_ctx *ctx, const char *issuer_name,
                                              const char *jwks_json, int32_t max_age_seconds,
                                              char **error_out);

/* ------------------------------------------------------------------------
 * Audit trail and counters
 *
 * Every token request, every verification and every JWKS fetch can be
 * reported to the host's log function as one event, a JSON object:
 *
 *   {"event": "exchange", "time", "outcome", "status", "status_name",
 *    "http_status", "oauth_error", "client_id", "issuer_name", "sub",
 *    "jti_hash", "scope", "reason", "duration_us"}
 *   {"event": "verification", "time", "outcome", "status", "status_name",
 *    "issuer_name", "sub", "jti_hash", "reason"}
 *   {"event": "jwks_fetch", "time", "outcome", "issuer_name", "url",
 *    "http_status", "keys_loaded", "reason", "next_refresh"}
 *
 * "outcome" is "success", "refused" (the request's fault: level WARNING) or
 * "error" (the server's side, HTTP 500: level ERROR); for a fetch "success",
 * "deferred" (handed to the host's fetch function) or "failure" (level
 * ERROR). "reason" is the detailed refusal reason (the token endpoint's
 * HTTP answer may carry a shorter description). "client_id" is set once the
 * client authenticated; "issuer_name" once "iss" matched a trusted issuer;
 * "sub" and "jti_hash" (the first 16 hex digits of SHA-256 of "jti") only
 * from an assertion whose signature verified; null otherwise. "time" and
 * "next_refresh" are Unix seconds. An event never holds a token, a secret
 * or key material.
 * ---------------------------------------------------------------------- */

/* Event levels: the syslog severities (Apache's APLOG_ERR, APLOG_WARNING,
 * APLOG_INFO). */
#define JWTGRANT_LOG_ERROR    3
#define JWTGRANT_LOG_WARNING  4
#define JWTGRANT_LOG_INFO     6

/**
 * The host's log function. Called on the thread that did the work (a
 * request thread, or a background JWKS refresh thread), with no lock of the
 * library held: it may call any function of the library, the same context
 * included (jwtgrant_stats(), jwtgrant_set_log_callback(), even
 * jwtgrant_verify_assertion()). It should return quickly; concurrent calls
 * from several threads are normal.
 *
 * @param user_data   the pointer given to jwtgrant_set_log_callback().
 * @param level       JWTGRANT_LOG_ERROR, JWTGRANT_LOG_WARNING or
 *                    JWTGRANT_LOG_INFO.
 * @param event_json  one event (above), NUL-terminated JSON; valid during
 *                    the call only (copy it to keep it).
 */
typedef void (*jwtgrant_log_fn)(void *user_data, int32_t level, const char *event_json);

/**
 * Makes `fn` the log and audit function of `ctx`, replacing any previous
 * one. Thread-safe. Without a function (the default) no event is built.
 *
 * @param fn         the host function; NULL removes it. Calls already
 *                   running finish; none starts after this call returns.
 * @param user_data  passed to `fn` unchanged; not owned by the library. It
 *                   must stay valid until `fn` is replaced or removed and
 *                   calls in progress have returned, or the context is freed.
 * @param[out] error_out  optional; message on failure (free with jwtgrant_free).
 * @return JWTGRANT_OK or JWTGRANT_EINVAL (NULL ctx, a context from before
 *         a fork()).
 */
JWTGRANT_API int32_t jwtgrant_set_log_callback(jwtgrant_ctx *ctx, jwtgrant_log_fn fn, void *user_data,
                                               char **error_out);

/**
 * The counters of `ctx` since it was created, as a JSON object:
 *   {"since", "uptime_seconds",
 *    "exchanges": {"total", "success", "refused", "error",
 *                  "by_status": {"JWTGRANT_OK": n, "JWTGRANT_EEXPIRED": n, ...},
 *                  "latency_us": {"p50", "p90", "p99"}},
 *    "verifications": {"total", "success", "refused", "error", "by_status"},
 *    "jwks": {"<issuer name>": {"fetches", "failures"}, ...},
 *    "replay_store_size"}
 * "by_status" lists only statuses seen. Latency quantiles are those of
 * jwtgrant_exchange_token() calls in microseconds, from a fixed histogram
 * of four buckets per power of two (each value is a bucket's upper bound,
 * within 19 % above the true quantile); null before the first exchange.
 * "jwks" lists the current "jwks_uri" issuers. "replay_store_size" is the
 * number of assertions recorded against replay (null if the store cannot
 * tell). Counting costs a few relaxed atomic increments per call, no lock.
 * Thread-safe.
 *
 * @param[out] stats_json_out  new string, free with jwtgrant_free.
 * @param[out] error_out       optional; message on failure (free with jwtgrant_free).
 * @return JWTGRANT_OK, JWTGRANT_EINVAL, JWTGRANT_ENOMEM.
 */
JWTGRANT_API int32_t jwtgrant_stats(jwtgrant_ctx *ctx, char **stats_json_out, char **error_out);

#ifdef __cplusplus
}
#endif

#endif /* JWTGRANT_H */
