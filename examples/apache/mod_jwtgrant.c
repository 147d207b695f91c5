/*
 * mod_jwtgrant.c - an Apache httpd 2.4 module serving the JWT Bearer grant
 * (RFC 7523) token endpoint with libjwtgrant.
 *
 *   LoadModule jwtgrant_module modules/mod_jwtgrant.so
 *   JWTGrantConfig /etc/jwtgrant/server.json       # optional; jwtgrant_ctx_new
 *   JWTGrantIssuer /etc/jwtgrant/idp.json          # repeatable; jwtgrant_register_issuer
 *   JWTGrantClient /etc/jwtgrant/app.json          # repeatable; jwtgrant_register_client
 *   JWTGrantMaxBody 65536                          # optional, bytes; default: the library's
 *                                                  # limit (max_assertion_size + 32768)
 *   <Location /oauth2/token>
 *       SetHandler jwtgrant-token                  # POST: jwtgrant_exchange_token
 *   </Location>
 *   <Location /oauth2/jwks>
 *       SetHandler jwtgrant-jwks                   # GET: jwtgrant_jwks
 *   </Location>
 *
 * Audit: every token request, verification and JWKS fetch is written to the
 * error log as one line "jwtgrant: {...event JSON...}" through
 * jwtgrant_set_log_callback, at the event's level: APLOG_INFO for a success,
 * APLOG_WARNING for a refused request, APLOG_ERR for a server-side failure
 * or a failed JWKS fetch (LogLevel decides which appear). Events never hold
 * a token, a secret or a key.
 *
 * Each child process owns one jwtgrant_ctx, created in child_init and freed
 * with the child's pool; its worker threads share it (the library is
 * thread-safe). The configuration is also loaded once at startup, in the
 * parent, so a bad file stops httpd with the library's message instead of
 * failing every request.
 *
 * Several children: with "store": "sqlite:PATH" (or a Redis URL) in the
 * configuration, the children share the replay records, the registrations
 * and the access-token signing key, so any number of children (prefork,
 * worker or event MPM) accept an assertion once and serve one JWKS. With the
 * default "memory" store each child has its own: run a single child then.
 *
 * Build (see scripts/test):
 *   gcc -shared -fPIC -I$(apxs -q INCLUDEDIR) $(apr-1-config --includes --cppflags) \
 *       mod_jwtgrant.c $(pkg-config --cflags --libs jwtgrant) -o mod_jwtgrant.so
 */
#include <jwtgrant.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_file_io.h"
#include "apr_strings.h"

#include <string.h>

module AP_MODULE_DECLARE_DATA jwtgrant_module;

#define MAX_FILE (1024 * 1024)

typedef struct {
    const char *config_json;            /* contents of JWTGrantConfig, or NULL */
    apr_array_header_t *issuers;        /* contents of each JWTGrantIssuer */
    apr_array_header_t *clients;        /* contents of each JWTGrantClient */
    apr_off_t max_body;                 /* JWTGrantMaxBody, or 0: the library's limit */
    jwtgrant_ctx *ctx;                  /* per child process */
    apr_off_t body_limit;               /* per child: the limit in force */
} jwtgrant_conf;

/* ---- configuration ---------------------------------------------------- */

static void *create_server_config(apr_pool_t *p, server_rec *s) {
    (void)s;
    jwtgrant_conf *c = apr_pcalloc(p, sizeof *c);
    c->issuers = apr_array_make(p, 2, sizeof(const char *));
    c->clients = apr_array_make(p, 2, sizeof(const char *));
    c->max_body = 0;
    return c;
}

/* The whole file as a NUL-terminated string from the configuration pool. */
static const char *read_file(cmd_parms *cmd, const char *arg, const char **out) {
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_file_t *f;
    apr_finfo_t info;
    if (!path) return apr_psprintf(cmd->pool, "%s: invalid path", cmd->cmd->name);
    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, cmd->temp_pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot open %s", cmd->cmd->name, path);
    if (apr_file_info_get(&info, APR_FINFO_SIZE, f) != APR_SUCCESS || info.size > MAX_FILE) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: %s is unreadable or over %d bytes", cmd->cmd->name, path, MAX_FILE);
    }
    char *buf = apr_palloc(cmd->pool, (apr_size_t)info.size + 1);
    apr_size_t got = (apr_size_t)info.size;
    apr_status_t rv = info.size ? apr_file_read_full(f, buf, got, &got) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS) return apr_psprintf(cmd->pool, "%s: cannot read %s", cmd->cmd->name, path);
    buf[got] = '\0';
    if (strlen(buf) != got) return apr_psprintf(cmd->pool, "%s: %s contains a NUL byte", cmd->cmd->name, path);
    *out = buf;
    return NULL;
}

/* The directives belong to the main server: one token endpoint per httpd,
 * whichever virtual host maps a <Location> to it. */
static const char *main_conf(cmd_parms *cmd, jwtgrant_conf **out) {
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err) return err;
    *out = ap_get_module_config(cmd->server->module_config, &jwtgrant_module);
    return NULL;
}

static const char *set_config(cmd_parms *cmd, void *dc, const char *arg) {
    (void)dc;
    jwtgrant_conf *c;
    const char *err = main_conf(cmd, &c);
    return err ? err : read_file(cmd, arg, &c->config_json);
}

static const char *add_issuer(cmd_parms *cmd, void *dc, const char *arg) {
    (void)dc;
    jwtgrant_conf *c;
    const char *err = main_conf(cmd, &c);
    return err ? err : read_file(cmd, arg, (const char **)apr_array_push(c->issuers));
}

static const char *add_client(cmd_parms *cmd, void *dc, const char *arg) {
    (void)dc;
    jwtgrant_conf *c;
    const char *err = main_conf(cmd, &c);
    return err ? err : read_file(cmd, arg, (const char **)apr_array_push(c->clients));
}

static const char *set_max_body(cmd_parms *cmd, void *dc, const char *arg) {
    (void)dc;
    jwtgrant_conf *c;
    const char *err = main_conf(cmd, &c);
    if (err) return err;
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || n < 1024 || n > 16 * 1024 * 1024)
        return "JWTGrantMaxBody: a number of bytes from 1024 to 16777216";
    c->max_body = (apr_off_t)n;
    return NULL;
}

static const command_rec jwtgrant_cmds[] = {
    AP_INIT_TAKE1("JWTGrantConfig", set_config, NULL, RSRC_CONF,
                  "JSON file: the configuration of jwtgrant_ctx_new"),
    AP_INIT_ITERATE("JWTGrantIssuer", add_issuer, NULL, RSRC_CONF,
                    "JSON file(s): trusted token issuers (jwtgrant_register_issuer)"),
    AP_INIT_ITERATE("JWTGrantClient", add_client, NULL, RSRC_CONF,
                    "JSON file(s): applications (jwtgrant_register_client)"),
    AP_INIT_TAKE1("JWTGrantMaxBody", set_max_body, NULL, RSRC_CONF,
                  "largest token request body accepted, bytes (default: the library's, "
                  "max_assertion_size + 32768)"),
    {NULL},
};

typedef int32_t (*register_fn)(jwtgrant_ctx *, const char *, char **);

/* Registers every document of `docs` with `fn`; logs the first failure. */
static int register_all(server_rec *s, jwtgrant_ctx *ctx, const apr_array_header_t *docs,
                        register_fn fn, const char *directive) {
    for (int i = 0; i < docs->nelts; i++) {
        char *err = NULL;
        int32_t rc = fn(ctx, APR_ARRAY_IDX(docs, i, const char *), &err);
        if (rc != JWTGRANT_OK) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "jwtgrant: %s #%d: %s: %s", directive, i + 1,
                         jwtgrant_status_name(rc), err ? err : "no message");
            jwtgrant_free(err);
            return 0;
        }
    }
    return 1;
}

/* A context with every configured issuer and client, or NULL with the
 * failure logged (the library's message names the field; never a secret). */
/* A context with the configured issuers and clients; *limit_out (unless
 * NULL) receives the body limit in force: JWTGrantMaxBody, or else the
 * library's (jwtgrant_token_body_limit), so one setting governs both. */
static jwtgrant_ctx *build_ctx(server_rec *s, const jwtgrant_conf *c, apr_off_t *limit_out) {
    jwtgrant_ctx *ctx = NULL;
    char *err = NULL;
    int32_t rc = jwtgrant_ctx_new(&ctx, c->config_json, &err);
    if (rc != JWTGRANT_OK) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "jwtgrant: JWTGrantConfig: %s: %s",
                     jwtgrant_status_name(rc), err ? err : "no message");
        jwtgrant_free(err);
        return NULL;
    }
    size_t limit = 0;
    rc = jwtgrant_token_body_limit(ctx, &limit, &err);
    if (rc != JWTGRANT_OK) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "jwtgrant: %s: %s", jwtgrant_status_name(rc), err ? err : "no message");
        jwtgrant_free(err);
        jwtgrant_ctx_free(ctx);
        return NULL;
    }
    if (limit_out) *limit_out = c->max_body > 0 ? c->max_body : (apr_off_t)limit;
    if (!register_all(s, ctx, c->issuers, jwtgrant_register_issuer, "JWTGrantIssuer") ||
        !register_all(s, ctx, c->clients, jwtgrant_register_client, "JWTGrantClient")) {
        jwtgrant_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

/* ---- lifecycle -------------------------------------------------------- */

/* In the parent: check the configuration once, so that a mistake stops
 * httpd at startup. The context is freed before any child is forked. */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s) {
    (void)pconf; (void)plog; (void)ptemp;
    jwtgrant_conf *c = ap_get_module_config(s->module_config, &jwtgrant_module);
    apr_off_t limit = 0;
    jwtgrant_ctx *ctx = build_ctx(s, c, &limit);
    if (!ctx) return HTTP_INTERNAL_SERVER_ERROR;
    jwtgrant_ctx_free(ctx);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 "jwtgrant: libjwtgrant %s, %d issuer(s), %d client(s), body limit %" APR_OFF_T_FMT " bytes",
                 jwtgrant_version(), c->issuers->nelts, c->clients->nelts, limit);
    return OK;
}

static apr_status_t free_ctx(void *data) {
    jwtgrant_conf *c = data;
    jwtgrant_ctx_free(c->ctx);
    c->ctx = NULL;
    return APR_SUCCESS;
}

/* The library's audit events to the error log, at the matching level. Runs
 * on a worker thread or a JWKS refresh thread, with no library lock held. */
static void log_event(void *user_data, int32_t level, const char *event_json) {
    server_rec *s = user_data;
    switch (level) {
    case JWTGRANT_LOG_ERROR:
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "jwtgrant: %s", event_json);
        break;
    case JWTGRANT_LOG_WARNING:
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "jwtgrant: %s", event_json);
        break;
    default:
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "jwtgrant: %s", event_json);
        break;
    }
}

static void child_init(apr_pool_t *pchild, server_rec *s) {
    jwtgrant_conf *c = ap_get_module_config(s->module_config, &jwtgrant_module);
    c->ctx = build_ctx(s, c, &c->body_limit);
    if (!c->ctx) return;
    apr_pool_cleanup_register(pchild, c, free_ctx, apr_pool_cleanup_null);
    char *err = NULL;
    if (jwtgrant_set_log_callback(c->ctx, log_event, s, &err) != JWTGRANT_OK)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "jwtgrant: audit log: %s", err ? err : "no message");
    jwtgrant_free(err);
}

/* ---- handlers --------------------------------------------------------- */

static void no_store(request_rec *r) {
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
}

/* An RFC 6749 5.2 error the module answers itself (the request never
 * reached the library). `description` is a constant: nothing of the request
 * is echoed. */
static int oauth_error(request_rec *r, int status, const char *error, const char *description) {
    r->status = status;
    no_store(r);
    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"error\":\"%s\",\"error_description\":\"%s\"}", error, description);
    return OK;
}

typedef enum { BODY_OK, BODY_TOO_LARGE, BODY_UNREADABLE } body_result;

/* Reads the request body into a NUL-terminated buffer of at most max bytes. */
static body_result read_body(request_rec *r, apr_off_t max, char **out, apr_size_t *len_out) {
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) return BODY_UNREADABLE;
    if (r->remaining > max) {
        r->connection->keepalive = AP_CONN_CLOSE;   /* the rest is never read */
        return BODY_TOO_LARGE;
    }
    char *buf = apr_palloc(r->pool, (apr_size_t)max + 1);
    apr_size_t len = 0;
    if (ap_should_client_block(r)) {
        for (;;) {
            char chunk[8192];
            long n = ap_get_client_block(r, chunk, sizeof chunk);
            if (n < 0) return BODY_UNREADABLE;
            if (n == 0) break;
            if (len + (apr_size_t)n > (apr_size_t)max) {
                /* A chunked body over the limit: stop reading and close the
                 * connection, so a client cannot keep the thread draining. */
                r->connection->keepalive = AP_CONN_CLOSE;
                return BODY_TOO_LARGE;
            }
            memcpy(buf + len, chunk, (apr_size_t)n);
            len += (apr_size_t)n;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *len_out = len;
    return BODY_OK;
}

static int form_content_type(const request_rec *r) {
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    static const char form[] = "application/x-www-form-urlencoded";
    if (!ct || strncasecmp(ct, form, sizeof form - 1) != 0) return 0;
    char next = ct[sizeof form - 1];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

static int token_handler(request_rec *r) {
    const jwtgrant_conf *c = ap_get_module_config(ap_server_conf->module_config, &jwtgrant_module);
    r->allowed |= (AP_METHOD_BIT << M_POST);
    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        return oauth_error(r, HTTP_METHOD_NOT_ALLOWED, "invalid_request",
                           "the token endpoint accepts POST only");
    }
    if (!c->ctx)
        return oauth_error(r, HTTP_SERVICE_UNAVAILABLE, "temporarily_unavailable",
                           "the token endpoint is not configured; see the server log");
    if (!form_content_type(r))
        return oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                           "the body must be application/x-www-form-urlencoded");

    char *body;
    apr_size_t len;
    switch (read_body(r, c->body_limit, &body, &len)) {
    case BODY_TOO_LARGE:
        return oauth_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "invalid_request",
                           "the request body is too large");
    case BODY_UNREADABLE:
        return oauth_error(r, HTTP_BAD_REQUEST, "invalid_request", "the request body could not be read");
    case BODY_OK:
        break;
    }
    if (strlen(body) != len)
        return oauth_error(r, HTTP_BAD_REQUEST, "invalid_request", "the request body contains a NUL byte");

    int32_t http_status = 500;
    char *response = NULL;
    int32_t rc = jwtgrant_exchange_token(c->ctx, apr_table_get(r->headers_in, "Authorization"), body,
                                         &http_status, &response);
    /* The library's audit event (log_event) already logged the outcome. */
    (void)rc;
    r->status = http_status;
    no_store(r);
    if (http_status == HTTP_UNAUTHORIZED)
        apr_table_setn(r->headers_out, "WWW-Authenticate", "Basic realm=\"oauth2\", charset=\"UTF-8\"");
    ap_set_content_type(r, "application/json");
    if (response) {
        ap_rputs(response, r);
        jwtgrant_free(response);
    } else {
        ap_rputs("{\"error\":\"server_error\"}", r);
    }
    return OK;
}

static int jwks_handler(request_rec *r) {
    const jwtgrant_conf *c = ap_get_module_config(ap_server_conf->module_config, &jwtgrant_module);
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return oauth_error(r, HTTP_METHOD_NOT_ALLOWED, "invalid_request", "GET only");
    }
    if (!c->ctx)
        return oauth_error(r, HTTP_SERVICE_UNAVAILABLE, "temporarily_unavailable",
                           "not configured; see the server log");
    char *jwks = NULL, *err = NULL;
    int32_t rc = jwtgrant_jwks(c->ctx, &jwks, &err);
    if (rc != JWTGRANT_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "jwtgrant: jwks: %s: %s", jwtgrant_status_name(rc),
                      err ? err : "no message");
        jwtgrant_free(err);
        return oauth_error(r, HTTP_INTERNAL_SERVER_ERROR, "server_error", "the key set is unavailable");
    }
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "max-age=300");
    ap_rputs(jwks, r);
    jwtgrant_free(jwks);
    return OK;
}

static int handler(request_rec *r) {
    if (!r->handler) return DECLINED;
    if (strcmp(r->handler, "jwtgrant-token") == 0) return token_handler(r);
    if (strcmp(r->handler, "jwtgrant-jwks") == 0) return jwks_handler(r);
    return DECLINED;
}

static void register_hooks(apr_pool_t *p) {
    (void)p;
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(jwtgrant) = {
    STANDARD20_MODULE_STUFF,
    NULL,                   /* per-directory config */
    NULL,                   /* merge per-directory */
    create_server_config,
    NULL,                   /* merge per-server: one configuration for all vhosts */
    jwtgrant_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE,
};
