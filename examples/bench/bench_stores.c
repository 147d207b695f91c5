/*
 * bench_stores.c - jwtgrant_exchange_token per second with each store
 * ("memory", "sqlite:PATH", "redis://..."), from 1 and 2 threads, rounds
 * interleaved between the stores in one process; prints exchanges/s, us per
 * exchange and the ratio of each store's time per exchange to the memory
 * store's. Never fails on timing.
 *
 * Every exchange is a fresh RS256 assertion (so every one writes a replay
 * record) and issues an ES256 access token.
 *
 * Build: cc -O2 bench_stores.c $(pkg-config --cflags --libs jwtgrant libcrypto) -lpthread -o bench_stores
 * Usage: bench_stores ROUNDS ITERATIONS STORE...   (STORE as in "store")
 */
#define _POSIX_C_SOURCE 200809L
#define BENCH_PROGRAM "bench_stores"
#include <jwtgrant.h>

#include <pthread.h>

#include "bench_common.h"

#define T0 1750000000LL
#define ISS "https://idp.bench.example.com"
#define MAX_STORES 4

static char *issuer_json(EVP_PKEY *key) {
    char *pem = spki_pem(key), *esc = json_escape(pem);
    char *json = malloc(strlen(esc) + 128);
    sprintf(json, "{\"name\":\"bench-idp\",\"issuer\":\"" ISS "\",\"certificate\":\"%s\"}", esc);
    free(pem);
    free(esc);
    return json;
}

/* A form body with a fresh RS256 assertion (jti `n`). */
static char *body(EVP_PKEY *key, const char *run, int n) {
    char payload[512];
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" ISS "\",\"sub\":\"alice@example.com\",\"aud\":\"https://localhost:9443/oauth2/token\","
             "\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s-%d\"}", T0, T0 + 600, run, n);
    const char *header = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    char *h = b64url((const unsigned char *)header, strlen(header));
    char *p = b64url((const unsigned char *)payload, strlen(payload));
    size_t input_len = strlen(h) + 1 + strlen(p);
    char *input = malloc(input_len + 1);
    sprintf(input, "%s.%s", h, p);
    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, input_len) != 1) die("sign");
    EVP_MD_CTX_free(md);
    char *s = b64url(sig, sig_len);
    const char *prefix = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    char *out = malloc(strlen(prefix) + input_len + 1 + strlen(s) + 1);
    sprintf(out, "%s%s.%s", prefix, input, s);
    free(h); free(p); free(s); free(input);
    return out;
}

typedef struct {
    jwtgrant_ctx *ctx;
    char **bodies;
    int count;
    int failures;
} slice_t;

static const char *basic = "Basic YmVuY2gtYXBwOmJlbmNoLXNlY3JldC0wMTIzNDU2Nzg5";  /* bench-app:bench-secret-0123456789 */

static void *run_slice(void *arg) {
    slice_t *s = arg;
    for (int k = 0; k < s->count; k++) {
        int32_t http = 0;
        char *resp = NULL;
        if (jwtgrant_exchange_token(s->ctx, basic, s->bodies[k], &http, &resp) != JWTGRANT_OK || http != 200) {
            if (s->failures++ == 0) fprintf(stderr, "exchange failed: %d %s\n", http, resp ? resp : "");
        }
        jwtgrant_free(resp);
    }
    return NULL;
}

/* Exchanges `count` bodies from `threads` threads; ns per exchange (wall). */
static double timed(jwtgrant_ctx *ctx, char **bodies, int count, int threads) {
    pthread_t tid[2];
    slice_t slices[2];
    int per = count / threads;
    double t0 = now_ns();
    for (int t = 0; t < threads; t++) {
        slices[t] = (slice_t){ctx, bodies + t * per, per, 0};
        if (pthread_create(&tid[t], NULL, run_slice, &slices[t]) != 0) die("pthread_create");
    }
    int failures = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        failures += slices[t].failures;
    }
    if (failures) die("exchanges failed");
    return (now_ns() - t0) / (per * threads);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    if (argc < 4) die("usage: bench_stores ROUNDS ITERATIONS STORE...");
    int rounds = atoi(argv[1]), iters = atoi(argv[2]), nstores = argc - 3;
    if (rounds < 1 || iters < 2 || rounds > 100 || iters > 100000 || nstores > MAX_STORES) die("bad arguments");
    EVP_PKEY *key = EVP_RSA_gen(2048);
    char *issuer = issuer_json(key);
    jwtgrant_ctx *ctx[MAX_STORES];
    for (int i = 0; i < nstores; i++) {
        char config[1024], *err = NULL;
        snprintf(config, sizeof config,
                 "{\"store\":\"%s\",\"grant_type\":{\"jwt\":{\"iat_validity_period\":525600}}}", argv[3 + i]);
        if (jwtgrant_ctx_new(&ctx[i], config, &err) != JWTGRANT_OK) die(err ? err : "ctx_new");
        jwtgrant_ctx_set_time(ctx[i], T0 + 1, NULL);
        if (jwtgrant_register_issuer(ctx[i], issuer, &err) != JWTGRANT_OK) die(err ? err : "register_issuer");
        if (jwtgrant_register_client(ctx[i], "{\"client_id\":\"bench-app\",\"client_secret\":\"bench-secret-0123456789\","
                                     "\"grant_types\":[\"urn:ietf:params:oauth:grant-type:jwt-bearer\"]}", &err) != JWTGRANT_OK)
            die(err ? err : "register_client");
    }
    /* Each store keeps its own replay records, so one set of assertions
     * serves every store; a run id keeps reruns on a persistent store fresh. */
    char run[32];
    snprintf(run, sizeof run, "run%lld", (long long)time(NULL));
    int per_round = iters, total = rounds * per_round;
    fprintf(stderr, "minting %d single-use RS256 assertions per thread count...\n", total);
    char **bodies[2];
    for (int t = 0; t < 2; t++) {
        bodies[t] = malloc(sizeof(char *) * (size_t)total);
        for (int k = 0; k < total; k++) {
            char r[48];
            snprintf(r, sizeof r, "%s-t%d", run, t);
            bodies[t][k] = body(key, r, k);
        }
    }
    /* warm-up: one exchange per store (connections, statements) */
    for (int i = 0; i < nstores; i++) {
        char *b = body(key, run, -1);
        char *one[1] = {b};
        timed(ctx[i], one, 1, 1);
        free(b);
    }
    printf("exchanges through jwtgrant_exchange_token: %d rounds x %d exchanges, medians; RS256 in, ES256 out\n\n",
           rounds, iters);
    printf("%-34s %8s %14s %12s %10s\n", "store", "threads", "exchanges/s", "us/exchange", "vs memory");
    for (int threads = 1; threads <= 2; threads++) {
        double ns[MAX_STORES][100];
        /* Interleaved rounds; the store that goes first rotates. */
        for (int r = 0; r < rounds; r++)
            for (int j = 0; j < nstores; j++) {
                int i = (r + j) % nstores;
                ns[i][r] = timed(ctx[i], bodies[threads - 1] + r * per_round, per_round, threads);
            }
        double base = 0;
        for (int i = 0; i < nstores; i++) {
            double m = median(ns[i], rounds);
            if (i == 0) base = m;
            char label[40];
            snprintf(label, sizeof label, "%.33s", argv[3 + i]);
            printf("%-34s %8d %14.0f %12.1f %9.2fx\n", label, threads, 1e9 / m, m / 1000, m / base);
        }
    }
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < total; k++) free(bodies[t][k]);
        free(bodies[t]);
    }
    for (int i = 0; i < nstores; i++) jwtgrant_ctx_free(ctx[i]);
    free(issuer);
    EVP_PKEY_free(key);
    return 0;
}
