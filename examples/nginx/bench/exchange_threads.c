/*
 * exchange_threads.c - the library's own exchange rate, the yardstick of the
 * nginx load run: T threads share one context and call
 * jwtgrant_exchange_token over the same pre-minted assertions wrk sends
 * (each used once), with the same configuration, issuer and client files.
 *
 * Build: cc -O2 exchange_threads.c $(pkg-config --cflags --libs jwtgrant) -lpthread
 * Usage: exchange_threads DIR THREADS [PROCESSES]   (DIR as written by mint.py)
 * With PROCESSES > 1 it forks that many processes, each with a context of
 * its own and THREADS threads, as nginx runs its workers (they need a shared
 * store). Prints exchanges per second and the CPU time (user + system, all
 * threads and processes) per exchange; never fails on timing.
 */
#define _POSIX_C_SOURCE 200809L
#include <jwtgrant.h>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
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

/* One process's share: a context of its own (as each nginx worker has),
 * `threads` threads over bodies first, first + stride, ... Returns the
 * counts and this process's CPU time in microseconds. */
typedef struct { size_t ok, failed; double cpu_us; } share;

#define TV(t) ((double)(t).tv_sec * 1e6 + (double)(t).tv_usec)

static jwtgrant_ctx *context(const char *dir) {
    jwtgrant_ctx *ctx = NULL;
    char *err = NULL;
    int32_t rc = jwtgrant_ctx_new(&ctx, slurp(dir, "server.json"), &err);
    check(rc, err, "server.json");
    rc = jwtgrant_register_issuer(ctx, slurp(dir, "idp.json"), &err);
    check(rc, err, "idp.json");
    rc = jwtgrant_register_client(ctx, slurp(dir, "app.json"), &err);
    check(rc, err, "app.json");
    return ctx;
}

static share run_share(jwtgrant_ctx *ctx, char **bodies, size_t n, int threads, size_t first, size_t stride) {
    worker w[64];
    pthread_t tid[64];
    struct rusage u0, u1;
    getrusage(RUSAGE_SELF, &u0);
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){ctx, bodies, first + (size_t)i * stride / (size_t)threads, n, stride, 0, 0};
        pthread_create(&tid[i], NULL, run, &w[i]);
    }
    share r = {0, 0, 0};
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        r.ok += w[i].ok;
        r.failed += w[i].failed;
    }
    getrusage(RUSAGE_SELF, &u1);
    r.cpu_us = TV(u1.ru_utime) - TV(u0.ru_utime) + TV(u1.ru_stime) - TV(u0.ru_stime);
    return r;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) { fprintf(stderr, "usage: exchange_threads DIR THREADS [PROCESSES]\n"); return 2; }
    int threads = atoi(argv[2]);
    int processes = argc == 4 ? atoi(argv[3]) : 1;
    if (threads < 1 || threads > 64) { fprintf(stderr, "THREADS: 1..64\n"); return 2; }
    if (processes < 1 || processes > 16) { fprintf(stderr, "PROCESSES: 1..16\n"); return 2; }

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

    share total = {0, 0, 0};
    double s;
    if (processes == 1) {
        jwtgrant_ctx *ctx = context(argv[1]);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        total = run_share(ctx, bodies, n, threads, 0, (size_t)threads);
        s = seconds_since(&t0);
        jwtgrant_ctx_free(ctx);
    } else {
        /* Like nginx workers: each child makes its own context after the
         * fork, says it is ready, waits for the start byte, runs its share
         * (process p takes bodies p, p + P, ...) and reports it on a pipe. */
        int ready[2], go[2], done[2];
        if (pipe(ready) || pipe(go) || pipe(done)) { perror("pipe"); return 2; }
        for (int p = 0; p < processes; p++) {
            pid_t pid = fork();
            if (pid < 0) { perror("fork"); return 2; }
            if (pid == 0) {
                jwtgrant_ctx *ctx = context(argv[1]);
                char b = 1;
                if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1) _exit(2);
                share r = run_share(ctx, bodies, n, threads, (size_t)p, (size_t)processes * (size_t)threads);
                jwtgrant_ctx_free(ctx);
                _exit(write(done[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 2);
            }
        }
        /* Only the children write ready and done: a child that dies makes
         * the reads below end instead of waiting forever. */
        close(ready[1]);
        close(done[1]);
        close(go[0]);
        char b;
        for (int p = 0; p < processes; p++)
            if (read(ready[0], &b, 1) != 1) { fprintf(stderr, "a child failed to start\n"); return 2; }
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int p = 0; p < processes; p++)
            if (write(go[1], &b, 1) != 1) { perror("write"); return 2; }
        for (int p = 0; p < processes; p++) {
            share r;
            if (read(done[0], &r, sizeof r) != (ssize_t)sizeof r) { fprintf(stderr, "a child failed\n"); return 2; }
            total.ok += r.ok; total.failed += r.failed; total.cpu_us += r.cpu_us;
        }
        s = seconds_since(&t0);
        while (wait(NULL) > 0) {}
    }
    size_t count = total.ok + total.failed;
    printf("library: %d process(es) x %d thread(s), %zu exchanges in %.2f s: %.0f exchanges/s, "
           "%.1f us CPU per exchange (%zu failed)\n", processes, threads, count, s, (double)count / s,
           total.cpu_us / (double)count, total.failed);
    return total.failed ? 1 : 0;
}
