/*
 * exchange_threads.c - the library's own exchange rate, the yardstick of the
 * nginx load run: T threads share one context and call
 * jwtgrant_exchange_token over the same pre-minted assertions wrk sends
 * (each used once), with the same configuration, issuer and client files.
 *
 * Build: cc -O2 exchange_threads.c $(pkg-config --cflags --libs jwtgrant) -lpthread
 * Usage: exchange_threads DIR THREADS   (DIR as written by mint.py)
 * Prints exchanges per second and the CPU time (user + system, all threads)
 * per exchange; never fails on timing.
 */
#define _POSIX_C_SOURCE 200809L
#include <jwtgrant.h>

#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *slurp(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

typedef struct {
    jwtgrant_ctx *ctx;
    char **bodies;
    size_t first, count, stride;
    size_t ok, failed;
} worker;

static void *run(void *arg) {
    worker *w = arg;
    const char *basic = "Basic YmVuY2gtYXBwOmJlbmNoLXNlY3JldA==";   /* bench-app:bench-secret */
    for (size_t i = w->first; i < w->count; i += w->stride) {
        int32_t http = 0;
        char *resp = NULL;
        if (jwtgrant_exchange_token(w->ctx, basic, w->bodies[i], &http, &resp) == JWTGRANT_OK && http == 200)
            w->ok++;
        else
            w->failed++;
        jwtgrant_free(resp);
    }
    return NULL;
}

static void check(int32_t rc, char *err, const char *what) {
    if (rc != JWTGRANT_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, jwtgrant_status_name(rc), err ? err : "");
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: exchange_threads DIR THREADS\n"); return 2; }
    int threads = atoi(argv[2]);
    if (threads < 1 || threads > 64) { fprintf(stderr, "THREADS: 1..64\n"); return 2; }
    jwtgrant_ctx *ctx = NULL;
    char *err = NULL;
    check(jwtgrant_ctx_new(&ctx, slurp(argv[1], "server.json"), &err), err, "server.json");
    check(jwtgrant_register_issuer(ctx, slurp(argv[1], "idp.json"), &err), err, "idp.json");
    check(jwtgrant_register_client(ctx, slurp(argv[1], "app.json"), &err), err, "app.json");

    char *all = slurp(argv[1], "assertions.txt");
    size_t n = 0, cap = 1024;
    char **bodies = malloc(cap * sizeof *bodies);
    static const char prefix[] = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
        if (n == cap) bodies = realloc(bodies, (cap *= 2) * sizeof *bodies);
        bodies[n] = malloc(sizeof prefix + strlen(line));
        memcpy(bodies[n], prefix, sizeof prefix - 1);
        strcpy(bodies[n] + sizeof prefix - 1, line);
        n++;
    }

    worker w[64];
    pthread_t tid[64];
    struct timespec t0, t1;
    struct rusage u0, u1;
    getrusage(RUSAGE_SELF, &u0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){ctx, bodies, (size_t)i, n, (size_t)threads, 0, 0};
        pthread_create(&tid[i], NULL, run, &w[i]);
    }
    size_t ok = 0, failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        ok += w[i].ok;
        failed += w[i].failed;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &u1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
#define TV(t) ((double)(t).tv_sec * 1e6 + (double)(t).tv_usec)
    double cpu_us = TV(u1.ru_utime) - TV(u0.ru_utime) + TV(u1.ru_stime) - TV(u0.ru_stime);
    printf("library: %d thread(s), %zu exchanges in %.2f s: %.0f exchanges/s, %.1f us CPU per exchange "
           "(%zu failed)\n", threads, ok + failed, s, (double)(ok + failed) / s, cpu_us / (double)(ok + failed),
           failed);
    jwtgrant_ctx_free(ctx);
    return failed ? 1 : 0;
}
