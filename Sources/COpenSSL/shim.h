#ifndef JWTGRANT_COPENSSL_SHIM_H
#define JWTGRANT_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/asn1.h>

/* Function-like macros Swift cannot import. */
static inline void jg_openssl_free(void *p) { OPENSSL_free(p); }
#endif
