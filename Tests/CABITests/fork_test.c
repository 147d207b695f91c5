/*
 * fork() after jwtgrant_ctx_new, as a pre-fork server does it (see FORK in
 * jwtgrant.h). The parent creates a context whose trusted issuer has a JWKS
 * endpoint (served by a thread of this program on 127.0.0.1), starts a
 * verification whose key fetch is still in progress (the endpoint answers
 * after 1.5 s), and forks while that fetch is running. In the child:
 *   - every call on the parent's context answers JWTGRANT_EINVAL at once with
 *     a message naming fork(), instead of waiting for a fetch whose thread
 *     does not exist there;
 *   - jwtgrant_ctx_free of the parent's context returns at once;
 *   - a new context created in the child fetches its issuer's JWKS and
 *     accepts an assertion.
 * The parent checks the child's exit status with waitpid (a hang is killed
 * by alarm() and shows as a signal), and that its own context still works.
 * A second child forks from a parent whose context has a cached key set and
 * only frees it. Prints "N passed, N failed" and exits non-zero on failure.
 */
#define _POSIX_C_SOURCE 200809L
#define TEST_PROGRAM "fork_test"
#define TEST_KID "fork-key"
#include <jwtgrant.h>

#include <signal.h>
#include <sys/wait.h>

#include "test_issuer.h"

static int passed, failed;

#define CHECK(cond, what) do { \
    if (cond) passed++; \
    else { failed++; fprintf(stderr, "FAIL %s:%d [pid %d]: %s\n", __FILE__, __LINE__, (int)getpid(), what); } \
} while (0)

#define EXPECT_STATUS(expr, want) do { \
    int32_t got_ = (expr); \
    if (got_ == (want)) passed++; \
    else { failed++; fprintf(stderr, "FAIL %s:%d [pid %d]: %s = %s, want %s\n", __FILE__, __LINE__, \
                             (int)getpid(), #expr, jwtgrant_status_name(got_), jwtgrant_status_name(want)); } \
} while (0)

/* ---- a JWKS endpoint on 127.0.0.1: /jwks at once, /slow after 1.5 s ---- */

static void *serve_one(void *arg) {
    int fd = (int)(intptr_t)arg;
    char req[2048];
    ssize_t n = recv(fd, req, sizeof req - 1, 0);
    if (n > 0) {
        req[n] = 0;
        if (strncmp(req, "GET /slow", 9) == 0) {
            struct timespec d = {1, 500000000};
            nanosleep(&d, NULL);
        }
        char resp[1024];
        int len = snprintf(resp, sizeof resp,
                           "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=600\r\n"
                           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(jwks_doc), jwks_doc);
        send_response(fd, resp, len);
    }
    close(fd);
    return NULL;
}

static void *serve(void *arg) {
    (void)arg;
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) { if (errno == EINTR) continue; return NULL; }
        pthread_t t;
        if (pthread_create(&t, NULL, serve_one, (void *)(intptr_t)fd) != 0) { close(fd); continue; }
        pthread_detach(t);
    }
}

/* ---- contexts ----------------------------------------------------------- */

static jwtgrant_ctx *new_ctx(const char *config) {
    jwtgrant_ctx *ctx = NULL;
    char *err = NULL;
    int32_t rc = jwtgrant_ctx_new(&ctx, config, &err);
    if (rc != JWTGRANT_OK) { fprintf(stderr, "ctx_new: %s\n", err ? err : "?"); jwtgrant_free(err); exit(2); }
    return ctx;
}

static int32_t register_endpoint_issuer(jwtgrant_ctx *ctx, const char *name, const char *iss, const char *path) {
    char json[512];
    char *err = NULL;
    snprintf(json, sizeof json, "{\"name\":\"%s\",\"issuer\":\"%s\",\"jwks_uri\":\"http://127.0.0.1:%d%s\"}",
             name, iss, port, path);
    int32_t rc = jwtgrant_register_issuer(ctx, json, &err);
    if (rc != JWTGRANT_OK) fprintf(stderr, "register_issuer %s: %s\n", name, err ? err : "?");
    jwtgrant_free(err);
    return rc;
}

static int32_t verify(jwtgrant_ctx *ctx, const char *token, char **err) {
    char *claims = NULL;
    int32_t rc = jwtgrant_verify_assertion(ctx, token, &claims, err);
    jwtgrant_free(claims);
    return rc;
}

struct slow_verify { jwtgrant_ctx *ctx; char token[1200]; int32_t rc; };

static void *slow_verifier(void *arg) {
    struct slow_verify *v = arg;
    v->rc = verify(v->ctx, v->token, NULL);
    return NULL;
}

/* What the child checks on the parent's context; returns its exit code. */
static int child_checks(jwtgrant_ctx *inherited, const char *fast_token, const char *child_token) {
    alarm(20); /* a hang shows as SIGALRM in the parent's waitpid */
    passed = failed = 0;
    double t0 = now_seconds();
    char *err = NULL;
    EXPECT_STATUS(verify(inherited, fast_token, &err), JWTGRANT_EINVAL);
    CHECK(err != NULL && strstr(err, "fork()") != NULL, "the message says why (fork)");
    jwtgrant_free(err);
    err = NULL;

    int32_t http = 0;
    char *response = NULL;
    EXPECT_STATUS(jwtgrant_exchange_token(inherited, "Basic YXBwOnNlY3JldA==",
                                          "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
                                          "&assertion=x", &http, &response), JWTGRANT_EINVAL);
    CHECK(http == 500 && response != NULL && strstr(response, "server_error") != NULL,
          "exchange_token on the parent's context answers 500 server_error");
    jwtgrant_free(response);

    EXPECT_STATUS(jwtgrant_register_issuer(inherited, "{\"name\":\"other\",\"issuer\":\"https://other.example\","
                                           "\"jwks\":{\"keys\":[]}}", NULL), JWTGRANT_EINVAL);
    char *list = NULL;
    EXPECT_STATUS(jwtgrant_list_issuers(inherited, &list, NULL), JWTGRANT_EINVAL);
    CHECK(list == NULL, "no listing from the parent's context");
    EXPECT_STATUS(jwtgrant_ctx_set_time(inherited, 0, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_issuer_set_jwks(inherited, "slow", jwks_doc, -1, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_set_jwks_fetcher(inherited, NULL, NULL, NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_remove_client(inherited, "app", NULL), JWTGRANT_EINVAL);
    EXPECT_STATUS(jwtgrant_rotate_client_secret(inherited, "app", "new", 0, NULL), JWTGRANT_EINVAL);
    list = NULL;
    EXPECT_STATUS(jwtgrant_list_clients(inherited, &list, NULL), JWTGRANT_EINVAL);
    CHECK(list == NULL, "no client listing from the parent's context");
    {
        size_t limit = 0;
        EXPECT_STATUS(jwtgrant_token_body_limit(inherited, &limit, NULL), JWTGRANT_EINVAL);
    }
    EXPECT_STATUS(jwtgrant_set_log_callback(inherited, NULL, NULL, NULL), JWTGRANT_EINVAL);
    {
        char *stats = NULL;
        EXPECT_STATUS(jwtgrant_stats(inherited, &stats, NULL), JWTGRANT_EINVAL);
        CHECK(stats == NULL, "no counters from the parent's context");
    }

    jwtgrant_ctx_free(inherited);
    double used = now_seconds() - t0;
    CHECK(used < 0.5, "calls on the parent's context and its free return at once in the child");

    /* A context made in the child works, JWKS fetching included. */
    jwtgrant_ctx *mine = new_ctx(NULL);
    EXPECT_STATUS(register_endpoint_issuer(mine, "idp", "https://idp.fork.example", "/jwks"), JWTGRANT_OK);
    err = NULL;
    int32_t rc = verify(mine, child_token, &err);
    EXPECT_STATUS(rc, JWTGRANT_OK);
    if (rc != JWTGRANT_OK) fprintf(stderr, "  child verify: %s\n", err ? err : "?");
    jwtgrant_free(err);
    EXPECT_STATUS(verify(mine, child_token, NULL), JWTGRANT_OK); /* verify does not consume */
    jwtgrant_ctx_free(mine);

    printf("fork child %d: %d passed, %d failed\n", (int)getpid(), passed, failed);
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}

static void expect_clean_exit(pid_t pid, const char *what) {
    int status = 0;
    pid_t w;
    do { w = waitpid(pid, &status, 0); } while (w < 0 && errno == EINTR);
    CHECK(w == pid, "waitpid");
    if (WIFSIGNALED(status))
        fprintf(stderr, "  %s: child killed by signal %d%s\n", what, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (hang)" : "");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, what);
}

int main(void) {
    make_issuer_key();
    start_endpoint(serve);

    char fast_token[1200], parent_token[1200], child_token[1200];
    mint("https://idp.fork.example", "fast-1", fast_token, sizeof fast_token);
    mint("https://idp.fork.example", "parent-2", parent_token, sizeof parent_token);
    mint("https://idp.fork.example", "child-3", child_token, sizeof child_token);

    /* 1. Fork while a JWKS fetch of the parent's context is in progress. */
    jwtgrant_ctx *ctx = new_ctx("{\"jwks_endpoint\":{\"read_timeout\":5000}}");
    EXPECT_STATUS(register_endpoint_issuer(ctx, "idp", "https://idp.fork.example", "/jwks"), JWTGRANT_OK);
    EXPECT_STATUS(verify(ctx, fast_token, NULL), JWTGRANT_OK); /* the key set is fetched and cached */
    EXPECT_STATUS(register_endpoint_issuer(ctx, "slow", "https://slow.fork.example", "/slow"), JWTGRANT_OK);
    struct slow_verify sv;
    sv.ctx = ctx;
    sv.rc = 1;
    mint("https://slow.fork.example", "slow-4", sv.token, sizeof sv.token);
    pthread_t th;
    if (pthread_create(&th, NULL, slow_verifier, &sv) != 0) die("pthread_create");
    struct timespec d = {0, 300000000};
    nanosleep(&d, NULL); /* the slow fetch is now running on that thread */

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) _exit(child_checks(ctx, fast_token, child_token));

    expect_clean_exit(pid, "child with a fetch in progress at the fork exits cleanly (no hang, no crash)");
    pthread_join(th, NULL);
    EXPECT_STATUS(sv.rc, JWTGRANT_OK); /* the parent's slow fetch finished normally */
    EXPECT_STATUS(verify(ctx, parent_token, NULL), JWTGRANT_OK);

    /* 2. A child that only frees the parent's (idle, cached) context. */
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        alarm(20);
        double t0 = now_seconds();
        jwtgrant_ctx_free(ctx);
        _exit(now_seconds() - t0 < 0.5 ? 0 : 1);
    }
    expect_clean_exit(pid, "a child freeing the parent's context returns at once");
    EXPECT_STATUS(verify(ctx, parent_token, NULL), JWTGRANT_OK); /* the parent's copy is untouched */

    jwtgrant_ctx_free(ctx);
    EVP_PKEY_free(idp_key);
    printf("fork: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
