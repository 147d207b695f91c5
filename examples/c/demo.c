/*
 * demo.c - the documented JWT bearer flow through libjwtgrant's C API,
 * on embedded defaults:
 *
 *   1. create an authorization server (jwtgrant_ctx_new with NULL config);
 *   2. register a trusted token issuer whose certificate is generated here;
 *   3. register an application allowed the JWT bearer grant;
 *   4. mint an RS256 assertion as that issuer would;
 *   5. exchange it at the token endpoint with a Basic header and a form body
 *      exactly as `curl --data-urlencode` sends them;
 *   6. print the response and verify the access token we were issued.
 *
 * Build: cc demo.c $(pkg-config --cflags --libs jwtgrant libcrypto) -o demo
 * Exit status 0 when every step succeeded.
 */
#include <jwtgrant.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ISSUER_VALUE "https://idp.example.com/oauth2/token"
#define SERVER_AUD "https://localhost:9443/oauth2/token"
#define CLIENT_ID "demo-app"
#define CLIENT_SECRET "s3cr3t-demo-app-secret"

static int fail(const char *step, int32_t status, char *message) {
    fprintf(stderr, "demo: %s failed: %s (%s)\n", step, jwtgrant_status_name(status),
            message ? message : "no message");
    jwtgrant_free(message);
    return 1;
}

/* base64url without padding (RFC 7515 section 2). */
static char *b64url(const unsigned char *in, size_t len) {
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *out = malloc(cap);
    if (!out) return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=') n--;
    out[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (out[i] == '+') out[i] = '-';
        else if (out[i] == '/') out[i] = '_';
    }
    return out;
}

/* A JSON string literal body: escapes quotes, backslashes and newlines. */
static char *json_escape(const char *s) {
    size_t len = strlen(s);
    char *out = malloc(2 * len + 1), *o = out;
    if (!out) return NULL;
    for (; *s; s++) {
        if (*s == '\n') { *o++ = '\\'; *o++ = 'n'; }
        else if (*s == '"' || *s == '\\') { *o++ = '\\'; *o++ = *s; }
        else *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* A self-signed certificate for the third-party identity provider. */
static char *make_certificate(EVP_PKEY *key) {
    X509 *x = X509_new();
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    if (!x || !bio) goto done;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"demo-idp", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    if (!X509_sign(x, key, EVP_sha256()) || !PEM_write_bio_X509(bio, x)) goto done;
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)n + 1);
    if (pem) { memcpy(pem, data, (size_t)n); pem[n] = '\0'; }
done:
    X509_free(x);
    BIO_free(bio);
    return pem;
}

/* header.payload.signature, RS256. */
static char *mint_assertion(EVP_PKEY *key) {
    unsigned char rnd[16];
    char payload[512], *jti, *h, *p, *s = NULL, *jwt = NULL;
    time_t now = time(NULL);
    RAND_bytes(rnd, sizeof rnd);
    jti = b64url(rnd, sizeof rnd);
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" ISSUER_VALUE "\",\"sub\":\"alice@example.com\",\"aud\":\"" SERVER_AUD "\","
             "\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}",
             (long long)now, (long long)now + 300, jti);
    const char *header = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    h = b64url((const unsigned char *)header, strlen(header));
    p = b64url((const unsigned char *)payload, strlen(payload));
    size_t input_len = strlen(h) + 1 + strlen(p);
    char *input = malloc(input_len + 1);
    snprintf(input, input_len + 1, "%s.%s", h, p);

    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, input_len) == 1) {
        s = b64url(sig, sig_len);
        jwt = malloc(input_len + 1 + strlen(s) + 1);
        sprintf(jwt, "%s.%s", input, s);
    }
    EVP_MD_CTX_free(md);
    free(jti); free(h); free(p); free(s); free(input);
    return jwt;
}

/* The value of "access_token" in a token response (enough for a demo). */
static char *access_token_of(const char *json) {
    const char *k = strstr(json, "\"access_token\":\"");
    if (!k) return NULL;
    k += strlen("\"access_token\":\"");
    const char *end = strchr(k, '"');
    if (!end) return NULL;
    char *t = malloc((size_t)(end - k) + 1);
    memcpy(t, k, (size_t)(end - k));
    t[end - k] = '\0';
    return t;
}

int main(void) {
    jwtgrant_ctx *ctx = NULL;
    char *err = NULL, *claims = NULL, *response = NULL;
    int32_t rc, http_status = 0;
    int result = 1;

    printf("libjwtgrant %s\n", jwtgrant_version());

    /* 1. the authorization server, embedded defaults */
    if ((rc = jwtgrant_ctx_new(&ctx, NULL, &err)) != JWTGRANT_OK) return fail("jwtgrant_ctx_new", rc, err);

    /* 2. the trusted token issuer, with a fresh certificate */
    EVP_PKEY *idp_key = EVP_RSA_gen(2048);
    char *cert = idp_key ? make_certificate(idp_key) : NULL;
    char *cert_json = cert ? json_escape(cert) : NULL;
    if (!cert_json) { fprintf(stderr, "demo: cannot make a certificate\n"); goto out; }
    size_t n = strlen(cert_json) + 256;
    char *issuer_json = malloc(n);
    snprintf(issuer_json, n,
             "{\"name\":\"demo-idp\",\"issuer\":\"" ISSUER_VALUE "\",\"alias\":\"demo-alias\","
             "\"certificate\":\"%s\"}", cert_json);
    rc = jwtgrant_register_issuer(ctx, issuer_json, &err);
    free(issuer_json);
    if (rc != JWTGRANT_OK) { result = fail("jwtgrant_register_issuer", rc, err); goto out; }
    printf("registered trusted token issuer demo-idp (%s)\n", ISSUER_VALUE);

    /* 3. the application, allowed the JWT bearer grant */
    rc = jwtgrant_register_client(ctx,
        "{\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"" CLIENT_SECRET "\","
        "\"grant_types\":[\"urn:ietf:params:oauth:grant-type:jwt-bearer\"]}", &err);
    if (rc != JWTGRANT_OK) { result = fail("jwtgrant_register_client", rc, err); goto out; }
    printf("registered application %s\n", CLIENT_ID);

    /* 4. the third party's assertion */
    char *assertion = mint_assertion(idp_key);
    if (!assertion) { fprintf(stderr, "demo: cannot sign the assertion\n"); goto out; }
    rc = jwtgrant_verify_assertion(ctx, assertion, &claims, &err);
    if (rc != JWTGRANT_OK) { free(assertion); result = fail("jwtgrant_verify_assertion", rc, err); goto out; }
    printf("assertion verified, claims: %s\n", claims);

    /* 5. POST /oauth2/token as curl sends it */
    const char *id_secret = CLIENT_ID ":" CLIENT_SECRET;
    char basic[256] = "Basic ";
    EVP_EncodeBlock((unsigned char *)basic + 6, (const unsigned char *)id_secret, (int)strlen(id_secret));
    const char *prefix = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    char *body = malloc(strlen(prefix) + strlen(assertion) + 1);
    sprintf(body, "%s%s", prefix, assertion);
    rc = jwtgrant_exchange_token(ctx, basic, body, &http_status, &response);
    free(body);
    free(assertion);
    printf("POST /oauth2/token -> HTTP %d\n%s\n", (int)http_status, response ? response : "(no body)");
    if (rc != JWTGRANT_OK) { result = fail("jwtgrant_exchange_token", rc, NULL); goto out; }

    /* 6. a resource server checks the access token */
    char *token = access_token_of(response);
    char *at_claims = NULL;
    rc = token ? jwtgrant_verify_access_token(ctx, token, &at_claims, &err) : JWTGRANT_EINVAL;
    free(token);
    if (rc != JWTGRANT_OK) { result = fail("jwtgrant_verify_access_token", rc, err); goto out; }
    printf("access token verified, claims: %s\n", at_claims);
    jwtgrant_free(at_claims);
    result = 0;

out:
    jwtgrant_free(claims);
    jwtgrant_free(response);
    free(cert);
    free(cert_json);
    EVP_PKEY_free(idp_key);
    jwtgrant_ctx_free(ctx);
    return result;
}
