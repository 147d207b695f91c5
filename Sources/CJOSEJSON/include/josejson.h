/*
 * josejson.h - the JSON reader of the verification hot path: a JWS header
 * or a JWT claims set, read by simdjson (Debian libsimdjson-dev) behind a
 * plain C interface, with jansson's strictness (JSON_REJECT_DUPLICATES):
 *
 *   - "\u0000" in a string or a member name is refused (simdjson accepts it);
 *   - integers outside [-2^63, 2^63-1] are refused (simdjson accepts up to
 *     2^64-1);
 *   - a member name repeated in one object is refused, at every depth;
 *   - nesting deeper than JOSEJSON_MAX_DEPTH arrays/objects is refused (a
 *     JOSE document has two or three levels; jansson allows 2048).
 *
 * Everything else both readers refuse alike: invalid or overlong UTF-8,
 * lone surrogates, leading zeros, trailing commas or content, control
 * characters, a byte order mark, numbers that overflow a double.
 *
 * What the caller gets is what the pipeline reads: the root's kind, the
 * top-level members (name, kind, value: strings unescaped, integers, reals,
 * booleans; the size of a nested array or object) and the elements of every
 * top-level array (kind and scalar value). Nothing deeper is kept.
 *
 * Thread-safe: each thread parses with its own simdjson parser (documents up
 * to JOSEJSON_THREAD_CAPACITY bytes; larger ones with a parser of their own,
 * freed after the call). Never throws, never aborts.
 */
#ifndef JOSEJSON_H
#define JOSEJSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes that must be readable (any value) after the document's end. */
#define JOSEJSON_PADDING 64
#define JOSEJSON_MAX_DEPTH 32
#define JOSEJSON_THREAD_CAPACITY 65536
/* The largest document accepted at all. */
#define JOSEJSON_MAX_LENGTH 4194304 /* 4 MiB */

enum josejson_kind {
    JOSEJSON_NULL = 0,
    JOSEJSON_FALSE = 1,
    JOSEJSON_TRUE = 2,
    JOSEJSON_INTEGER = 3,
    JOSEJSON_REAL = 4,
    JOSEJSON_STRING = 5,
    JOSEJSON_ARRAY = 6,
    JOSEJSON_OBJECT = 7
};

enum josejson_status {
    JOSEJSON_OK = 0,
    JOSEJSON_ESYNTAX = 1,     /* not one valid JSON text */
    JOSEJSON_ENUL = 2,        /* \u0000 in a string or member name */
    JOSEJSON_EINTEGER = 3,    /* integer outside the signed 64-bit range */
    JOSEJSON_EDUPLICATE = 4,  /* a member name twice in one object */
    JOSEJSON_EDEPTH = 5,      /* nested deeper than JOSEJSON_MAX_DEPTH */
    JOSEJSON_ETOOLARGE = 6,   /* longer than JOSEJSON_MAX_LENGTH */
    JOSEJSON_ENOMEM = 7,
    JOSEJSON_EUTF8 = 8,       /* invalid UTF-8 */
    JOSEJSON_ENUMBER = 9,     /* a malformed number or one out of a double's range */
    JOSEJSON_ESTRING = 10     /* a malformed string (escape, control character, surrogate) */
};

/* One value: a top-level member (with its name) or an element of a
 * top-level array (name_length 0, name_offset 0). 32 bytes. */
typedef struct josejson_entry {
    uint32_t kind;            /* enum josejson_kind */
    uint32_t name_offset;     /* into bytes */
    uint32_t name_length;
    uint32_t offset;          /* STRING: into bytes; ARRAY of a top-level member: index of its first element entry */
    uint32_t length;          /* STRING: bytes; ARRAY: elements; OBJECT: members */
    uint32_t reserved;
    union {
        int64_t integer;      /* JOSEJSON_INTEGER */
        double real;          /* JOSEJSON_REAL */
    } value;
} josejson_entry;

/* The registered names the verification pipeline reads (JWS header
 * parameters, JWT claims, the member the library adds to claims): the walk
 * notes where each is among the top-level members, so that reading one is
 * an array access instead of a search by name. */
enum josejson_name {
    JOSEJSON_NAME_ALG = 0,
    JOSEJSON_NAME_KID = 1,
    JOSEJSON_NAME_CRIT = 2,
    JOSEJSON_NAME_B64 = 3,
    JOSEJSON_NAME_ISS = 4,
    JOSEJSON_NAME_SUB = 5,
    JOSEJSON_NAME_AUD = 6,
    JOSEJSON_NAME_EXP = 7,
    JOSEJSON_NAME_NBF = 8,
    JOSEJSON_NAME_IAT = 9,
    JOSEJSON_NAME_JTI = 10,
    JOSEJSON_NAME_ISSUER_NAME = 11, /* "_issuer_name" */
    JOSEJSON_NAME_COUNT = 12
};

typedef struct josejson_doc {
    uint32_t root_kind;       /* enum josejson_kind */
    uint32_t member_count;    /* OBJECT root: entries[0, member_count) in document order */
    uint32_t entry_count;
    uint32_t reserved;
    const josejson_entry *entries;
    const char *bytes;        /* names and strings, unescaped UTF-8 (no terminators) */
    const char *source;       /* a copy of the document text as parsed */
    size_t source_length;
    /* OBJECT root: 1 + the entry index of each registered name (enum
     * josejson_name), 0 when the object has no such member. */
    uint32_t registered[JOSEJSON_NAME_COUNT];
} josejson_doc;

/* The entry index + 1 of registered name `name` in `doc`, 0 when absent
 * (or `name` out of range). */
static inline uint32_t josejson_registered(const josejson_doc *doc, int name) {
    return name >= 0 && name < JOSEJSON_NAME_COUNT ? doc->registered[name] : 0;
}

/* Parses `length` bytes at `padded` (JOSEJSON_PADDING more bytes must be
 * readable after them). On JOSEJSON_OK, *out is one allocation to release
 * with josejson_free; otherwise *out is NULL. */
int josejson_parse(const uint8_t *padded, size_t length, josejson_doc **out);

void josejson_free(josejson_doc *doc);

/* A fixed description of a status (never any input text). */
const char *josejson_reason(int status);

#ifdef __cplusplus
}
#endif

#endif
