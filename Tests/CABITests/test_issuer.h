/*
 * What fork_test.c and log_test.c share: die(), a monotonic clock, base64url,
 * an Ed25519 issuer (its key, its one-key JWKS, assertions signed with it)
 * and a listening socket on 127.0.0.1 for a JWKS endpoint whose request
 * handling each test writes itself. Define TEST_PROGRAM (the name die()
 * prints) and TEST_KID (the key's "kid") before including. Everything is
 * static inline, so a file that does not use a function still compiles with
 * -Wall -Wextra -Werror.
 */
#ifndef JWTGRANT_TEST_ISSUER_H
#define JWTGRANT_TEST_ISSUER_H

#if !defined(TEST_PROGRAM) || !defined(TEST_KID)
#error "define TEST_PROGRAM and TEST_KID before including test_issuer.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline void die(const char *what) {
    fprintf(stderr, TEST_PROGRAM ": %s (%s)\n", what, strerror(errno));
    exit(2);
}

static inline double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- an Ed25519 issuer ------------------------------------------------- */

static EVP_PKEY *idp_key;
static char idp_public_x[64]; /* the public key, base64url: the JWK's "x" */
static char jwks_doc[256];

static inline void b64url(const unsigned char *in, size_t len, char *out, size_t cap) {
    unsigned char tmp[1024];
    if (4 * ((len + 2) / 3) + 1 > sizeof tmp || 4 * ((len + 2) / 3) + 1 > cap) die("b64url: too long");
    int n = EVP_EncodeBlock(tmp, in, (int)len);
    int j = 0;
    for (int i = 0; i < n; i++) {
        char c = (char)tmp[i];
        if (c == '=') break;
        out[j++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[j] = 0;
}

/* Generates idp_key and its key set (jwks_doc, one key whose kid is TEST_KID). */
static inline void make_issuer_key(void) {
    idp_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!idp_key) die("keygen");
    unsigned char pub[32];
    size_t pub_len = sizeof pub;
    if (EVP_PKEY_get_raw_public_key(idp_key, pub, &pub_len) != 1) die("raw public key");
    b64url(pub, pub_len, idp_public_x, sizeof idp_public_x);
    snprintf(jwks_doc, sizeof jwks_doc,
             "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"" TEST_KID "\",\"x\":\"%s\"}]}",
             idp_public_x);
}

/* An EdDSA assertion from `iss` for the default audience, valid now. */
static inline void mint(const char *iss, const char *jti, char *out, size_t cap) {
    char header[128], payload[512], h64[256], p64[768], s64[128], input[1100];
    long now = (long)time(NULL);
    snprintf(header, sizeof header, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"" TEST_KID "\"}");
    snprintf(payload, sizeof payload,
             "{\"iss\":\"%s\",\"sub\":\"alice\",\"aud\":\"https://localhost:9443/oauth2/token\","
             "\"iat\":%ld,\"exp\":%ld,\"jti\":\"%s\"}", iss, now, now + 300, jti);
    b64url((const unsigned char *)header, strlen(header), h64, sizeof h64);
    b64url((const unsigned char *)payload, strlen(payload), p64, sizeof p64);
    snprintf(input, sizeof input, "%s.%s", h64, p64);
    unsigned char sig[64];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, idp_key) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, strlen(input)) != 1) die("sign");
    EVP_MD_CTX_free(md);
    b64url(sig, sig_len, s64, sizeof s64);
    if ((size_t)snprintf(out, cap, "%s.%s", input, s64) >= cap) die("token too long");
}

/* ---- a JWKS endpoint on 127.0.0.1 --------------------------------------- */

static int listener, port;

/* Sends the `len` bytes of `resp` (a whole HTTP response), giving up if the peer has gone. */
static inline void send_response(int fd, const char *resp, int len) {
    ssize_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, resp + off, (size_t)(len - off), MSG_NOSIGNAL);
        if (w <= 0) break;
        off += w;
    }
}

/* Listens on 127.0.0.1 (the port is in `port`) and runs `serve` on a
 * detached thread; `serve` accepts from `listener`. */
static inline void start_endpoint(void *(*serve)(void *)) {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 64) != 0) die("bind/listen");
    socklen_t al = sizeof a;
    if (getsockname(listener, (struct sockaddr *)&a, &al) != 0) die("getsockname");
    port = ntohs(a.sin_port);
    pthread_t t;
    if (pthread_create(&t, NULL, serve, NULL) != 0) die("pthread_create");
    pthread_detach(t);
}

#endif
