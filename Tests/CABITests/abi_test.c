/*
 * The library as a C caller sees it: every exported function called with
 * NULL, empty and malformed arguments returns a status code (and a message),
 * never crashes; static strings and ownership behave as the header says.
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
#include <jwtgrant.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, what) do { \
    if (cond) passed++; \
    else { failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what); } \
} while (0)

#define EXPECT_STATUS(expr, want) do { \
    int32_t got_ = (expr); \
    if (got_ == (want)) passed++; \
    else { failed++; fprintf(stderr, "FAIL %s:%d: %s = %s, want %s\n", __FILE__, __LINE__, #expr, \
                             jwtgrant_status_name(got_), jwtgrant_status_name(want)); } \
} while (0)

static void test_library(void) {
    CHECK(strcmp(jwtgrant_version(), JWTGRANT_VERSION_STRING) == 0, "version string matches header");
    CHECK(jwtgrant_version_number() == JWTGRANT_VERSION_NUMBER, "version number matches header");
    CHECK(strcmp(jwtgrant_status_name(JWTGRANT_OK), "JWTGRANT_OK") == 0, "OK name");
    CHECK(strcmp(jwtgrant_status_name(JWTGRANT_EEXPIRED), "JWTGRANT_EEXPIRED") == 0, "EEXPIRED name");
    CHECK(strcmp(jwtgrant_status_name(12345), "JWTGRANT_UNKNOWN") == 0, "unknown status name");
    CHECK(strcmp(jwtgrant_status_name(-1000), "JWTGRANT_UNKNOWN") == 0, "unknown negative status name");
    CHECK(jwtgrant_oauth_error(JWTGRANT_OK) == NULL, "OK has no oauth error");
    CHECK(strcmp(jwtgrant_oauth_error(JWTGRANT_EEXPIRED), "invalid_grant") == 0, "expired is invalid_grant");
    CHECK(strcmp(jwtgrant_oauth_error(JWTGRANT_EINVALID_CLIENT), "invalid_client") == 0, "invalid_client");
    CHECK(strcmp(jwtgrant_oauth_error(JWTGRANT_EUNSUPPORTED_GRANT), "unsupported_grant_type") == 0, "unsupported");
    CHECK(strcmp(jwtgrant_oauth_error(JWTGRANT_EKEY_SOURCE), "invalid_grant") == 0, "key source is invalid_grant");
    CHECK(strcmp(jwtgrant_oauth_error(JWTGRANT_EJTI_REQUIRED), "invalid_grant") == 0, "jti required is invalid_grant");
    CHECK(strcmp(jwtgrant_status_name(JWTGRANT_ECLIENT_NOT_ALLOWED), "JWTGRANT_ECLIENT_NOT_ALLOWED") == 0, "policy status name");
    CHECK(strcmp(jwtgrant_oauth_error(JWTGRANT_EUNAVAILABLE), "temporarily_unavailable") == 0, "unavailable");
    CHECK(strcmp(jwtgrant_status_name(JWTGRANT_EUNAVAILABLE), "JWTGRANT_EUNAVAILABLE") == 0, "unavailable name");
    /* The codes are contiguous: -1 .. -33. */
    for (int32_t s = JWTGRANT_EINVAL; s >= JWTGRANT_EJTI_REQUIRED; s--) {
        CHECK(strncmp(jwtgrant_status_name(s), "JWTGRANT_E", 10) == 0, "every code is named");
        CHECK(jwtgrant_oauth_error(s) != NULL, "every code maps to an oauth error");
    }
    jwtgrant_free(NULL);
}

static void test_ctx(void) {
    char *err = (char *)1;
    jwtgrant_ctx *ctx = (jwtgrant_ctx *)1;
    EXPECT_STATUS(jwtgrant_ctx_new(NULL, NULL, &err), JWTGRANT_EINVAL);
    CHECK(err != NULL && err != (char *)1, "error message set");
    jwtgrant_free(err);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "not json", &err), JWTGRANT_EINVAL);
    CHECK(ctx == NULL, "out is NULL on failure");
    jwtgrant_free(err);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "[]", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "{\"issuer\":1}", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "{\"isuser\":\"typo\"}", &err), JWTGRANT_EINVAL);
    CHECK(err && strstr(err, "isuser") != NULL, "unknown field is named");
    jwtgrant_free(err);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "{\"store\":\"redis://127.0.0.1\"}", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "{\"store\":\"sqlite:\"}", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "{\"store\":\"mysql://x\"}", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "{\"clock_skew\":-5}", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, "{}", &err), JWTGRANT_OK);
    CHECK(err == NULL, "error_out cleared on success");
    jwtgrant_ctx_free(ctx);
    ctx = NULL;
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, NULL, NULL), JWTGRANT_OK);
    CHECK(ctx != NULL, "NULL config gives a server");
    EXPECT_STATUS(jwtgrant_ctx_set_time(ctx, 1700000000, NULL), JWTGRANT_OK);
    EXPECT_STATUS(jwtgrant_ctx_set_time(ctx, -1, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_ctx_set_time(NULL, 0, NULL), JWTGRANT_EINVAL);
    jwtgrant_ctx_free(ctx);
    jwtgrant_ctx_free(NULL);
}

static void test_null_everywhere(void) {
    jwtgrant_ctx *ctx = NULL;
    char *out = (char *)1, *err = NULL;
    int32_t http = 0;
    EXPECT_STATUS(jwtgrant_ctx_new(&ctx, NULL, NULL), JWTGRANT_OK);

    EXPECT_STATUS(jwtgrant_register_issuer(NULL, "{}", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_register_issuer(ctx, NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_register_issuer(ctx, "", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_register_issuer(ctx, "{\"name\":\"x\"", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_register_issuer(ctx, "{\"name\":\"x\",\"issuer\":\"y\"}", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_register_issuer(ctx, "{\"name\":\"x\",\"issuer\":\"y\",\"certificate\":\"junk\"}", NULL),
                  JWTGRANT_EKEY);
    EXPECT_STATUS(jwtgrant_remove_issuer(NULL, "x", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_remove_issuer(ctx, NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_remove_issuer(ctx, "nobody", &err), JWTGRANT_ENOTFOUND);
    jwtgrant_free(err);
    EXPECT_STATUS(jwtgrant_list_issuers(NULL, &out, NULL), JWTGRANT_EINVAL);
    CHECK(out == NULL, "list output cleared on failure");
    EXPECT_STATUS(jwtgrant_list_issuers(ctx, NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_list_issuers(ctx, &out, NULL), JWTGRANT_OK);
    CHECK(out && strcmp(out, "[]") == 0, "empty issuer list");
    jwtgrant_free(out);

    EXPECT_STATUS(jwtgrant_register_client(NULL, "{}", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_register_client(ctx, NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_register_client(ctx, "{\"client_id\":", NULL), JWTGRANT_EINVAL);
    /* a client without a secret must be declared public */
    EXPECT_STATUS(jwtgrant_register_client(ctx, "{\"client_id\":\"nosecret\"}", &err), JWTGRANT_EINVAL);
    CHECK(err && strstr(err, "token_endpoint_auth_method") != NULL, "a secretless client is refused naming the field");
    jwtgrant_free(err);
    err = NULL;

    /* client management: remove, list, rotate */
    EXPECT_STATUS(jwtgrant_remove_client(NULL, "x", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_remove_client(ctx, NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_remove_client(ctx, "nobody", &err), JWTGRANT_ENOTFOUND);
    jwtgrant_free(err);
    err = NULL;
    out = (char *)1;
    EXPECT_STATUS(jwtgrant_list_clients(NULL, &out, NULL), JWTGRANT_EINVAL);
    CHECK(out == NULL, "client list output cleared on failure");
    EXPECT_STATUS(jwtgrant_list_clients(ctx, NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_list_clients(ctx, &out, NULL), JWTGRANT_OK);
    CHECK(out && strcmp(out, "[]") == 0, "empty client list");
    jwtgrant_free(out);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(NULL, "x", "s", 0, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(ctx, NULL, "s", 0, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(ctx, "x", NULL, 0, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(ctx, "nobody", "s", 0, NULL), JWTGRANT_ENOTFOUND);
    EXPECT_STATUS(jwtgrant_register_client(ctx, "{\"client_id\":\"rot\",\"client_secret\":\"old-Secret\"}", NULL),
                  JWTGRANT_OK);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(ctx, "rot", "new-Secret", -1, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(ctx, "rot", "new-Secret", INT64_MAX, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(ctx, "rot", "", 0, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(ctx, "rot", "new-Secret", 60, &err), JWTGRANT_OK);
    CHECK(err == NULL, "error_out cleared on success");
    EXPECT_STATUS(jwtgrant_list_clients(ctx, &out, NULL), JWTGRANT_OK);
    CHECK(out && strstr(out, "\"secrets\":2") && !strstr(out, "Secret\""), "grace secrets counted, never shown");
    jwtgrant_free(out);
    EXPECT_STATUS(jwtgrant_remove_client(ctx, "rot", NULL), JWTGRANT_OK);
    EXPECT_STATUS(jwtgrant_remove_client(ctx, "rot", NULL), JWTGRANT_ENOTFOUND);
    {
        size_t limit = 0;
        EXPECT_STATUS(jwtgrant_token_body_limit(NULL, &limit, NULL), JWTGRANT_EINVAL);
        EXPECT_STATUS(jwtgrant_token_body_limit(ctx, NULL, NULL), JWTGRANT_EINVAL);
        EXPECT_STATUS(jwtgrant_token_body_limit(ctx, &limit, NULL), JWTGRANT_OK);
        CHECK(limit == 65536, "default body limit: max_assertion_size 32768 + 32768");
    }

    out = (char *)1;
    EXPECT_STATUS(jwtgrant_verify_assertion(NULL, "a.b.c", &out, NULL), JWTGRANT_EINVAL);
    CHECK(out == NULL, "claims output cleared on failure");
    EXPECT_STATUS(jwtgrant_verify_assertion(ctx, NULL, &out, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_verify_assertion(ctx, "", &out, NULL), JWTGRANT_EMALFORMED);
    EXPECT_STATUS(jwtgrant_verify_assertion(ctx, "a.b", &out, NULL), JWTGRANT_EMALFORMED);
    EXPECT_STATUS(jwtgrant_verify_assertion(ctx, "....", NULL, NULL), JWTGRANT_EMALFORMED);
    {
        size_t big = 2u << 20;
        char *huge = malloc(big + 1);
        memset(huge, 'A', big);
        huge[big] = '\0';
        EXPECT_STATUS(jwtgrant_verify_assertion(ctx, huge, &out, &err), JWTGRANT_EMALFORMED);
        CHECK(err && strstr(err, "AAAA") == NULL, "message does not echo the token");
        jwtgrant_free(err);
        free(huge);
    }

    out = (char *)1;
    http = 0;
    EXPECT_STATUS(jwtgrant_exchange_token(NULL, NULL, "grant_type=x", &http, &out), JWTGRANT_EINVAL);
    CHECK(http >= 400 && out != NULL && out != (char *)1 && strstr(out, "\"error\"") != NULL,
          "exchange_token always answers with a status and error body");
    if (out != (char *)1) jwtgrant_free(out);
    EXPECT_STATUS(jwtgrant_exchange_token(ctx, NULL, NULL, &http, &out), JWTGRANT_EINVALID_REQUEST);
    CHECK(http == 400, "no body is a 400");
    jwtgrant_free(out);
    EXPECT_STATUS(jwtgrant_exchange_token(ctx, NULL, "grant_type=x", NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_exchange_token(ctx, NULL, "grant_type=x", &http, NULL), JWTGRANT_EINVALID_CLIENT);
    CHECK(http == 401, "no client authentication is a 401");
    EXPECT_STATUS(jwtgrant_exchange_token(ctx, "Basic !!!", "grant_type=x", &http, &out), JWTGRANT_EINVALID_CLIENT);
    CHECK(http == 401, "bad Basic header is a 401");
    jwtgrant_free(out);

    EXPECT_STATUS(jwtgrant_jwks(NULL, &out, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_jwks(ctx, NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_jwks(ctx, &out, NULL), JWTGRANT_OK);
    CHECK(out && strstr(out, "\"keys\"") && !strstr(out, "\"d\""), "jwks has keys and no private member");
    jwtgrant_free(out);

    EXPECT_STATUS(jwtgrant_verify_access_token(NULL, "x", &out, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_verify_access_token(ctx, NULL, &out, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_verify_access_token(ctx, "", &out, NULL), JWTGRANT_EINVALID_TOKEN);
    EXPECT_STATUS(jwtgrant_verify_access_token(ctx, "a.b.c", &out, NULL), JWTGRANT_EINVALID_TOKEN);

    jwtgrant_ctx_free(ctx);
}

int main(void) {
    test_library();
    test_ctx();
    test_null_everywhere();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
