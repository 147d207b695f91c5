/*
 * event_loop.c - a single-threaded host with an event loop of its own (the
 * shape of an nginx worker) that never lets libjwtgrant block on the network:
 * it takes JWKS fetching over with jwtgrant_set_jwks_fetcher() and does the
 * transfers itself with libcurl's multi interface inside its loop.
 *
 *   event_loop ISSUER JWKS_URL ASSERTION
 *
 *   1. registers ISSUER (a "jwks_uri" issuer at JWKS_URL) and the fetcher;
 *   2. verifies ASSERTION on a cold cache: the library calls the fetch
 *      function, which queues the URL and answers JWTGRANT_JWKS_FETCH_PENDING,
 *      so the verification fails at once with JWTGRANT_EKEY_SOURCE instead of
 *      waiting for the endpoint;
 *   3. runs the loop: curl_multi transfers the document and the loop hands it
 *      in with jwtgrant_issuer_set_jwks();
 *   4. verifies ASSERTION again: accepted with the delivered keys.
 *
 * The fetch function may also be called on a library thread (refresh ahead
 * of expiry), so it only queues under a mutex and wakes the loop with
 * curl_multi_wakeup(); only the loop thread touches the multi handle.
 *
 * Build: cc event_loop.c $(pkg-config --cflags --libs jwtgrant libcurl) -lpthread
 * Prints one line per step; exit status 0 when every step behaved as above.
 */
#include <jwtgrant.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_QUEUED 16

typedef struct {
    char *issuer_name, *url;
    long timeout_ms;
    size_t size_limit;
} fetch_job;

typedef struct {
    char *data;
    size_t len, limit;
    int oversized;
} buffer;

typedef struct {
    pthread_mutex_t lock;
    fetch_job queue[MAX_QUEUED];        /* filled by fetch_fn, drained by the loop */
    int queued;
    CURLM *multi;
    int running;                        /* transfers in progress (loop thread only) */
    jwtgrant_ctx *ctx;
} host_loop;

typedef struct {
    fetch_job job;
    buffer body;
} transfer;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* jwtgrant_jwks_fetch_fn: never blocks; the loop does the transfer. */
static int32_t fetch_fn(void *user_data, const char *issuer_name, const char *url, int32_t timeout_ms,
                        int32_t size_limit_bytes, jwtgrant_jwks_sink *sink) {
    host_loop *loop = user_data;
    int32_t rc = JWTGRANT_JWKS_FETCH_PENDING;
    pthread_mutex_lock(&loop->lock);
    if (loop->queued == MAX_QUEUED) {
        jwtgrant_jwks_fetch_error(sink, "the host's fetch queue is full");
        rc = JWTGRANT_EKEY_SOURCE;
    } else {
        fetch_job *j = &loop->queue[loop->queued];
        j->issuer_name = strdup(issuer_name);
        j->url = strdup(url);
        j->timeout_ms = timeout_ms;
        j->size_limit = (size_t)size_limit_bytes;
        if (!j->issuer_name || !j->url) {
            free(j->issuer_name);
            free(j->url);
            jwtgrant_jwks_fetch_error(sink, "out of memory");
            rc = JWTGRANT_ENOMEM;
        } else {
            loop->queued++;
        }
    }
    pthread_mutex_unlock(&loop->lock);
    if (rc == JWTGRANT_JWKS_FETCH_PENDING) curl_multi_wakeup(loop->multi);
    return rc;
}

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata) {
    buffer *b = userdata;
    size_t len = size * n;
    if (b->len + len > b->limit) {
        b->oversized = 1;
        return 0;                       /* aborts the transfer */
    }
    char *grown = realloc(b->data, b->len + len + 1);
    if (!grown) return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* Starts the queued fetches (loop thread). */
static void start_queued(host_loop *loop) {
    pthread_mutex_lock(&loop->lock);
    for (int i = 0; i < loop->queued; i++) {
        transfer *t = calloc(1, sizeof *t);
        CURL *easy = curl_easy_init();
        if (!t || !easy) {
            fprintf(stderr, "event_loop: out of memory\n");
            free(t);
            curl_easy_cleanup(easy);
            free(loop->queue[i].issuer_name);
            free(loop->queue[i].url);
            continue;
        }
        t->job = loop->queue[i];
        t->body.limit = t->job.size_limit;
        curl_easy_setopt(easy, CURLOPT_URL, t->job.url);
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, t->job.timeout_ms);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t->body);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
        curl_multi_add_handle(loop->multi, easy);
        loop->running++;
    }
    loop->queued = 0;
    pthread_mutex_unlock(&loop->lock);
}

/* Hands finished documents in (loop thread). */
static void deliver_finished(host_loop *loop) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(loop->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        transfer *t;
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (msg->data.result == CURLE_OK && status == 200 && t->body.data) {
            char *err = NULL;
            int32_t rc = jwtgrant_issuer_set_jwks(loop->ctx, t->job.issuer_name, t->body.data, -1, &err);
            printf("loop: delivered the JWKS of %s (%zu bytes): %s%s%s\n", t->job.issuer_name, t->body.len,
                   jwtgrant_status_name(rc), err ? ": " : "", err ? err : "");
            jwtgrant_free(err);
        } else {
            /* The library retries after its back-off; a host would log this. */
            printf("loop: fetch for %s failed: %s, HTTP %ld%s\n", t->job.issuer_name,
                   curl_easy_strerror(msg->data.result), status, t->body.oversized ? ", oversized" : "");
        }
        curl_multi_remove_handle(loop->multi, easy);
        curl_easy_cleanup(easy);
        free(t->body.data);
        free(t->job.issuer_name);
        free(t->job.url);
        free(t);
        loop->running--;
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: event_loop ISSUER JWKS_URL ASSERTION\n");
        return 2;
    }
    const char *issuer = argv[1], *url = argv[2], *assertion = argv[3];
    int ok = 1;
    char *err = NULL, *claims = NULL;
    host_loop loop = {.lock = PTHREAD_MUTEX_INITIALIZER};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    loop.multi = curl_multi_init();

    if (jwtgrant_ctx_new(&loop.ctx, NULL, &err) != JWTGRANT_OK ||
        jwtgrant_set_jwks_fetcher(loop.ctx, fetch_fn, &loop, &err) != JWTGRANT_OK) {
        fprintf(stderr, "event_loop: setup failed: %s\n", err ? err : "no message");
        return 1;
    }
    char reg[2048];
    snprintf(reg, sizeof reg, "{\"name\":\"idp\",\"issuer\":\"%s\",\"jwks_uri\":\"%s\"}", issuer, url);
    if (jwtgrant_register_issuer(loop.ctx, reg, &err) != JWTGRANT_OK) {
        fprintf(stderr, "event_loop: register_issuer: %s\n", err ? err : "no message");
        return 1;
    }

    /* 2. Cold cache: the verification does not wait for the endpoint. */
    double t0 = now_ms();
    int32_t rc = jwtgrant_verify_assertion(loop.ctx, assertion, &claims, &err);
    double took = now_ms() - t0;
    printf("cold verify: %s after %.1f ms (%s)\n", jwtgrant_status_name(rc), took, err ? err : "");
    ok &= rc == JWTGRANT_EKEY_SOURCE && took < 250;    /* generous: valgrind runs it too */
    jwtgrant_free(err);
    err = NULL;

    /* 3. The loop: start queued fetches, drive transfers, deliver documents. */
    double deadline = now_ms() + 10000;
    start_queued(&loop);
    while (loop.running > 0 && now_ms() < deadline) {
        int still = 0, events = 0;
        curl_multi_perform(loop.multi, &still);
        deliver_finished(&loop);
        curl_multi_poll(loop.multi, NULL, 0, 50, &events);
        start_queued(&loop);
    }
    ok &= loop.running == 0;

    /* 4. Warm cache: accepted. */
    rc = jwtgrant_verify_assertion(loop.ctx, assertion, &claims, &err);
    printf("warm verify: %s%s%s\n", jwtgrant_status_name(rc), claims ? " " : "", claims ? claims : "");
    ok &= rc == JWTGRANT_OK;
    jwtgrant_free(claims);
    jwtgrant_free(err);

    jwtgrant_ctx_free(loop.ctx);        /* before the loop state it calls into */
    pthread_mutex_lock(&loop.lock);
    for (int i = 0; i < loop.queued; i++) {
        free(loop.queue[i].issuer_name);
        free(loop.queue[i].url);
    }
    pthread_mutex_unlock(&loop.lock);
    curl_multi_cleanup(loop.multi);
    curl_global_cleanup();
    printf("%s\n", ok ? "event_loop: every step as expected" : "event_loop: FAILED");
    return ok ? 0 : 1;
}
