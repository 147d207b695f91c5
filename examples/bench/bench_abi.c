/*
 * bench_abi.c - libjwtgrant through its C ABI against the raw signature work,
 * in the same process, rounds interleaved (raw, library, raw, library...).
 *
 *   verify  RS256 / ES256: jwtgrant_verify_assertion (whole RFC 7523
 *           pipeline, claims JSON out) over 2,000 distinct tokens vs one
 *           OpenSSL verify of the same tokens with a context prepared once
 *           per key (EVP_MD_CTX_copy_ex of an initialised DigestVerify
 *           context).
 *   verify  EdDSA: the same against raw libsodium
 *           (crypto_sign_verify_detached), and, for reference, OpenSSL's own
 *           Ed25519.
 *   exchange: jwtgrant_exchange_token (Basic auth, form parsing, RS256
 *           assertion, replay record, ES256 access token, response) with a
 *           fresh assertion each time vs one RS256 verify plus one ES256 sign
 *           in raw OpenSSL.
 *   threads: the throughput of verify (RS256) and exchange from 2 threads
 *           against 1 (each thread its own tokens; wall clock).
 *
 * Prints, per path, the median ns per operation and the median ratio with its
 * spread (lowest and highest per-round ratio); never fails on timing.
 * Build: cc -O2 bench_abi.c $(pkg-config --cflags --libs jwtgrant libcrypto libsodium) -lpthread -o bench_abi
 * Usage: bench_abi [rounds] [iterations-per-round] [only: verify|exchange|threads]
 * BENCH_ALG=RS256|ES256|EdDSA limits the verify section to one algorithm
 * (for profilers: valgrind --tool=callgrind --toggle-collect=...).
 */
#define _POSIX_C_SOURCE 200809L
#define BENCH_PROGRAM "bench"
#include <jwtgrant.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <sodium.h>

#include "bench_common.h"

#define T0 1750000000LL
#define SERVER_AUD "https://localhost:9443/oauth2/token"

/* DER ECDSA signature -> JWS raw r||s of 2*half bytes. */
static size_t der_to_raw(const unsigned char *der, size_t der_len, unsigned char *raw, int half) {
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!sig) die("d2i_ECDSA_SIG");
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, half);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + half, half);
    ECDSA_SIG_free(sig);
    return (size_t)(2 * half);
}

typedef struct {
    const char *alg;
    EVP_PKEY *key;
    const EVP_MD *md;     /* NULL for EdDSA */
    char *token;          /* compact JWS */
    size_t input_len;     /* signing input length */
    unsigned char der_sig[1024];  /* what raw OpenSSL verifies */
    size_t der_sig_len;
} token_t;

/* A minted token kept for the verify loops. */
typedef struct {
    char *token;
    size_t input_len;
    unsigned char der_sig[512];
    size_t der_sig_len;
} sample_t;

/* Signs header.payload; fills the raw-OpenSSL signature and the JWS. */
static void mint(token_t *t, const char *iss, const char *jti) {
    char header[128], payload[1024];
    snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"bench-%s\"}", t->alg, t->alg);
    snprintf(payload, sizeof payload,
             "{\"iss\":\"%s\",\"sub\":\"alice@example.com\",\"aud\":\"" SERVER_AUD "\","
             "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"jti\":\"%s\",\"email\":\"alice@example.com\","
             "\"name\":\"Alice Example\",\"groups\":[\"engineering\",\"admins\"],\"azp\":\"partner-app\"}",
             iss, T0, T0, T0 + 600, jti);
    char *h = b64url((const unsigned char *)header, strlen(header));
    char *p = b64url((const unsigned char *)payload, strlen(payload));
    size_t input_len = strlen(h) + 1 + strlen(p);
    char *input = malloc(input_len + 1);
    sprintf(input, "%s.%s", h, p);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    t->der_sig_len = sizeof t->der_sig;
    if (EVP_DigestSignInit(md, NULL, t->md, NULL, t->key) != 1 ||
        EVP_DigestSign(md, t->der_sig, &t->der_sig_len, (const unsigned char *)input, input_len) != 1)
        die("sign");
    EVP_MD_CTX_free(md);
    unsigned char raw[512];
    size_t raw_len = t->der_sig_len;
    if (strcmp(t->alg, "ES256") == 0) raw_len = der_to_raw(t->der_sig, t->der_sig_len, raw, 32);
    else memcpy(raw, t->der_sig, raw_len);
    char *s = b64url(raw, raw_len);
    free(t->token);
    t->token = malloc(input_len + 1 + strlen(s) + 1);
    sprintf(t->token, "%s.%s", input, s);
    t->input_len = input_len;
    free(h); free(p); free(s); free(input);
}

/* One raw OpenSSL verification with a context prepared once. */
typedef struct {
    EVP_MD_CTX *prepared, *work;
    EVP_PKEY *key;
    int eddsa;
} raw_verifier;

static void raw_init(raw_verifier *v, token_t *t) {
    v->prepared = EVP_MD_CTX_new();
    v->work = EVP_MD_CTX_new();
    v->key = t->key;
    v->eddsa = t->md == NULL;
    if (EVP_DigestVerifyInit(v->prepared, NULL, t->md, NULL, t->key) != 1) die("DigestVerifyInit");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n) {
    double *c = malloc(sizeof(double) * (size_t)n);
    memcpy(c, v, sizeof(double) * (size_t)n);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

static double lowest(const double *v, int n) { double m = v[0]; for (int i = 1; i < n; i++) if (v[i] < m) m = v[i]; return m; }
static double highest(const double *v, int n) { double m = v[0]; for (int i = 1; i < n; i++) if (v[i] > m) m = v[i]; return m; }

/* Median lib and raw ns/op, and the per-round ratios' median and spread. */
static void report(const char *name, const double *lib, const double *raw, int rounds, const char *target) {
    double *ratio = calloc((size_t)rounds, sizeof(double));
    for (int r = 0; r < rounds; r++) ratio[r] = lib[r] / raw[r];
    printf("%-30s %10.0f %10.0f   %6.3fx  [%5.3f-%5.3f]  %s\n", name, median(lib, rounds), median(raw, rounds),
           median(ratio, rounds), lowest(ratio, rounds), highest(ratio, rounds), target);
    free(ratio);
}

#define SAMPLES 2000

static sample_t *mint_samples(token_t *t, const char *iss, int n) {
    sample_t *s = calloc((size_t)n, sizeof *s);
    for (int k = 0; k < n; k++) {
        char jti[32];
        snprintf(jti, sizeof jti, "v-%s-%d", t->alg, k);
        mint(t, iss, jti);
        s[k].token = strdup(t->token);
        s[k].input_len = t->input_len;
        memcpy(s[k].der_sig, t->der_sig, t->der_sig_len);
        s[k].der_sig_len = t->der_sig_len;
    }
    return s;
}

static int raw_verify_sample(raw_verifier *v, const sample_t *s) {
    if (v->eddsa) {
        if (EVP_DigestVerifyInit(v->work, NULL, NULL, NULL, v->key) != 1) return 0;
        return EVP_DigestVerify(v->work, s->der_sig, s->der_sig_len, (const unsigned char *)s->token, s->input_len) == 1;
    }
    if (EVP_MD_CTX_copy_ex(v->work, v->prepared) != 1) return 0;
    if (EVP_DigestVerifyUpdate(v->work, s->token, s->input_len) != 1) return 0;
    return EVP_DigestVerifyFinal(v->work, s->der_sig, s->der_sig_len) == 1;
}

/* The exchange fixture: a context with the RS256 issuer and a client. */
static const char *PREFIX = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
static char BASIC[128] = "Basic ";

static char **mint_bodies(token_t *rs, int n, const char *tag) {
    char **bodies = malloc(sizeof(char *) * (size_t)n);
    for (int k = 0; k < n; k++) {
        char jti[48];
        snprintf(jti, sizeof jti, "x-%s-%d", tag, k);
        mint(rs, "https://idp-RS256.example.com", jti);
        bodies[k] = malloc(strlen(PREFIX) + strlen(rs->token) + 1);
        sprintf(bodies[k], "%s%s", PREFIX, rs->token);
    }
    return bodies;
}

/* The raw work an exchange must do: one RS256 verify, one ES256 sign. */
__attribute__((noinline)) static void raw_exchange_work(raw_verifier *rs, const sample_t *s, EVP_MD_CTX *sign_work, EVP_MD_CTX *sign_prepared,
                              const char *at_input) {
    unsigned char sig[128];
    size_t sig_len = sizeof sig;
    if (!raw_verify_sample(rs, s)) die("raw verify");
    if (EVP_MD_CTX_copy_ex(sign_work, sign_prepared) != 1 ||
        EVP_DigestSignUpdate(sign_work, at_input, strlen(at_input)) != 1 ||
        EVP_DigestSignFinal(sign_work, sig, &sig_len) != 1) die("raw sign");
}

static void exchange_one(jwtgrant_ctx *ctx, const char *body) {
    int32_t http = 0;
    char *resp = NULL;
    if (jwtgrant_exchange_token(ctx, BASIC, body, &http, &resp) != JWTGRANT_OK || http != 200) {
        fprintf(stderr, "exchange failed: %d %s\n", http, resp ? resp : "");
        die("exchange");
    }
    jwtgrant_free(resp);
}

/* Threads: each runs `count` operations of its own. */
typedef struct {
    jwtgrant_ctx *ctx;
    int exchange;
    sample_t *samples;   /* verify */
    char **bodies;       /* exchange */
    int first, count;
} work_t;

static void *worker(void *arg) {
    work_t *w = arg;
    for (int k = 0; k < w->count; k++) {
        if (w->exchange) {
            exchange_one(w->ctx, w->bodies[w->first + k]);
        } else {
            char *claims = NULL;
            const sample_t *s = &w->samples[(w->first + k) % SAMPLES];
            if (jwtgrant_verify_assertion(w->ctx, s->token, &claims, NULL) != JWTGRANT_OK) die("verify (thread)");
            jwtgrant_free(claims);
        }
    }
    return NULL;
}

/* Wall time of `n` threads each running work[i]. */
static double run_threads(work_t *work, int n) {
    pthread_t th[2];
    double t0 = now_ns();
    for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, worker, &work[i]);
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    return now_ns() - t0;
}

#ifdef JWTGRANT_LOG_INFO
/* JWTGRANT_BENCH_LOG=1: a log function that only touches each event, to
 * measure the cost of building and delivering events. */
static volatile size_t event_bytes;
static void count_event(void *user_data, int32_t level, const char *event_json) {
    (void)user_data; (void)level;
    event_bytes += strlen(event_json);
}
#endif

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    int iters = argc > 2 ? atoi(argv[2]) : 400;
    const char *only = argc > 3 ? argv[3] : "";
    if (rounds < 1 || iters < 1 || rounds > 1000 || iters > 100000)
        die("usage: bench_abi [rounds] [iterations] [verify|exchange|threads]");
    int all = only[0] == '\0';
    if (sodium_init() < 0) die("sodium_init");

    token_t toks[3] = {
        {"RS256", EVP_RSA_gen(2048), EVP_sha256(), NULL, 0, {0}, 0},
        {"ES256", EVP_EC_gen("P-256"), EVP_sha256(), NULL, 0, {0}, 0},
        {"EdDSA", EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), NULL, NULL, 0, {0}, 0},
    };
    jwtgrant_ctx *ctx = NULL;
    char *err = NULL;
    if (jwtgrant_ctx_new(&ctx, "{\"grant_type\":{\"jwt\":{\"iat_validity_period\":525600}}}", &err) != JWTGRANT_OK)
        die(err ? err : "ctx_new");
    jwtgrant_ctx_set_time(ctx, T0 + 1, NULL);
    const char *log_mode = "no log callback";
#ifdef JWTGRANT_LOG_INFO
    if (getenv("JWTGRANT_BENCH_LOG") && strcmp(getenv("JWTGRANT_BENCH_LOG"), "1") == 0) {
        if (jwtgrant_set_log_callback(ctx, count_event, NULL, &err) != JWTGRANT_OK) die("set_log_callback");
        log_mode = "log callback on (JWTGRANT_BENCH_LOG=1)";
    }
#endif

    raw_verifier raw[3];
    sample_t *samples[3];
    unsigned char ed_pk[32];
    size_t ed_pk_len = sizeof ed_pk;
    fprintf(stderr, "minting %d distinct tokens per algorithm...\n", SAMPLES);
    const char *only_alg = getenv("BENCH_ALG");
    for (int i = 0; i < 3; i++) {
        char iss[64], json[4096];
        snprintf(iss, sizeof iss, "https://idp-%s.example.com", toks[i].alg);
        char *pem = spki_pem(toks[i].key), *esc = json_escape(pem);
        snprintf(json, sizeof json, "{\"name\":\"idp-%s\",\"issuer\":\"%s\",\"certificate\":\"%s\"}",
                 toks[i].alg, iss, esc);
        if (jwtgrant_register_issuer(ctx, json, &err) != JWTGRANT_OK) die(err ? err : "register_issuer");
        free(pem); free(esc);
        raw_init(&raw[i], &toks[i]);
        int wanted = i == 0 || !only_alg || strcmp(only_alg, toks[i].alg) == 0;
        samples[i] = mint_samples(&toks[i], iss, wanted ? SAMPLES : 1);
        if (!wanted) continue;
        for (int k = 0; k < SAMPLES; k++) {
            char *claims = NULL;
            if (!raw_verify_sample(&raw[i], &samples[i][k])) die("raw verify failed");
            if (jwtgrant_verify_assertion(ctx, samples[i][k].token, &claims, &err) != JWTGRANT_OK) die(err ? err : "verify");
            jwtgrant_free(claims);
        }
    }
    if (EVP_PKEY_get_raw_public_key(toks[2].key, ed_pk, &ed_pk_len) != 1 || ed_pk_len != 32) die("Ed25519 public key");

    printf("libjwtgrant %s bench: %d rounds x %d iterations, %d distinct tokens per algorithm; %s\n",
           jwtgrant_version(), rounds, iters, SAMPLES, log_mode);
    printf("(ns per operation: medians of per-round means; ratio: median of per-round ratios [lowest-highest])\n\n");
    printf("%-30s %10s %10s   %7s  %13s  %s\n", "operation", "lib ns", "raw ns", "ratio", "spread", "target");

    double *lib_ns = calloc((size_t)rounds, sizeof(double)), *raw_ns = calloc((size_t)rounds, sizeof(double));
    double *ossl_ns = calloc((size_t)rounds, sizeof(double));
    int next = 0;
    if (all || strcmp(only, "verify") == 0) {
        const char *targets[3] = {"<= 1.08x", "<= 1.03x", ""};
        for (int i = 0; i < 3; i++) {
            if (only_alg && strcmp(only_alg, toks[i].alg) != 0) continue;
            for (int r = 0; r < rounds; r++) {
                double t0 = now_ns();
                if (i < 2) {
                    for (int k = 0; k < iters; k++)
                        if (!raw_verify_sample(&raw[i], &samples[i][(next + k) % SAMPLES])) die("raw verify");
                } else {
                    for (int k = 0; k < iters; k++) {
                        const sample_t *s = &samples[i][(next + k) % SAMPLES];
                        if (crypto_sign_verify_detached(s->der_sig, (const unsigned char *)s->token, s->input_len, ed_pk) != 0)
                            die("libsodium verify");
                    }
                }
                double t1 = now_ns();
                for (int k = 0; k < iters; k++) {
                    char *claims = NULL;
                    if (jwtgrant_verify_assertion(ctx, samples[i][(next + k) % SAMPLES].token, &claims, NULL) != JWTGRANT_OK)
                        die("verify");
                    jwtgrant_free(claims);
                }
                double t2 = now_ns();
                if (i == 2) {
                    for (int k = 0; k < iters; k++)
                        if (!raw_verify_sample(&raw[i], &samples[i][(next + k) % SAMPLES])) die("raw verify");
                    ossl_ns[r] = (now_ns() - t2) / iters;
                }
                next = (next + iters) % SAMPLES;
                raw_ns[r] = (t1 - t0) / iters;
                lib_ns[r] = (t2 - t1) / iters;
            }
            char name[64];
            snprintf(name, sizeof name, i == 2 ? "verify_assertion %s/libsodium" : "verify_assertion %s", toks[i].alg);
            report(name, lib_ns, raw_ns, rounds, i == 2 ? "<= 1.10x" : targets[i]);
            if (i == 2) report("verify_assertion EdDSA/OpenSSL", lib_ns, ossl_ns, rounds, "(reference)");
        }
    }

    if (jwtgrant_register_client(ctx, "{\"client_id\":\"bench-app\",\"client_secret\":\"bench-secret-0123456789\","
                                 "\"grant_types\":[\"urn:ietf:params:oauth:grant-type:jwt-bearer\"]}", &err) != JWTGRANT_OK)
        die(err ? err : "register_client");
    EVP_EncodeBlock((unsigned char *)BASIC + 6, (const unsigned char *)"bench-app:bench-secret-0123456789", 33);

    if (all || strcmp(only, "exchange") == 0) {
        /* The token endpoint: RS256 assertion in, ES256 access token out. */
        int total = rounds * iters;
        fprintf(stderr, "minting %d single-use RS256 assertions...\n", total);
        char **bodies = mint_bodies(&toks[0], total, "e");
        /* raw baseline: one RS256 verify + one ES256 sign with prepared contexts */
        EVP_MD_CTX *sign_prepared = EVP_MD_CTX_new(), *sign_work = EVP_MD_CTX_new();
        if (EVP_DigestSignInit(sign_prepared, NULL, EVP_sha256(), NULL, toks[1].key) != 1) die("DigestSignInit");
        const char *at_input = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NiIsImtpZCI6IngifQ."
                               "eyJpc3MiOiJodHRwczovL2xvY2FsaG9zdDo5NDQzL29hdXRoMi90b2tlbiIsInN1YiI6ImFsaWNlIn0";
        int used = 0;
        for (int r = 0; r < rounds; r++) {
            double t0 = now_ns();
            for (int k = 0; k < iters; k++)
                raw_exchange_work(&raw[0], &samples[0][(next + k) % SAMPLES], sign_work, sign_prepared, at_input);
            double t1 = now_ns();
            for (int k = 0; k < iters; k++) exchange_one(ctx, bodies[used++]);
            double t2 = now_ns();
            next = (next + iters) % SAMPLES;
            raw_ns[r] = (t1 - t0) / iters;
            lib_ns[r] = (t2 - t1) / iters;
        }
        report("exchange_token RS256->ES256", lib_ns, raw_ns, rounds, "<= 1.20x");
        printf("(exchange baseline: one RS256 verify + one ES256 sign in raw OpenSSL)\n");
        for (int k = 0; k < total; k++) free(bodies[k]);
        free(bodies);
        EVP_MD_CTX_free(sign_prepared); EVP_MD_CTX_free(sign_work);
    }

    if (all || strcmp(only, "threads") == 0) {
        /* Throughput of 2 threads against 1: per round, 1 thread runs its
           operations (verify: 4 x iters, exchange: iters), then 2 threads run
           as many each at once. */
        printf("\n%-30s %10s %10s   %7s  %13s  %s\n", "2 threads vs 1", "1T ops/s", "2T ops/s", "scaling", "spread", "target");
        int per = iters;
        fprintf(stderr, "minting %d single-use RS256 assertions for the thread rounds...\n", 3 * per * rounds);
        char **bodies = mint_bodies(&toks[0], 3 * per * rounds, "t");
        for (int mode = 0; mode < 2; mode++) {
            double *one = calloc((size_t)rounds, sizeof(double)), *two = calloc((size_t)rounds, sizeof(double));
            double *scale = calloc((size_t)rounds, sizeof(double));
            int used = 0;
            int n = mode ? per : 4 * per;
            for (int r = 0; r < rounds; r++) {
                work_t w1 = {ctx, mode, samples[0], bodies, mode ? used : 0, n};
                if (mode) used += n;
                double t1 = run_threads(&w1, 1);
                work_t w2[2] = {{ctx, mode, samples[0], bodies, mode ? used : 0, n},
                                {ctx, mode, samples[0], bodies, mode ? used + n : SAMPLES / 2, n}};
                if (mode) used += 2 * n;
                double t2 = run_threads(w2, 2);
                one[r] = n / (t1 / 1e9);
                two[r] = 2 * n / (t2 / 1e9);
                scale[r] = two[r] / one[r];
            }
            printf("%-30s %10.0f %10.0f   %6.3fx  [%5.3f-%5.3f]  >= 1.9x\n",
                   mode ? "exchange_token (RS256->ES256)" : "verify_assertion RS256",
                   median(one, rounds), median(two, rounds), median(scale, rounds), lowest(scale, rounds),
                   highest(scale, rounds));
            free(one); free(two); free(scale);
        }
        for (int k = 0; k < 3 * per * rounds; k++) free(bodies[k]);
        free(bodies);
    }

    free(lib_ns); free(raw_ns); free(ossl_ns);
    for (int i = 0; i < 3; i++) {
        EVP_MD_CTX_free(raw[i].prepared); EVP_MD_CTX_free(raw[i].work);
        int n = i == 0 || !only_alg || strcmp(only_alg, toks[i].alg) == 0 ? SAMPLES : 1;
        for (int k = 0; k < n; k++) free(samples[i][k].token);
        free(samples[i]);
        EVP_PKEY_free(toks[i].key); free(toks[i].token);
    }
    jwtgrant_ctx_free(ctx);
    return 0;
}
