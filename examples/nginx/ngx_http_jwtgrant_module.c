/*
 * ngx_http_jwtgrant_module.c - the JWT Bearer grant (RFC 7523) token
 * endpoint and token-protected locations in nginx, over libjwtgrant.
 *
 *   load_module /path/to/ngx_http_jwtgrant_module.so;
 *   worker_processes 1;                        # or a shared store, see below
 *   http {
 *       jwtgrant_config /etc/jwtgrant/server.json;   # jwtgrant_ctx_new; optional
 *       jwtgrant_issuer /etc/jwtgrant/idp.json;      # jwtgrant_register_issuer; repeatable
 *       jwtgrant_client /etc/jwtgrant/app.json;      # jwtgrant_register_client; repeatable
 *       jwtgrant_max_body 64k;                       # largest token request body
 *       jwtgrant_thread_pool default;                # where exchanges run
 *       server {
 *           location = /oauth2/token { jwtgrant_token; }
 *           location = /oauth2/jwks  { jwtgrant_jwks; }
 *           location /api/ {
 *               jwtgrant_protect on;                 # access tokens we issued
 *               proxy_set_header X-Sub $jwtgrant_sub;
 *               proxy_pass http://backend;
 *           }
 *       }
 *   }
 *
 * Each worker process owns one jwtgrant_ctx, built in init_process from the
 * files read at configuration time and freed in exit_process (after nginx
 * has stopped its thread pools). The master builds one as well, at
 * configuration time, only to check the files: a bad issuer file, an unknown
 * field or a bad store fails `nginx -t` (and a reload) with the library's
 * message. It is freed before any worker is forked.
 *
 * Exchanges run in an nginx thread pool (ngx_thread_task_post): an exchange
 * may wait on a JWKS endpoint (up to its timeouts) or on the store, and the
 * event loop never waits with it. JWKS documents and access-token checks need
 * no I/O and run on the event loop.
 *
 * Audit: the library's events (token requests, assertion verifications,
 * JWKS fetches; jwtgrant_set_log_callback) go to the error log as
 * "jwtgrant: {...event JSON...}" at info, warn or error.
 *
 * Several workers must share the replay store: with the memory store and
 * worker_processes above 1, the configuration is refused (an assertion
 * replayed to another worker would be accepted again). A shared store also
 * holds the access-token signing key the library generates once when the
 * configuration gives none (access_token.signing_key), so every worker signs
 * and verifies with the same key, across reloads too.
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#if !(NGX_THREADS)
#error "ngx_http_jwtgrant_module needs nginx built --with-threads"
#endif
#include <ngx_thread_pool.h>

#include <jansson.h>
#include <jwtgrant.h>

#include <pthread.h>
#include <sys/syscall.h>

#define JWTGRANT_MAX_FILE (1024 * 1024)
#define JWTGRANT_DEFAULT_MAX_BODY (64 * 1024)
/* A pending exchange keeps a timer so that a worker shutting down
 * gracefully (reload, SIGQUIT) waits for it instead of exiting under it. */
#define JWTGRANT_WAIT_TICK 5000

typedef struct {
    ngx_flag_t          enabled;        /* some jwtgrant directive is used */
    ngx_str_t           config_file;
    ngx_str_t           config_json;    /* NUL-terminated; empty: defaults */
    ngx_array_t        *issuers;        /* jwtgrant_doc_t */
    ngx_array_t        *clients;        /* jwtgrant_doc_t */
    size_t              max_body;
    ngx_str_t           pool_name;
    ngx_thread_pool_t  *pool;
    ngx_flag_t          shared_store;   /* "store" is not "memory" */
    ngx_flag_t          signing_key;    /* access_token.signing_key given */
} ngx_http_jwtgrant_main_conf_t;

typedef struct {
    ngx_str_t           file;
    ngx_str_t           json;           /* NUL-terminated */
} ngx_http_jwtgrant_doc_t;

typedef struct {
    ngx_flag_t          protect;
    ngx_flag_t          token;          /* this location is the token endpoint */
    ngx_flag_t          jwks;           /* this location serves the JWKS */
} ngx_http_jwtgrant_loc_conf_t;

/* What the thread of an exchange reads and writes. */
typedef struct {
    jwtgrant_ctx       *ctx;
    const char         *authorization;  /* NULL when absent */
    const char         *body;
    int32_t             rc;
    int32_t             http_status;
    char               *response;       /* library memory */
} ngx_http_jwtgrant_exchange_t;

/* Per request: the exchange in flight, or the claims of a verified token. */
typedef struct {
    ngx_thread_task_t  *task;
    ngx_event_t         wait;
    unsigned            done:1;
    unsigned            verified:1;
    unsigned            own_response:1; /* the module wrote this response */
    unsigned            replace_body:1; /* nginx's own 413 page, replaced */
    ngx_str_t           sub;
    ngx_str_t           client_id;
    ngx_str_t           scope;
    ngx_str_t           jti;
} ngx_http_jwtgrant_req_t;

static jwtgrant_ctx *ngx_http_jwtgrant_worker_ctx;   /* one per worker */

/* The threads of the pool that ran an exchange (Linux thread ids). nginx's
 * pool threads are detached and still run their thread-local destructors
 * (OpenSSL's, the Swift runtime's) after nginx has stopped waiting for them;
 * a process exiting meanwhile runs OpenSSL's atexit cleanup against them
 * (seen as a rare "double free" at a worker's exit). exit_process waits
 * until they are gone. */
#define JWTGRANT_MAX_TIDS 1024
static pthread_mutex_t  ngx_http_jwtgrant_tids_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t            ngx_http_jwtgrant_tids[JWTGRANT_MAX_TIDS];
static ngx_uint_t       ngx_http_jwtgrant_ntids;
static __thread int     ngx_http_jwtgrant_tid_known;

static ngx_int_t ngx_http_jwtgrant_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_jwtgrant_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_jwtgrant_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_jwtgrant_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_jwtgrant_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_jwtgrant_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static char *ngx_http_jwtgrant_set_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_jwtgrant_add_doc(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_jwtgrant_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_jwtgrant_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_jwtgrant_protect(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_jwtgrant_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_jwtgrant_init_process(ngx_cycle_t *cycle);
static void ngx_http_jwtgrant_exit_process(ngx_cycle_t *cycle);

static ngx_command_t ngx_http_jwtgrant_commands[] = {

    { ngx_string("jwtgrant_config"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_jwtgrant_set_config,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgrant_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_jwtgrant_add_doc,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_jwtgrant_main_conf_t, issuers),
      NULL },

    { ngx_string("jwtgrant_client"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_jwtgrant_add_doc,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_jwtgrant_main_conf_t, clients),
      NULL },

    { ngx_string("jwtgrant_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_jwtgrant_main_conf_t, max_body),
      NULL },

    { ngx_string("jwtgrant_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_jwtgrant_main_conf_t, pool_name),
      NULL },

    { ngx_string("jwtgrant_token"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_jwtgrant_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgrant_jwks"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_jwtgrant_jwks,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgrant_protect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_jwtgrant_protect,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgrant_loc_conf_t, protect),
      NULL },

      ngx_null_command
};

static ngx_http_module_t ngx_http_jwtgrant_module_ctx = {
    ngx_http_jwtgrant_preconfiguration,    /* preconfiguration */
    ngx_http_jwtgrant_postconfiguration,   /* postconfiguration */
    ngx_http_jwtgrant_create_main_conf,    /* create main configuration */
    ngx_http_jwtgrant_init_main_conf,      /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    ngx_http_jwtgrant_create_loc_conf,     /* create location configuration */
    ngx_http_jwtgrant_merge_loc_conf       /* merge location configuration */
};

ngx_module_t ngx_http_jwtgrant_module = {
    NGX_MODULE_V1,
    &ngx_http_jwtgrant_module_ctx,         /* module context */
    ngx_http_jwtgrant_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_jwtgrant_init_module,         /* init module */
    ngx_http_jwtgrant_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_jwtgrant_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ---- configuration ---------------------------------------------------- */

static void *
ngx_http_jwtgrant_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_jwtgrant_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgrant_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->issuers = ngx_array_create(cf->pool, 2, sizeof(ngx_http_jwtgrant_doc_t));
    mcf->clients = ngx_array_create(cf->pool, 2, sizeof(ngx_http_jwtgrant_doc_t));
    if (mcf->issuers == NULL || mcf->clients == NULL) {
        return NULL;
    }

    mcf->max_body = NGX_CONF_UNSET_SIZE;
    return mcf;
}


/* The whole file `name` (relative to the nginx prefix) as a NUL-terminated
 * string from the configuration pool. */
static char *
ngx_http_jwtgrant_read_file(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *path,
    ngx_str_t *out)
{
    u_char           *buf;
    ssize_t           n;
    ngx_file_t        file;
    ngx_file_info_t   fi;
    char             *rv;

    *path = *name;
    if (ngx_conf_full_name(cf->cycle, path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = *path;
    file.log = cf->log;
    file.fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno, ngx_open_file_n " \"%V\" failed", path);
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;
    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno, ngx_fd_info_n " \"%V\" failed", path);
        goto done;
    }
    if (ngx_file_size(&fi) > JWTGRANT_MAX_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" is over %d bytes", path, JWTGRANT_MAX_FILE);
        goto done;
    }

    buf = ngx_pnalloc(cf->pool, (size_t) ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        goto done;
    }
    n = ngx_read_file(&file, buf, (size_t) ngx_file_size(&fi), 0);
    if (n == NGX_ERROR || n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "cannot read \"%V\"", path);
        goto done;
    }
    buf[n] = '\0';
    if (ngx_strlen(buf) != (size_t) n) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" contains a NUL byte", path);
        goto done;
    }

    out->data = buf;
    out->len = (size_t) n;
    rv = NGX_CONF_OK;

done:
    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno, ngx_close_file_n " \"%V\" failed", path);
    }
    return rv;
}


static char *
ngx_http_jwtgrant_set_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgrant_main_conf_t  *mcf = conf;
    ngx_str_t                      *value = cf->args->elts;

    if (mcf->config_file.data) {
        return "is duplicate";
    }
    mcf->enabled = 1;
    return ngx_http_jwtgrant_read_file(cf, &value[1], &mcf->config_file, &mcf->config_json);
}


static char *
ngx_http_jwtgrant_add_doc(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgrant_main_conf_t  *mcf = conf;
    ngx_str_t                      *value = cf->args->elts;
    ngx_array_t                    *docs;
    ngx_http_jwtgrant_doc_t        *doc;
    ngx_uint_t                      i;
    char                           *rv;

    docs = *(ngx_array_t **) ((char *) mcf + cmd->offset);
    mcf->enabled = 1;

    for (i = 1; i < cf->args->nelts; i++) {
        doc = ngx_array_push(docs);
        if (doc == NULL) {
            return NGX_CONF_ERROR;
        }
        rv = ngx_http_jwtgrant_read_file(cf, &value[i], &doc->file, &doc->json);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }
    return NGX_CONF_OK;
}


static char *
ngx_http_jwtgrant_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_jwtgrant_main_conf_t  *mcf = conf;
    json_t                         *root, *store, *at;

    ngx_conf_init_size_value(mcf->max_body, JWTGRANT_DEFAULT_MAX_BODY);
    if (mcf->max_body < 1024 || mcf->max_body > 16 * 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "jwtgrant_max_body must be from 1k to 16m");
        return NGX_CONF_ERROR;
    }

    if (!mcf->enabled) {
        return NGX_CONF_OK;
    }

    if (mcf->pool_name.data == NULL) {
        ngx_str_set(&mcf->pool_name, "default");
    }
    mcf->pool = ngx_thread_pool_add(cf, &mcf->pool_name);
    if (mcf->pool == NULL) {
        return NGX_CONF_ERROR;
    }

    /* The two facts the worker rule needs. A document the library refuses
     * is reported by the check in postconfiguration, with its message. */
    if (mcf->config_json.len) {
        root = json_loads((const char *) mcf->config_json.data, 0, NULL);
        if (root) {
            store = json_object_get(root, "store");
            mcf->shared_store = json_is_string(store)
                                && ngx_strcmp(json_string_value(store), "memory") != 0;
            at = json_object_get(root, "access_token");
            mcf->signing_key = json_is_object(at)
                               && json_is_string(json_object_get(at, "signing_key"));
            json_decref(root);
        }
    }
    return NGX_CONF_OK;
}


static void *
ngx_http_jwtgrant_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_jwtgrant_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgrant_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }
    lcf->protect = NGX_CONF_UNSET;
    return lcf;
}


static char *
ngx_http_jwtgrant_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_jwtgrant_loc_conf_t   *prev = parent;
    ngx_http_jwtgrant_loc_conf_t   *conf = child;
    ngx_http_jwtgrant_main_conf_t  *mcf;
    ngx_http_core_loc_conf_t       *clcf;

    ngx_conf_merge_value(conf->protect, prev->protect, 0);

    if (conf->token) {
        /* nginx itself stops reading a token request over the limit, with a
         * Content-Length or chunked, before the body reaches the module. */
        mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_jwtgrant_module);
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        if (clcf->client_max_body_size == 0
            || clcf->client_max_body_size > (off_t) mcf->max_body)
        {
            clcf->client_max_body_size = (off_t) mcf->max_body;
        }
    }
    return NGX_CONF_OK;
}


static ngx_int_t ngx_http_jwtgrant_token_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_jwtgrant_jwks_handler(ngx_http_request_t *r);


/* Makes `handler` the location's content handler (jwtgrant_token, jwtgrant_jwks). */
static char *
ngx_http_jwtgrant_set_content_handler(ngx_conf_t *cf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_jwtgrant_main_conf_t  *mcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    if (clcf->handler) {
        return "is duplicate: the location already has a content handler";
    }
    clcf->handler = handler;
    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_jwtgrant_module);
    mcf->enabled = 1;
    return NGX_CONF_OK;
}


static char *
ngx_http_jwtgrant_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgrant_loc_conf_t  *lcf = conf;
    char                          *rv;

    rv = ngx_http_jwtgrant_set_content_handler(cf, ngx_http_jwtgrant_token_handler);
    if (rv == NGX_CONF_OK) {
        lcf->token = 1;
    }
    return rv;
}


static char *
ngx_http_jwtgrant_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgrant_loc_conf_t  *lcf = conf;
    char                          *rv;

    rv = ngx_http_jwtgrant_set_content_handler(cf, ngx_http_jwtgrant_jwks_handler);
    if (rv == NGX_CONF_OK) {
        lcf->jwks = 1;
    }
    return rv;
}


static char *
ngx_http_jwtgrant_protect(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgrant_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_jwtgrant_module);
    mcf->enabled = 1;
    return ngx_conf_set_flag_slot(cf, cmd, conf);
}


typedef int32_t (*ngx_http_jwtgrant_register_pt)(jwtgrant_ctx *, const char *, char **);

/* Registers every document; on failure logs "DIRECTIVE "FILE": STATUS: message"
 * (the library's message names the field, never a secret). */
static ngx_int_t
ngx_http_jwtgrant_register_all(ngx_log_t *log, jwtgrant_ctx *ctx, ngx_array_t *docs,
    ngx_http_jwtgrant_register_pt fn, const char *directive)
{
    ngx_http_jwtgrant_doc_t  *doc = docs->elts;
    ngx_uint_t                i;
    int32_t                   rc;
    char                     *err;

    for (i = 0; i < docs->nelts; i++) {
        err = NULL;
        rc = fn(ctx, (const char *) doc[i].json.data, &err);
        if (rc != JWTGRANT_OK) {
            ngx_log_error(NGX_LOG_EMERG, log, 0, "%s \"%V\": %s: %s", directive, &doc[i].file,
                          jwtgrant_status_name(rc), err ? err : "no message");
            jwtgrant_free(err);
            return NGX_ERROR;
        }
    }
    return NGX_OK;
}


/* A context with every configured issuer and client, or NULL (logged). */
static jwtgrant_ctx *
ngx_http_jwtgrant_build(ngx_log_t *log, ngx_http_jwtgrant_main_conf_t *mcf)
{
    jwtgrant_ctx  *ctx = NULL;
    char          *err = NULL;
    int32_t        rc;

    rc = jwtgrant_ctx_new(&ctx, mcf->config_json.len ? (const char *) mcf->config_json.data : NULL,
                          &err);
    if (rc != JWTGRANT_OK) {
        if (mcf->config_file.len) {
            ngx_log_error(NGX_LOG_EMERG, log, 0, "jwtgrant_config \"%V\": %s: %s", &mcf->config_file,
                          jwtgrant_status_name(rc), err ? err : "no message");
        } else {
            ngx_log_error(NGX_LOG_EMERG, log, 0, "jwtgrant: default configuration: %s: %s",
                          jwtgrant_status_name(rc), err ? err : "no message");
        }
        jwtgrant_free(err);
        return NULL;
    }
    if (ngx_http_jwtgrant_register_all(log, ctx, mcf->issuers, jwtgrant_register_issuer,
                                       "jwtgrant_issuer") != NGX_OK
        || ngx_http_jwtgrant_register_all(log, ctx, mcf->clients, jwtgrant_register_client,
                                          "jwtgrant_client") != NGX_OK)
    {
        jwtgrant_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}


/* The worker rule: several workers need a shared store. The store also
 * holds the access-token signing key the library generates when the
 * configuration gives none, so every worker signs and verifies with one key. */
static ngx_int_t
ngx_http_jwtgrant_check_workers(ngx_log_t *log, ngx_cycle_t *cycle,
    ngx_http_jwtgrant_main_conf_t *mcf)
{
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);
    if (ccf == NULL || ccf->master == 0 || ccf->worker_processes == NGX_CONF_UNSET
        || ccf->worker_processes <= 1)
    {
        return NGX_OK;
    }
    if (!mcf->shared_store) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "jwtgrant: worker_processes is %i but the store is \"memory\": each worker "
                      "would keep its own replay cache, and an assertion replayed to another worker "
                      "would be accepted again; use worker_processes 1, or a shared store "
                      "(\"store\" in jwtgrant_config)", ccf->worker_processes);
        return NGX_ERROR;
    }
    return NGX_OK;
}


static ngx_http_jwtgrant_main_conf_t *
ngx_http_jwtgrant_cycle_conf(ngx_cycle_t *cycle)
{
    if (cycle->conf_ctx == NULL || cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NULL;
    }
    return ngx_http_cycle_get_module_main_conf(cycle, ngx_http_jwtgrant_module);
}


/* ---- variables -------------------------------------------------------- */

static ngx_int_t
ngx_http_jwtgrant_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_jwtgrant_req_t  *ctx;
    ngx_str_t                *s;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_jwtgrant_module);
    if (ctx == NULL || !ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }
    s = (ngx_str_t *) ((char *) ctx + data);
    if (s->data == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }
    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return NGX_OK;
}


static ngx_http_variable_t ngx_http_jwtgrant_vars[] = {
    { ngx_string("jwtgrant_sub"), NULL, ngx_http_jwtgrant_variable,
      offsetof(ngx_http_jwtgrant_req_t, sub), 0, 0 },
    { ngx_string("jwtgrant_client_id"), NULL, ngx_http_jwtgrant_variable,
      offsetof(ngx_http_jwtgrant_req_t, client_id), 0, 0 },
    { ngx_string("jwtgrant_scope"), NULL, ngx_http_jwtgrant_variable,
      offsetof(ngx_http_jwtgrant_req_t, scope), 0, 0 },
    { ngx_string("jwtgrant_jti"), NULL, ngx_http_jwtgrant_variable,
      offsetof(ngx_http_jwtgrant_req_t, jti), 0, 0 },
      ngx_http_null_variable
};


static ngx_int_t
ngx_http_jwtgrant_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_jwtgrant_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }
        var->get_handler = v->get_handler;
        var->data = v->data;
    }
    return NGX_OK;
}


/* ---- responses -------------------------------------------------------- */

static ngx_int_t
ngx_http_jwtgrant_add_header(ngx_http_request_t *r, const char *name, const char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);
    return NGX_OK;
}


/* Sends `body` (JSON, in r->pool or static) with `status`; token endpoint
 * answers (no_store) carry Cache-Control: no-store and Pragma: no-cache. */
static ngx_int_t
ngx_http_jwtgrant_send(ngx_http_request_t *r, ngx_uint_t status, u_char *body, size_t len,
    ngx_uint_t no_store)
{
    ngx_buf_t                *b;
    ngx_chain_t               out;
    ngx_int_t                 rc;
    ngx_http_jwtgrant_req_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgrant_module);
    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_jwtgrant_req_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_http_set_ctx(r, ctx, ngx_http_jwtgrant_module);
    }
    ctx->own_response = 1;

    if (no_store
        && (ngx_http_jwtgrant_add_header(r, "Cache-Control", "no-store") != NGX_OK
            || ngx_http_jwtgrant_add_header(r, "Pragma", "no-cache") != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->headers_out.status = status;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = (off_t) len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }
    b->pos = body;
    b->last = body + len;
    b->memory = len ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    out.buf = b;
    out.next = NULL;
    return ngx_http_output_filter(r, &out);
}


/* An RFC 6749 5.2 answer the module gives itself (the request never reached
 * the library). The description is a constant: nothing of the request is
 * echoed. */
static ngx_int_t
ngx_http_jwtgrant_oauth_error(ngx_http_request_t *r, ngx_uint_t status, const char *error,
    const char *description)
{
    u_char  *p, *last;
    size_t   len;

    len = sizeof("{\"error\":\"\",\"error_description\":\"\"}") - 1
          + ngx_strlen(error) + ngx_strlen(description);
    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    last = ngx_sprintf(p, "{\"error\":\"%s\",\"error_description\":\"%s\"}", error, description);
    return ngx_http_jwtgrant_send(r, status, p, (size_t) (last - p), 1);
}


/* ---- nginx's own 413 at the token endpoint, as RFC 6749 JSON ---------- */

/* nginx refuses a body over client_max_body_size (which a jwtgrant_token
 * location lowers to jwtgrant_max_body) itself, before the handler runs, with
 * an HTML page. At the token endpoint these filters send the same JSON and
 * headers as the module's other refusals instead. */

static ngx_http_output_header_filter_pt  ngx_http_jwtgrant_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_jwtgrant_next_body_filter;

static u_char ngx_http_jwtgrant_too_large[] =
    "{\"error\":\"invalid_request\",\"error_description\":\"the request body is too large\"}";


static ngx_int_t
ngx_http_jwtgrant_header_filter(ngx_http_request_t *r)
{
    ngx_http_jwtgrant_loc_conf_t  *lcf;
    ngx_http_jwtgrant_req_t       *ctx;

    if (r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE || r != r->main) {
        return ngx_http_jwtgrant_next_header_filter(r);
    }
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_jwtgrant_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgrant_module);
    if (!lcf->token || (ctx && ctx->own_response)) {
        return ngx_http_jwtgrant_next_header_filter(r);
    }
    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_jwtgrant_req_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }
        ngx_http_set_ctx(r, ctx, ngx_http_jwtgrant_module);
    }
    ctx->replace_body = 1;
    if (ngx_http_jwtgrant_add_header(r, "Cache-Control", "no-store") != NGX_OK
        || ngx_http_jwtgrant_add_header(r, "Pragma", "no-cache") != NGX_OK)
    {
        return NGX_ERROR;
    }
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;
    ngx_http_clear_content_length(r);
    r->headers_out.content_length_n = (off_t) (sizeof(ngx_http_jwtgrant_too_large) - 1);
    return ngx_http_jwtgrant_next_header_filter(r);
}


static ngx_int_t
ngx_http_jwtgrant_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_jwtgrant_req_t  *ctx;
    ngx_chain_t              *cl, out;
    ngx_buf_t                *b;
    ngx_uint_t                last = 0;

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgrant_module);
    if (ctx == NULL || !ctx->replace_body) {
        return ngx_http_jwtgrant_next_body_filter(r, in);
    }
    for (cl = in; cl; cl = cl->next) {         /* nginx's page: consumed, not sent */
        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            last = 1;
        }
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }
    if (!last) {
        return NGX_OK;
    }
    ctx->replace_body = 0;
    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }
    b->pos = ngx_http_jwtgrant_too_large;
    b->last = b->pos + sizeof(ngx_http_jwtgrant_too_large) - 1;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;
    out.buf = b;
    out.next = NULL;
    return ngx_http_jwtgrant_next_body_filter(r, &out);
}


/* ---- the token endpoint ----------------------------------------------- */

static ngx_int_t
ngx_http_jwtgrant_form_content_type(ngx_http_request_t *r)
{
    static const char  form[] = "application/x-www-form-urlencoded";
    ngx_table_elt_t   *ct = r->headers_in.content_type;
    u_char             next;

    if (ct == NULL || ct->value.len < sizeof(form) - 1
        || ngx_strncasecmp(ct->value.data, (u_char *) form, sizeof(form) - 1) != 0)
    {
        return 0;
    }
    if (ct->value.len == sizeof(form) - 1) {
        return 1;
    }
    next = ct->value.data[sizeof(form) - 1];
    return next == ';' || next == ' ' || next == '\t';
}


/* Runs in a thread of the pool: the exchange, which may wait on a JWKS
 * endpoint or the store. Touches nothing of nginx. */
static void
ngx_http_jwtgrant_exchange_thread(void *data, ngx_log_t *log)
{
    ngx_http_jwtgrant_exchange_t  *x = data;

    (void) log;
    if (!ngx_http_jwtgrant_tid_known) {
        ngx_http_jwtgrant_tid_known = 1;
        pthread_mutex_lock(&ngx_http_jwtgrant_tids_lock);
        if (ngx_http_jwtgrant_ntids < JWTGRANT_MAX_TIDS) {
            ngx_http_jwtgrant_tids[ngx_http_jwtgrant_ntids++] = (pid_t) syscall(SYS_gettid);
        }
        pthread_mutex_unlock(&ngx_http_jwtgrant_tids_lock);
    }
    x->http_status = 500;
    x->response = NULL;
    x->rc = jwtgrant_exchange_token(x->ctx, x->authorization, x->body, &x->http_status,
                                    &x->response);
}


/* The request's write handler while the exchange runs: answers once the
 * result is in (a spurious write event before that does nothing). */
static void
ngx_http_jwtgrant_exchange_respond(ngx_http_request_t *r)
{
    ngx_http_jwtgrant_req_t       *ctx;
    ngx_http_jwtgrant_exchange_t  *x;
    u_char                        *body;
    size_t                         len;
    ngx_int_t                      rc;

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgrant_module);
    if (ctx == NULL || !ctx->done) {
        return;
    }
    r->write_event_handler = ngx_http_request_empty_handler;
    x = ctx->task->ctx;

    /* The library's audit event (ngx_http_jwtgrant_log_event) already
     * logged the outcome, with its reason. */
    if (x->response == NULL) {
        ngx_http_finalize_request(r, ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "server_error", "the token endpoint failed"));
        return;
    }
    len = ngx_strlen(x->response);
    body = ngx_pnalloc(r->pool, len ? len : 1);
    if (body == NULL) {
        jwtgrant_free(x->response);
        x->response = NULL;
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    ngx_memcpy(body, x->response, len);
    jwtgrant_free(x->response);
    x->response = NULL;

    if (x->http_status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_jwtgrant_add_header(r, "WWW-Authenticate",
                                        "Basic realm=\"oauth2\", charset=\"UTF-8\"") != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    rc = ngx_http_jwtgrant_send(r, (ngx_uint_t) (x->http_status >= 200 && x->http_status < 600
                                                 ? x->http_status : 500),
                                body, len, 1);
    ngx_http_finalize_request(r, rc);
}


/* On the event loop, once the thread is done. */
static void
ngx_http_jwtgrant_exchange_done(ngx_event_t *ev)
{
    ngx_http_request_t       *r = ev->data;
    ngx_connection_t         *c = r->connection;
    ngx_http_jwtgrant_req_t  *ctx;

    ngx_http_set_log_request(c->log, r);
    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgrant_module);
    ctx->done = 1;
    if (ctx->wait.timer_set) {
        ngx_del_timer(&ctx->wait);
    }
    r->main->blocked--;
    r->aio = 0;
    /* Our respond handler, or nginx's finalizer if the request was
     * terminated meanwhile. */
    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_jwtgrant_wait_tick(ngx_event_t *ev)
{
    ngx_add_timer(ev, JWTGRANT_WAIT_TICK);
}


/* Gives the library's answer a response buffer; frees it on an early end. */
static void
ngx_http_jwtgrant_exchange_cleanup(void *data)
{
    ngx_http_jwtgrant_exchange_t  *x = data;

    jwtgrant_free(x->response);
    x->response = NULL;
}


static void
ngx_http_jwtgrant_body_handler(ngx_http_request_t *r)
{
    ngx_http_jwtgrant_main_conf_t  *mcf;
    ngx_http_jwtgrant_req_t        *ctx;
    ngx_http_jwtgrant_exchange_t   *x;
    ngx_thread_task_t              *task;
    ngx_pool_cleanup_t             *cln;
    ngx_chain_t                    *cl;
    ngx_table_elt_t                *auth;
    u_char                         *body, *p;
    size_t                          len, n;
    ssize_t                         got;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_jwtgrant_module);

    if (r->connection->error) {
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        return;
    }

    /* The body, from memory and (for a larger one) nginx's temp file. */
    len = 0;
    for (cl = r->request_body ? r->request_body->bufs : NULL; cl; cl = cl->next) {
        len += cl->buf->in_file ? (size_t) (cl->buf->file_last - cl->buf->file_pos)
                                : (size_t) (cl->buf->last - cl->buf->pos);
        if (len > mcf->max_body) {
            r->keepalive = 0;
            ngx_http_finalize_request(r, ngx_http_jwtgrant_oauth_error(r,
                                      NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "invalid_request",
                                      "the request body is too large"));
            return;
        }
    }
    body = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    p = body;
    for (cl = r->request_body ? r->request_body->bufs : NULL; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            n = (size_t) (cl->buf->file_last - cl->buf->file_pos);
            got = ngx_read_file(cl->buf->file, p, n, cl->buf->file_pos);
            if (got != (ssize_t) n) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }
        } else {
            n = (size_t) (cl->buf->last - cl->buf->pos);
            ngx_memcpy(p, cl->buf->pos, n);
        }
        p += n;
    }
    *p = '\0';
    if (ngx_strlen(body) != len) {
        ngx_http_finalize_request(r, ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_request", "the request body contains a NUL byte"));
        return;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_jwtgrant_req_t));
    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_jwtgrant_exchange_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (ctx == NULL || task == NULL || cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    x = task->ctx;
    x->ctx = ngx_http_jwtgrant_worker_ctx;
    x->body = (const char *) body;
    x->authorization = NULL;
    auth = r->headers_in.authorization;
    if (auth) {
        p = ngx_pnalloc(r->pool, auth->value.len + 1);
        if (p == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        ngx_memcpy(p, auth->value.data, auth->value.len);
        p[auth->value.len] = '\0';
        x->authorization = (const char *) p;
    }
    cln->handler = ngx_http_jwtgrant_exchange_cleanup;
    cln->data = x;

    ctx->task = task;
    ngx_http_set_ctx(r, ctx, ngx_http_jwtgrant_module);

    task->handler = ngx_http_jwtgrant_exchange_thread;
    task->event.data = r;
    task->event.handler = ngx_http_jwtgrant_exchange_done;

    if (ngx_thread_task_post(mcf->pool, task) != NGX_OK) {
        ngx_http_finalize_request(r, ngx_http_jwtgrant_oauth_error(r,
                                  NGX_HTTP_SERVICE_UNAVAILABLE, "temporarily_unavailable",
                                  "the token endpoint is overloaded"));
        return;
    }

    r->main->blocked++;
    r->aio = 1;
    r->write_event_handler = ngx_http_jwtgrant_exchange_respond;

    ctx->wait.handler = ngx_http_jwtgrant_wait_tick;
    ctx->wait.data = r;
    ctx->wait.log = r->connection->log;
    ngx_add_timer(&ctx->wait, JWTGRANT_WAIT_TICK);
    /* The reference taken by ngx_http_read_client_request_body is released
     * by the finalize in ngx_http_jwtgrant_exchange_respond. */
}


static ngx_int_t
ngx_http_jwtgrant_token_handler(ngx_http_request_t *r)
{
    ngx_http_jwtgrant_main_conf_t  *mcf;
    ngx_int_t                       rc;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_jwtgrant_module);

    if (!(r->method & NGX_HTTP_POST)) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (ngx_http_jwtgrant_add_header(r, "Allow", "POST") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_NOT_ALLOWED, "invalid_request",
                                             "the token endpoint accepts POST only");
    }
    if (ngx_http_jwtgrant_worker_ctx == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                             "temporarily_unavailable",
                                             "the token endpoint is not configured; see the error log");
    }
    if (!ngx_http_jwtgrant_form_content_type(r)) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "invalid_request",
                                             "the body must be application/x-www-form-urlencoded");
    }
    if (r->headers_in.content_length_n > (off_t) mcf->max_body) {
        /* Unread: the connection is closed after the answer. */
        r->keepalive = 0;
        r->lingering_close = 1;
        return ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                             "invalid_request", "the request body is too large");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_jwtgrant_body_handler);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }
    return NGX_DONE;
}


/* ---- the JWKS of our access tokens ------------------------------------ */

static ngx_int_t
ngx_http_jwtgrant_jwks_handler(ngx_http_request_t *r)
{
    char       *jwks = NULL, *err = NULL;
    int32_t     rc;
    u_char     *body;
    size_t      len;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (ngx_http_jwtgrant_add_header(r, "Allow", "GET, HEAD") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_NOT_ALLOWED, "invalid_request",
                                             "GET only");
    }
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ngx_http_jwtgrant_worker_ctx == NULL) {
        return ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                             "temporarily_unavailable",
                                             "not configured; see the error log");
    }
    rc = jwtgrant_jwks(ngx_http_jwtgrant_worker_ctx, &jwks, &err);
    if (rc != JWTGRANT_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "jwtgrant: jwks: %s: %s",
                      jwtgrant_status_name(rc), err ? err : "no message");
        jwtgrant_free(err);
        return ngx_http_jwtgrant_oauth_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                                             "the key set is unavailable");
    }
    len = ngx_strlen(jwks);
    body = ngx_pnalloc(r->pool, len ? len : 1);
    if (body == NULL) {
        jwtgrant_free(jwks);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_memcpy(body, jwks, len);
    jwtgrant_free(jwks);
    if (ngx_http_jwtgrant_add_header(r, "Cache-Control", "max-age=300") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return ngx_http_jwtgrant_send(r, NGX_HTTP_OK, body, len, 0);
}


/* ---- protected locations (access phase) ------------------------------- */

static ngx_int_t
ngx_http_jwtgrant_claim(ngx_http_request_t *r, json_t *claims, const char *name, ngx_str_t *out)
{
    json_t      *v = json_object_get(claims, name);
    const char  *s;
    size_t       len;

    if (!json_is_string(v)) {
        return NGX_OK;              /* absent: the variable is not found */
    }
    s = json_string_value(v);
    len = json_string_length(v);
    out->data = ngx_pnalloc(r->pool, len ? len : 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(out->data, s, len);
    out->len = len;
    return NGX_OK;
}


static ngx_int_t
ngx_http_jwtgrant_unauthorized(ngx_http_request_t *r, const char *description)
{
    u_char  *value, *last;
    size_t   len;

    len = sizeof("Bearer error=\"invalid_token\", error_description=\"\"") + ngx_strlen(description);
    value = ngx_pnalloc(r->pool, len);
    if (value == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    last = ngx_sprintf(value, "Bearer error=\"invalid_token\", error_description=\"%s\"%Z",
                       description);
    (void) last;
    if (ngx_http_jwtgrant_add_header(r, "WWW-Authenticate", (const char *) value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return NGX_HTTP_UNAUTHORIZED;
}


static ngx_int_t
ngx_http_jwtgrant_access_handler(ngx_http_request_t *r)
{
    ngx_http_jwtgrant_loc_conf_t  *lcf;
    ngx_http_jwtgrant_req_t       *ctx;
    ngx_table_elt_t               *auth;
    u_char                        *token, *p, *end;
    json_t                        *claims = NULL;
    char                          *err = NULL;
    int32_t                        rc;
    ngx_int_t                      ok;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_jwtgrant_module);
    if (!lcf->protect || lcf->token || lcf->jwks) {
        /* The token endpoint authenticates clients its own way, and the
         * keys are public: neither inherits jwtgrant_protect. */
        return NGX_DECLINED;
    }
    ctx = ngx_http_get_module_ctx(r->main, ngx_http_jwtgrant_module);
    if (ctx && ctx->verified) {
        return NGX_OK;              /* a subrequest, or the phase run again */
    }
    if (ngx_http_jwtgrant_worker_ctx == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    auth = r->headers_in.authorization;
    if (auth == NULL || auth->value.len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(auth->value.data, (u_char *) "Bearer ", sizeof("Bearer ") - 1) != 0)
    {
        return ngx_http_jwtgrant_unauthorized(r, "an access token is required");
    }
    p = auth->value.data + sizeof("Bearer ") - 1;
    end = auth->value.data + auth->value.len;
    while (p < end && *p == ' ') {
        p++;
    }
    while (end > p && end[-1] == ' ') {
        end--;
    }
    if (p == end) {
        return ngx_http_jwtgrant_unauthorized(r, "an access token is required");
    }
    token = ngx_pnalloc(r->pool, (size_t) (end - p) + 1);
    if (token == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_memcpy(token, p, (size_t) (end - p));
    token[end - p] = '\0';

    rc = jwtgrant_verify_access_token_json(ngx_http_jwtgrant_worker_ctx, (const char *) token,
                                           &claims, &err);
    if (rc != JWTGRANT_OK) {
        /* The library's message names the rule, never the token. */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "jwtgrant: access token refused: %s: %s",
                      jwtgrant_status_name(rc), err ? err : "no message");
        jwtgrant_free(err);
        return ngx_http_jwtgrant_unauthorized(r, "the access token is invalid or expired");
    }

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_jwtgrant_req_t));
        if (ctx == NULL) {
            json_decref(claims);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_http_set_ctx(r->main, ctx, ngx_http_jwtgrant_module);
    }
    ok = ngx_http_jwtgrant_claim(r, claims, "sub", &ctx->sub) == NGX_OK
         && ngx_http_jwtgrant_claim(r, claims, "client_id", &ctx->client_id) == NGX_OK
         && ngx_http_jwtgrant_claim(r, claims, "scope", &ctx->scope) == NGX_OK
         && ngx_http_jwtgrant_claim(r, claims, "jti", &ctx->jti) == NGX_OK;
    json_decref(claims);
    if (!ok) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ctx->verified = 1;
    return NGX_OK;
}


/* ---- lifecycle -------------------------------------------------------- */

static ngx_int_t
ngx_http_jwtgrant_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_jwtgrant_main_conf_t  *mcf;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_handler_pt            *h;
    jwtgrant_ctx                   *ctx;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_jwtgrant_module);
    if (!mcf->enabled) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_jwtgrant_access_handler;

    ngx_http_jwtgrant_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_jwtgrant_header_filter;
    ngx_http_jwtgrant_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_jwtgrant_body_filter;

    /* Checked here, so that `nginx -t` and a reload fail with the library's
     * message; this context is freed at once, before any fork. */
    ctx = ngx_http_jwtgrant_build(cf->log, mcf);
    if (ctx == NULL) {
        return NGX_ERROR;
    }
    jwtgrant_ctx_free(ctx);

    if (!mcf->signing_key && !mcf->shared_store) {
        ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                      "jwtgrant: no access_token.signing_key in jwtgrant_config: the worker "
                      "generates a key when it starts, so its access tokens stop verifying after "
                      "a reload or restart");
    }

    return ngx_http_jwtgrant_check_workers(cf->log, cf->cycle, mcf);
}


/* Again once the whole file is read (worker_processes may follow http{}). */
static ngx_int_t
ngx_http_jwtgrant_init_module(ngx_cycle_t *cycle)
{
    ngx_http_jwtgrant_main_conf_t  *mcf = ngx_http_jwtgrant_cycle_conf(cycle);

    if (mcf == NULL || !mcf->enabled) {
        return NGX_OK;
    }
    return ngx_http_jwtgrant_check_workers(cycle->log, cycle, mcf);
}


/* The library's audit events (one per token request, per assertion
 * verification and per JWKS fetch) to the error log as one line
 * "jwtgrant: {...event JSON...}", at the event's level: info for a success,
 * warn for a refused request, error for a server-side failure or a failed
 * JWKS fetch. It runs on the thread that did the work (a thread of the
 * pool, the event loop, or the library's JWKS refresh thread), with no lock
 * of the library held; ngx_log_error formats into a buffer on the stack and
 * write()s it, as nginx's own thread pool code logs from its threads. An
 * event never holds a token, a secret or a key. */
static void
ngx_http_jwtgrant_log_event(void *user_data, int32_t level, const char *event_json)
{
    ngx_log_t   *log = user_data;
    ngx_uint_t   ngx_level;

    switch (level) {
    case JWTGRANT_LOG_ERROR:
        ngx_level = NGX_LOG_ERR;
        break;
    case JWTGRANT_LOG_WARNING:
        ngx_level = NGX_LOG_WARN;
        break;
    default:
        ngx_level = NGX_LOG_INFO;
        break;
    }
    ngx_log_error(ngx_level, log, 0, "jwtgrant: %s", event_json);
}


static ngx_int_t
ngx_http_jwtgrant_init_process(ngx_cycle_t *cycle)
{
    ngx_http_jwtgrant_main_conf_t  *mcf = ngx_http_jwtgrant_cycle_conf(cycle);
    char                           *err = NULL;

    if (mcf == NULL || !mcf->enabled) {
        return NGX_OK;
    }
    ngx_http_jwtgrant_worker_ctx = ngx_http_jwtgrant_build(cycle->log, mcf);
    if (ngx_http_jwtgrant_worker_ctx == NULL) {
        return NGX_ERROR;
    }
    /* cycle->log lives as long as the worker; the context is freed first. */
    if (jwtgrant_set_log_callback(ngx_http_jwtgrant_worker_ctx, ngx_http_jwtgrant_log_event,
                                  cycle->log, &err) != JWTGRANT_OK)
    {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0, "jwtgrant: audit log: %s: %s",
                      err ? err : "no message", "events are not logged");
    }
    jwtgrant_free(err);
    ngx_log_error(NGX_LOG_INFO, cycle->log, 0, "jwtgrant: libjwtgrant %s, %ui issuer(s), "
                  "%ui client(s)", jwtgrant_version(), mcf->issuers->nelts, mcf->clients->nelts);
    return NGX_OK;
}


/* nginx's thread pools are stopped (their exit_process runs first, waiting
 * for the tasks in progress) before this runs. It waits, up to 2 s, until
 * the threads that ran exchanges have ended altogether, then frees the
 * context. */
static void
ngx_http_jwtgrant_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t  i, waited;
    char        path[64];

    (void) cycle;
    pthread_mutex_lock(&ngx_http_jwtgrant_tids_lock);
    for (i = 0, waited = 0; i < ngx_http_jwtgrant_ntids; i++) {
        ngx_snprintf((u_char *) path, sizeof(path), "/proc/self/task/%P%Z",
                     (ngx_pid_t) ngx_http_jwtgrant_tids[i]);
        while (access(path, F_OK) == 0 && waited < 2000) {
            ngx_msleep(1);
            waited++;
        }
    }
    ngx_http_jwtgrant_ntids = 0;
    pthread_mutex_unlock(&ngx_http_jwtgrant_tids_lock);

    jwtgrant_ctx_free(ngx_http_jwtgrant_worker_ctx);
    ngx_http_jwtgrant_worker_ctx = NULL;
}
