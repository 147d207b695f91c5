/*
 * The log and audit callback (jwtgrant_set_log_callback) and the counters
 * (jwtgrant_stats) from C. An Ed25519 issuer with an inline JWKS, another
 * behind a JWKS endpoint served by a thread of this program on 127.0.0.1
 * (and one whose endpoint answers 404), one client. Checks each event's
 * members and level, that no event holds the assertion, the access token or
 * the client secret, that the callback may call back into the library, that
 * NULL removes it, and the counters. Prints "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#define TEST_PROGRAM "log_test"
#define TEST_KID "log-key"
#include <jwtgrant.h>

#include <jansson.h>

#include "test_issuer.h"

static int passed, failed;

#define CHECK(cond, what) do { \
    if (cond) passed++; \
    else { failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what); } \
} while (0)

/* ---- tokens ------------------------------------------------------------- */

static void sha256_hex16(const char *s, char out[17]) {
    unsigned char md[32];
    unsigned int len = 0;
    if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1) die("sha256");
    for (int i = 0; i < 8; i++) sprintf(out + 2 * i, "%02x", md[i]);
    out[16] = 0;
}

/* ---- a JWKS endpoint: /jwks answers the key set, anything else 404 ------ */

static void *serve(void *arg) {
    (void)arg;
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) { if (errno == EINTR) continue; return NULL; }
        char req[2048], resp[1024];
        ssize_t n = recv(fd, req, sizeof req - 1, 0);
        if (n > 0) {
            req[n] = 0;
            int len = strncmp(req, "GET /jwks ", 10) == 0
                ? snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Cache-Control: max-age=600\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                           strlen(jwks_doc), jwks_doc)
                : snprintf(resp, sizeof resp, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            send_response(fd, resp, len);
        }
        close(fd);
    }
}

/* ---- the log function: keeps copies of the events ----------------------- */

#define MAX_EVENTS 64
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static char *events[MAX_EVENTS];
static int levels[MAX_EVENTS];
static int n_events;
static int reentrant_stats_ok = -1;
/* Verified from inside the callback when the JWKS fetch event of its issuer
 * arrives: the fetch is applied before its event, so this neither waits for
 * it nor fetches again. */
static const char *reentrant_token;
static int reentrant_verify_rc = 1;

struct host { jwtgrant_ctx *ctx; int calls; };

static void on_event(void *user_data, int32_t level, const char *event_json) {
    struct host *h = user_data;
    /* Back into the library from the callback: no lock is held. */
    char *stats = NULL;
    int32_t rc = jwtgrant_stats(h->ctx, &stats, NULL);
    jwtgrant_free(stats);
    if (reentrant_token && strstr(event_json, "\"event\":\"jwks_fetch\"")) {
        const char *token = reentrant_token;
        reentrant_token = NULL;
        reentrant_verify_rc = jwtgrant_verify_assertion(h->ctx, token, NULL, NULL);
    }
    pthread_mutex_lock(&events_lock);
    h->calls++;
    if (reentrant_stats_ok != 0) reentrant_stats_ok = rc == JWTGRANT_OK;
    if (n_events < MAX_EVENTS) {
        levels[n_events] = level;
        events[n_events++] = strdup(event_json);
    }
    pthread_mutex_unlock(&events_lock);
}

/* The last event of kind `kind` as a JSON object (new reference), or NULL. */
static json_t *last_event(const char *kind) {
    json_t *found = NULL;
    pthread_mutex_lock(&events_lock);
    for (int i = n_events - 1; i >= 0 && !found; i--) {
        json_t *e = json_loads(events[i], 0, NULL);
        if (e && json_string_value(json_object_get(e, "event")) && strcmp(json_string_value(json_object_get(e, "event")), kind) == 0) {
            json_object_set_new(e, "_level", json_integer(levels[i]));
            found = e;
        } else {
            json_decref(e);
        }
    }
    pthread_mutex_unlock(&events_lock);
    return found;
}

static const char *str(json_t *e, const char *key) { return json_string_value(json_object_get(e, key)); }
static int is_null(json_t *e, const char *key) { return json_is_null(json_object_get(e, key)); }
static json_int_t num(json_t *e, const char *key) { return json_integer_value(json_object_get(e, key)); }

/* No event may contain `text` (a token, one of its segments, a secret). */
static int no_event_contains(const char *text) {
    int ok = 1;
    pthread_mutex_lock(&events_lock);
    for (int i = 0; i < n_events; i++) if (strstr(events[i], text)) ok = 0;
    pthread_mutex_unlock(&events_lock);
    return ok;
}

static int32_t exchange(jwtgrant_ctx *ctx, const char *auth, const char *token, int32_t *http, char **resp) {
    char body[4096];
    snprintf(body, sizeof body,
             "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer&assertion=%s", token);
    return jwtgrant_exchange_token(ctx, auth, body, http, resp);
}

int main(void) {
    make_issuer_key();
    start_endpoint(serve);

    jwtgrant_ctx *ctx = NULL;
    char *err = NULL;
    if (jwtgrant_ctx_new(&ctx, NULL, &err) != JWTGRANT_OK) die("ctx_new");
    char json[1024];
    snprintf(json, sizeof json, "{\"name\":\"partner\",\"issuer\":\"https://idp.example\",\"jwks\":%s}", jwks_doc);
    CHECK(jwtgrant_register_issuer(ctx, json, NULL) == JWTGRANT_OK, "register inline issuer");
    snprintf(json, sizeof json, "{\"name\":\"remote\",\"issuer\":\"https://remote.example\","
             "\"jwks_uri\":\"http://127.0.0.1:%d/jwks\"}", port);
    CHECK(jwtgrant_register_issuer(ctx, json, NULL) == JWTGRANT_OK, "register endpoint issuer");
    snprintf(json, sizeof json, "{\"name\":\"broken\",\"issuer\":\"https://broken.example\","
             "\"jwks_uri\":\"http://127.0.0.1:%d/missing\"}", port);
    CHECK(jwtgrant_register_issuer(ctx, json, NULL) == JWTGRANT_OK, "register broken issuer");
    CHECK(jwtgrant_register_client(ctx, "{\"client_id\":\"app\",\"client_secret\":\"s3cret-v4lue\","
          "\"grant_types\":[\"urn:ietf:params:oauth:grant-type:jwt-bearer\"]}", NULL) == JWTGRANT_OK,
          "register client");

    /* Argument checks. */
    CHECK(jwtgrant_set_log_callback(NULL, on_event, NULL, NULL) == JWTGRANT_EINVAL, "NULL ctx");
    char *stats = NULL;
    CHECK(jwtgrant_stats(NULL, &stats, NULL) == JWTGRANT_EINVAL && stats == NULL, "stats NULL ctx");
    CHECK(jwtgrant_stats(ctx, NULL, NULL) == JWTGRANT_EINVAL, "stats NULL out");

    struct host host = {ctx, 0};
    CHECK(jwtgrant_set_log_callback(ctx, on_event, &host, &err) == JWTGRANT_OK, "set callback");

    /* A verification that passes. */
    char token[2048], claims_jti[17];
    mint("https://idp.example", "jti-verify-1", token, sizeof token);
    char *claims = NULL;
    CHECK(jwtgrant_verify_assertion(ctx, token, &claims, NULL) == JWTGRANT_OK, "verify");
    jwtgrant_free(claims);
    json_t *e = last_event("verification");
    sha256_hex16("jti-verify-1", claims_jti);
    CHECK(e && strcmp(str(e, "outcome"), "success") == 0, "verification success event");
    CHECK(e && strcmp(str(e, "status_name"), "JWTGRANT_OK") == 0 && num(e, "status") == 0, "status OK");
    CHECK(e && strcmp(str(e, "issuer_name"), "partner") == 0, "issuer_name");
    CHECK(e && strcmp(str(e, "sub"), "alice") == 0, "sub");
    CHECK(e && strcmp(str(e, "jti_hash"), claims_jti) == 0, "jti_hash is the first 16 hex of SHA-256(jti)");
    CHECK(e && num(e, "_level") == JWTGRANT_LOG_INFO && is_null(e, "reason"), "info, no reason");
    CHECK(e && num(e, "time") > 1700000000, "time");
    json_decref(e);

    /* A verification that fails at the signature: no sub, no jti hash. */
    char forged[2048];
    strcpy(forged, token);
    size_t len = strlen(forged);
    forged[len - 2] = forged[len - 2] == 'A' ? 'B' : 'A';
    CHECK(jwtgrant_verify_assertion(ctx, forged, NULL, NULL) == JWTGRANT_ESIGNATURE, "forged refused");
    e = last_event("verification");
    CHECK(e && strcmp(str(e, "outcome"), "refused") == 0, "refused event");
    CHECK(e && strcmp(str(e, "status_name"), "JWTGRANT_ESIGNATURE") == 0, "status name");
    CHECK(e && num(e, "_level") == JWTGRANT_LOG_WARNING, "warning level");
    CHECK(e && strcmp(str(e, "issuer_name"), "partner") == 0 && is_null(e, "sub") && is_null(e, "jti_hash"),
          "unverified claims are not reported");
    CHECK(e && str(e, "reason") && strlen(str(e, "reason")) > 0, "detailed reason");
    json_decref(e);

    /* Exchanges: one granted, its replay refused, a wrong secret refused. */
    const char *basic = "Basic YXBwOnMzY3JldC12NGx1ZQ==";   /* app:s3cret-v4lue */
    char xtoken[2048];
    mint("https://idp.example", "jti-exchange-1", xtoken, sizeof xtoken);
    int32_t http = 0;
    char *resp = NULL;
    CHECK(exchange(ctx, basic, xtoken, &http, &resp) == JWTGRANT_OK && http == 200, "exchange");
    json_t *answer = json_loads(resp ? resp : "{}", 0, NULL);
    const char *access_token = json_string_value(json_object_get(answer, "access_token"));
    CHECK(access_token != NULL, "access token");
    e = last_event("exchange");
    CHECK(e && strcmp(str(e, "outcome"), "success") == 0 && num(e, "http_status") == 200, "exchange event");
    CHECK(e && strcmp(str(e, "client_id"), "app") == 0 && strcmp(str(e, "sub"), "alice") == 0, "client and sub");
    CHECK(e && strcmp(str(e, "issuer_name"), "partner") == 0 && is_null(e, "oauth_error"), "issuer, no error");
    CHECK(e && num(e, "duration_us") >= 0 && json_is_integer(json_object_get(e, "duration_us")), "duration");
    json_decref(e);
    CHECK(access_token && no_event_contains(access_token), "no access token in events");
    json_decref(answer);
    jwtgrant_free(resp);

    CHECK(exchange(ctx, basic, xtoken, &http, &resp) == JWTGRANT_EREPLAY && http == 400, "replay");
    jwtgrant_free(resp);
    e = last_event("exchange");
    CHECK(e && strcmp(str(e, "status_name"), "JWTGRANT_EREPLAY") == 0, "replay event");
    CHECK(e && strcmp(str(e, "oauth_error"), "invalid_grant") == 0 && num(e, "_level") == JWTGRANT_LOG_WARNING,
          "oauth error, warning");
    CHECK(e && strcmp(str(e, "client_id"), "app") == 0 && strcmp(str(e, "sub"), "alice") == 0,
          "a replayed assertion was signed: sub reported");
    json_decref(e);

    CHECK(exchange(ctx, "Basic YXBwOndyb25n", xtoken, &http, &resp) == JWTGRANT_EINVALID_CLIENT && http == 401,
          "wrong secret");
    jwtgrant_free(resp);
    e = last_event("exchange");
    CHECK(e && strcmp(str(e, "status_name"), "JWTGRANT_EINVALID_CLIENT") == 0, "invalid_client event");
    CHECK(e && is_null(e, "client_id") && is_null(e, "sub"), "an unauthenticated client is not named");
    json_decref(e);

    /* JWKS fetch events: a good endpoint, and one answering 404. */
    mint("https://remote.example", "jti-remote-1", token, sizeof token);
    reentrant_token = token;
    double t0 = now_seconds();
    CHECK(jwtgrant_verify_assertion(ctx, token, NULL, NULL) == JWTGRANT_OK, "verify via endpoint");
    CHECK(reentrant_verify_rc == JWTGRANT_OK && now_seconds() - t0 < 3,
          "the fetch event's callback verified a token of the same issuer at once");
    e = last_event("jwks_fetch");
    CHECK(e && strcmp(str(e, "outcome"), "success") == 0 && strcmp(str(e, "issuer_name"), "remote") == 0,
          "fetch success event");
    CHECK(e && num(e, "http_status") == 200 && num(e, "keys_loaded") == 1, "status and keys loaded");
    CHECK(e && num(e, "next_refresh") > num(e, "time") && is_null(e, "reason"), "next refresh");
    CHECK(e && str(e, "url") && strstr(str(e, "url"), "/jwks"), "url");
    json_decref(e);

    mint("https://broken.example", "jti-broken-1", token, sizeof token);
    CHECK(jwtgrant_verify_assertion(ctx, token, NULL, NULL) == JWTGRANT_EKEY_SOURCE, "broken endpoint");
    e = last_event("jwks_fetch");
    CHECK(e && strcmp(str(e, "outcome"), "failure") == 0 && num(e, "http_status") == 404, "fetch failure event");
    CHECK(e && num(e, "_level") == JWTGRANT_LOG_ERROR && str(e, "reason") && is_null(e, "keys_loaded"),
          "error level, reason");
    json_decref(e);

    CHECK(no_event_contains(xtoken) && no_event_contains("s3cret-v4lue") && no_event_contains(idp_public_x),
          "no assertion, secret or key in events");
    {
        char first_segment[256];
        const char *dot = strchr(xtoken, '.');
        snprintf(first_segment, sizeof first_segment, "%.*s", (int)(dot - xtoken), xtoken);
        CHECK(no_event_contains(first_segment) && no_event_contains(strrchr(xtoken, '.') + 1), "no segment");
    }
    CHECK(reentrant_stats_ok == 1, "the callback called jwtgrant_stats on the same context");

    /* An assertion over max_assertion_size is a refusal like any other. */
    {
        size_t big = 200 * 1024;
        char *huge = malloc(big + 1);
        if (!huge) die("malloc");
        memset(huge, 'A', big);
        huge[big] = 0;
        CHECK(jwtgrant_verify_assertion(ctx, huge, NULL, NULL) == JWTGRANT_EMALFORMED, "oversized refused");
        free(huge);
        e = last_event("verification");
        CHECK(e && strcmp(str(e, "status_name"), "JWTGRANT_EMALFORMED") == 0 && is_null(e, "issuer_name"),
              "oversized assertion event");
        json_decref(e);
    }

    /* Removing the callback: no more events. */
    CHECK(jwtgrant_set_log_callback(ctx, NULL, NULL, NULL) == JWTGRANT_OK, "remove callback");
    int before = host.calls;
    mint("https://idp.example", "jti-verify-2", token, sizeof token);
    CHECK(jwtgrant_verify_assertion(ctx, token, NULL, NULL) == JWTGRANT_OK, "verify without callback");
    CHECK(host.calls == before, "no event after removal");

    /* Counters. */
    CHECK(jwtgrant_stats(ctx, &stats, &err) == JWTGRANT_OK && stats, "stats");
    json_t *st = json_loads(stats ? stats : "{}", 0, NULL);
    json_t *ex = json_object_get(st, "exchanges"), *ve = json_object_get(st, "verifications");
    CHECK(num(ex, "total") == 3 && num(ex, "success") == 1 && num(ex, "refused") == 2, "exchange counts");
    CHECK(num(json_object_get(ex, "by_status"), "JWTGRANT_EREPLAY") == 1 &&
          num(json_object_get(ex, "by_status"), "JWTGRANT_EINVALID_CLIENT") == 1, "exchange by status");
    json_t *lat = json_object_get(ex, "latency_us");
    CHECK(num(lat, "p50") >= 1 && num(lat, "p50") <= num(lat, "p90") && num(lat, "p90") <= num(lat, "p99"),
          "latency quantiles");
    CHECK(num(ve, "total") == 7 && num(ve, "success") == 4 && num(ve, "refused") == 3, "verification counts");
    CHECK(num(json_object_get(ve, "by_status"), "JWTGRANT_EMALFORMED") == 1, "oversized counted");
    CHECK(num(json_object_get(ve, "by_status"), "JWTGRANT_EKEY_SOURCE") == 1, "verification by status");
    json_t *jw = json_object_get(st, "jwks");
    CHECK(num(json_object_get(jw, "remote"), "fetches") == 1 && num(json_object_get(jw, "remote"), "failures") == 0,
          "jwks counts of remote");
    CHECK(num(json_object_get(jw, "broken"), "failures") >= 1, "jwks failures of broken");
    CHECK(num(st, "replay_store_size") == 1, "replay store size");
    json_decref(st);
    jwtgrant_free(stats);
    jwtgrant_free(err);

    jwtgrant_ctx_free(ctx);
    for (int i = 0; i < n_events; i++) free(events[i]);
    EVP_PKEY_free(idp_key);
    printf("log callback and stats: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
