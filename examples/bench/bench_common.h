/*
 * What bench_abi.c and bench_stores.c share: a monotonic clock in ns, die(),
 * base64url, and a public key as PEM and as a JSON string's contents.
 * Define BENCH_PROGRAM (the name die() prints) before including. Static
 * inline, so a benchmark that does not use one compiles without warnings.
 */
#ifndef JWTGRANT_BENCH_COMMON_H
#define JWTGRANT_BENCH_COMMON_H

#ifndef BENCH_PROGRAM
#error "define BENCH_PROGRAM before including bench_common.h"
#endif

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline void die(const char *what) {
    fprintf(stderr, BENCH_PROGRAM ": %s\n", what);
    exit(2);
}

/* base64url without padding; free the result. */
static inline char *b64url(const unsigned char *in, size_t len) {
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

/* `s` with its newlines as \n, for a JSON string (PEM needs nothing else); free the result. */
static inline char *json_escape(const char *s) {
    char *out = malloc(2 * strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\n') { *o++ = '\\'; *o++ = 'n'; }
        else *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* The public key as a PEM SubjectPublicKeyInfo; free the result. */
static inline char *spki_pem(EVP_PKEY *key) {
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

#endif
