/*
 * bench_abi.c - libjwtgrant through its C ABI against raw OpenSSL doing only
 * the signature work, in the same process, rounds interleaved.
 *
 *   verify  RS256 / ES256 / EdDSA: jwtgrant_verify_assertion (whole RFC 7523
 *           pipeline, claims JSON out) vs one OpenSSL verify with a context
 *           prepared once per key (EVP_MD_CTX_copy_ex of an initialised
 *           DigestVerify context; for EdDSA OpenSSL's own Ed25519 verify).
 *   exchange: jwtgrant_exchange_token (Basic auth, form parsing, RS256
 *           assertion, replay record, ES256 access token) vs one RS256
 *           verify plus one ES256 sign in raw OpenSSL.
 *
 * Prints ns per operation and the ratio; never fails on timing.
 * Build: cc -O2 bench_abi.c $(pkg-config --cflags --libs jwtgrant libcrypto) -o bench_abi
 * Usage: bench_abi [rounds] [iterations-per-round]
 */
#define _POSIX_C_SOURCE 200809L
#include <jwtgrant.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 1750000000LL
#define SERVER_AUD "https://localhost:9443/oauth2/token"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "bench: %s\n", what);
    exit(2);
}

static char *b64url(const unsigned char *in, size_t len) {
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=') n--;
    out[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (out[i] == '+') out[i] = '-';
        else if (out[i] == '/') out[i] = '_';
    }
    return out;
}

static char *json_escape(const char *s) {
    char *out = malloc(2 * strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\n') { *o++ = '\\'; *o++ = 'n'; }
        else *o++ = *s;
    }
    *o = '\0';
    return out;
}

static char *spki_pem(EVP_PKEY *key) {
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *pem = malloc((size_t)n + 1);
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
    BIO_free(bio);
    return pem;
}

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

static int raw_verify(raw_verifier *v, token_t *t) {
    if (v->eddsa) {
        /* OpenSSL's own Ed25519: one-shot (it cannot stream). */
        if (EVP_DigestVerifyInit(v->work, NULL, NULL, NULL, v->key) != 1) return 0;
        return EVP_DigestVerify(v->work, t->der_sig, t->der_sig_len, (const unsigned char *)t->token,
                                t->input_len) == 1;
    }
    if (EVP_MD_CTX_copy_ex(v->work, v->prepared) != 1) return 0;
    if (EVP_DigestVerifyUpdate(v->work, t->token, t->input_len) != 1) return 0;
    return EVP_DigestVerifyFinal(v->work, t->der_sig, t->der_sig_len) == 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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
    if (rounds < 1 || iters < 1 || rounds > 1000 || iters > 100000) die("usage: bench_abi [rounds] [iterations]");

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
    for (int i = 0; i < 3; i++) {
        char iss[64], json[4096];
        snprintf(iss, sizeof iss, "https://idp-%s.example.com", toks[i].alg);
        mint(&toks[i], iss, "bench-jti");
        char *pem = spki_pem(toks[i].key), *esc = json_escape(pem);
        snprintf(json, sizeof json, "{\"name\":\"idp-%s\",\"issuer\":\"%s\",\"certificate\":\"%s\"}",
                 toks[i].alg, iss, esc);
        if (jwtgrant_register_issuer(ctx, json, &err) != JWTGRANT_OK) die(err ? err : "register_issuer");
        free(pem); free(esc);
        raw_init(&raw[i], &toks[i]);
        char *claims = NULL;
        if (!raw_verify(&raw[i], &toks[i])) die("raw verify failed");
        if (jwtgrant_verify_assertion(ctx, toks[i].token, &claims, &err) != JWTGRANT_OK) die(err ? err : "verify");
        jwtgrant_free(claims);
    }

    printf("libjwtgrant %s bench: %d rounds x %d iterations, medians of per-round means; %s\n\n",
           jwtgrant_version(), rounds, iters, log_mode);
    printf("%-28s %12s %12s %8s\n", "operation", "lib ns/op", "openssl ns/op", "ratio");

    double *lib_ns = calloc((size_t)rounds, sizeof(double)), *raw_ns = calloc((size_t)rounds, sizeof(double));
    double ed_raw = 0;
    for (int i = 0; i < 3; i++) {
        for (int r = 0; r < rounds; r++) {
            double t0 = now_ns();
            for (int k = 0; k < iters; k++) if (!raw_verify(&raw[i], &toks[i])) die("raw verify");
            double t1 = now_ns();
            for (int k = 0; k < iters; k++) {
                char *claims = NULL;
                if (jwtgrant_verify_assertion(ctx, toks[i].token, &claims, NULL) != JWTGRANT_OK) die("verify");
                jwtgrant_free(claims);
            }
            double t2 = now_ns();
            raw_ns[r] = (t1 - t0) / iters;
            lib_ns[r] = (t2 - t1) / iters;
        }
        double l = median(lib_ns, rounds), o = median(raw_ns, rounds);
        if (i == 2) ed_raw = o;
        char name[64];
        snprintf(name, sizeof name, "verify_assertion %s", toks[i].alg);
        printf("%-28s %12.0f %12.0f %7.3fx\n", name, l, o, l / o);
    }
    printf("(EdDSA ratio is against OpenSSL's own Ed25519 verify: %.0f ns)\n\n", ed_raw);

    /* The token endpoint: RS256 assertion in, ES256 access token out. */
    if (jwtgrant_register_client(ctx, "{\"client_id\":\"bench-app\",\"client_secret\":\"bench-secret-0123456789\","
                                 "\"grant_types\":[\"urn:ietf:params:oauth:grant-type:jwt-bearer\"]}", &err) != JWTGRANT_OK)
        die(err ? err : "register_client");
    int total = rounds * iters;
    char **bodies = malloc(sizeof(char *) * (size_t)total);
    const char *prefix = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    fprintf(stderr, "minting %d single-use RS256 assertions...\n", total);
    for (int k = 0; k < total; k++) {
        char jti[32];
        snprintf(jti, sizeof jti, "jti-%d", k);
        mint(&toks[0], "https://idp-RS256.example.com", jti);
        bodies[k] = malloc(strlen(prefix) + strlen(toks[0].token) + 1);
        sprintf(bodies[k], "%s%s", prefix, toks[0].token);
    }
    /* raw baseline: one RS256 verify + one ES256 sign with prepared contexts */
    EVP_MD_CTX *sign_prepared = EVP_MD_CTX_new(), *sign_work = EVP_MD_CTX_new();
    if (EVP_DigestSignInit(sign_prepared, NULL, EVP_sha256(), NULL, toks[1].key) != 1) die("DigestSignInit");
    const char *at_input = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NiIsImtpZCI6IngifQ."
                           "eyJpc3MiOiJodHRwczovL2xvY2FsaG9zdDo5NDQzL29hdXRoMi90b2tlbiIsInN1YiI6ImFsaWNlIn0";
    char basic[128] = "Basic ";
    EVP_EncodeBlock((unsigned char *)basic + 6, (const unsigned char *)"bench-app:bench-secret-0123456789", 33);
    int next = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (int k = 0; k < iters; k++) {
            unsigned char sig[128];
            size_t sig_len = sizeof sig;
            if (!raw_verify(&raw[0], &toks[0])) die("raw verify");
            if (EVP_MD_CTX_copy_ex(sign_work, sign_prepared) != 1 ||
                EVP_DigestSignUpdate(sign_work, at_input, strlen(at_input)) != 1 ||
                EVP_DigestSignFinal(sign_work, sig, &sig_len) != 1) die("raw sign");
        }
        double t1 = now_ns();
        for (int k = 0; k < iters; k++) {
            int32_t http = 0;
            char *resp = NULL;
            if (jwtgrant_exchange_token(ctx, basic, bodies[next++], &http, &resp) != JWTGRANT_OK || http != 200) {
                fprintf(stderr, "exchange failed: %d %s\n", http, resp ? resp : "");
                die("exchange");
            }
            jwtgrant_free(resp);
        }
        double t2 = now_ns();
        raw_ns[r] = (t1 - t0) / iters;
        lib_ns[r] = (t2 - t1) / iters;
    }
    double l = median(lib_ns, rounds), o = median(raw_ns, rounds);
    printf("%-28s %12.0f %12.0f %7.3fx\n", "exchange_token RS256->ES256", l, o, l / o);
    printf("(baseline: one RS256 verify + one ES256 sign in raw OpenSSL)\n");

    for (int k = 0; k < total; k++) free(bodies[k]);
    free(bodies); free(lib_ns); free(raw_ns);
    EVP_MD_CTX_free(sign_prepared); EVP_MD_CTX_free(sign_work);
    for (int i = 0; i < 3; i++) {
        EVP_MD_CTX_free(raw[i].prepared); EVP_MD_CTX_free(raw[i].work);
        EVP_PKEY_free(toks[i].key); free(toks[i].token);
    }
    jwtgrant_ctx_free(ctx);
    return 0;
}
