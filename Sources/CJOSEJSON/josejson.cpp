// josejson.cpp - see include/josejson.h. simdjson's DOM parser reads the
// document (and caps its depth); one walk then closes the other gaps to
// jansson's strictness (NUL in strings, unsigned 64-bit integers, duplicate
// names at every depth) while it copies what is kept into per-thread
// scratch buffers, and one allocation receives the result.
#include "josejson.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

static_assert(JOSEJSON_PADDING >= simdjson::SIMDJSON_PADDING, "simdjson needs more padding");
static_assert(sizeof(josejson_entry) == 32, "an entry is 32 bytes");

namespace {

using simdjson::dom::element;

// simdjson refuses a document whose nesting reaches its max_depth; one more
// than ours lets exactly JOSEJSON_MAX_DEPTH nested arrays/objects through.
constexpr size_t kSimdjsonDepth = JOSEJSON_MAX_DEPTH + 1;
using simdjson::dom::element_type;

int status_of(simdjson::error_code e) {
    switch (e) {
    case simdjson::SUCCESS: return JOSEJSON_OK;
    case simdjson::UTF8_ERROR: return JOSEJSON_EUTF8;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE: return JOSEJSON_ENUMBER;
    case simdjson::STRING_ERROR:
    case simdjson::UNESCAPED_CHARS:
    case simdjson::UNCLOSED_STRING: return JOSEJSON_ESTRING;
    case simdjson::DEPTH_ERROR: return JOSEJSON_EDEPTH;
    case simdjson::CAPACITY: return JOSEJSON_ETOOLARGE;
    case simdjson::MEMALLOC: return JOSEJSON_ENOMEM;
    default: return JOSEJSON_ESYNTAX;
    }
}

// Whether the text holds the six bytes \u0000 anywhere (what memmem would
// find): memchr (vectorised) for each backslash, then the five bytes after
// it. JOSE documents rarely hold a backslash at all, so this is one memchr
// pass, where glibc's memmem with a 6-byte needle costs several times more.
bool has_escaped_nul(const uint8_t *text, size_t length) {
    const uint8_t *p = text, *end = text + length;
    while (end - p >= 6) {
        const void *hit = std::memchr(p, '\\', static_cast<size_t>(end - p) - 5);
        if (hit == nullptr) return false;
        p = static_cast<const uint8_t *>(hit);
        if (std::memcmp(p + 1, "u0000", 5) == 0) return true;
        p++;
    }
    return false;
}

bool has_nul(std::string_view s) { return !s.empty() && std::memchr(s.data(), 0, s.size()) != nullptr; }

// A cheap fingerprint of a name (length and three bytes): equal names have
// equal fingerprints, so memcmp runs only on likely duplicates.
inline uint64_t fingerprint(std::string_view k) {
    uint64_t n = k.size();
    if (n == 0) return 0;
    auto b = [&](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(k[i])); };
    return n | b(0) << 32 | b(n / 2) << 40 | b(n - 1) << 48;
}

// Whether any name occurs twice. Small objects compare fingerprints
// pairwise; larger ones sort a copy of the names (no quadratic time on
// hostile input).
int check_names(simdjson::dom::object obj, size_t n) {
    constexpr size_t kSmall = 16;
    if (n < 2) return JOSEJSON_OK;
    if (n <= kSmall) {
        std::string_view names[kSmall];
        uint64_t prints[kSmall];
        size_t i = 0;
        for (auto field : obj) {
            uint64_t f = fingerprint(field.key);
            for (size_t j = 0; j < i; j++)
                if (prints[j] == f && names[j] == field.key) return JOSEJSON_EDUPLICATE;
            names[i] = field.key;
            prints[i] = f;
            i++;
        }
        return JOSEJSON_OK;
    }
    auto *names = static_cast<std::string_view *>(std::malloc(n * sizeof(std::string_view)));
    if (names == nullptr) return JOSEJSON_ENOMEM;
    size_t i = 0;
    for (auto field : obj) new (&names[i++]) std::string_view(field.key);
    std::sort(names, names + n);
    int status = JOSEJSON_OK;
    for (size_t a = 1; a < n; a++)
        if (names[a] == names[a - 1]) { status = JOSEJSON_EDUPLICATE; break; }
    std::free(names);
    return status;
}

// The strictness walk below the top level. `nul` is false when the text
// holds no "\u0000" at all, the only way JSON can spell a NUL byte.
int check(element v, bool nul) {
    switch (v.type()) {
    case element_type::STRING: {
        if (!nul) return JOSEJSON_OK;
        std::string_view s = v.get_string().value_unsafe();
        return has_nul(s) ? JOSEJSON_ENUL : JOSEJSON_OK;
    }
    case element_type::UINT64: return JOSEJSON_EINTEGER;
    case element_type::ARRAY: {
        for (element e : v.get_array().value_unsafe()) {
            int s = check(e, nul);
            if (s != JOSEJSON_OK) return s;
        }
        return JOSEJSON_OK;
    }
    case element_type::OBJECT: {
        simdjson::dom::object o = v.get_object().value_unsafe();
        size_t n = 0;
        for (auto field : o) {
            if (nul && has_nul(field.key)) return JOSEJSON_ENUL;
            int s = check(field.value, nul);
            if (s != JOSEJSON_OK) return s;
            n++;
        }
        return check_names(o, n);
    }
    default: return JOSEJSON_OK;
    }
}

uint32_t kind_of(element v) {
    switch (v.type()) {
    case element_type::NULL_VALUE: return JOSEJSON_NULL;
    case element_type::BOOL: return v.get_bool().value_unsafe() ? JOSEJSON_TRUE : JOSEJSON_FALSE;
    case element_type::INT64: return JOSEJSON_INTEGER;
    case element_type::UINT64: return JOSEJSON_INTEGER;  // refused by check()
    case element_type::DOUBLE: return JOSEJSON_REAL;
    case element_type::STRING: return JOSEJSON_STRING;
    case element_type::ARRAY: return JOSEJSON_ARRAY;
    case element_type::OBJECT: return JOSEJSON_OBJECT;
    }
    return JOSEJSON_NULL;
}

// The registered name (enum josejson_name) that `k` spells, or -1: by
// length, then the bytes as one integer (no string compares per member).
inline int registered_name(std::string_view k) {
    const auto *p = reinterpret_cast<const unsigned char *>(k.data());
    switch (k.size()) {
    case 3: {
        uint32_t v = p[0] | p[1] << 8 | p[2] << 16;
        auto code = [](const char *s) constexpr {
            return static_cast<uint32_t>(static_cast<unsigned char>(s[0]) | static_cast<unsigned char>(s[1]) << 8 |
                                         static_cast<unsigned char>(s[2]) << 16);
        };
        switch (v) {
        case code("alg"): return JOSEJSON_NAME_ALG;
        case code("kid"): return JOSEJSON_NAME_KID;
        case code("b64"): return JOSEJSON_NAME_B64;
        case code("iss"): return JOSEJSON_NAME_ISS;
        case code("sub"): return JOSEJSON_NAME_SUB;
        case code("aud"): return JOSEJSON_NAME_AUD;
        case code("exp"): return JOSEJSON_NAME_EXP;
        case code("nbf"): return JOSEJSON_NAME_NBF;
        case code("iat"): return JOSEJSON_NAME_IAT;
        case code("jti"): return JOSEJSON_NAME_JTI;
        default: return -1;
        }
    }
    case 4: return std::memcmp(p, "crit", 4) == 0 ? JOSEJSON_NAME_CRIT : -1;
    case 12: return std::memcmp(p, "_issuer_name", 12) == 0 ? JOSEJSON_NAME_ISSUER_NAME : -1;
    default: return -1;
    }
}

// What one walk over the top level writes before the one allocation: the
// entries and the string bytes, in per-thread buffers that grow as needed
// (a name or string is never longer than the document).
struct Scratch {
    josejson_entry *entries = nullptr;
    size_t entry_capacity = 0;
    char *bytes = nullptr;
    size_t byte_capacity = 0;
    size_t entry_count = 0, byte_count = 0;
    bool nul = true;   // whether the text may hold "\u0000" (see check)
    ~Scratch() { std::free(entries); std::free(bytes); }

    bool reserve(size_t entries_needed, size_t bytes_needed) {
        if (entries_needed > entry_capacity) {
            size_t c = std::max<size_t>(entries_needed, entry_capacity * 2 + 32);
            auto *p = static_cast<josejson_entry *>(std::realloc(entries, c * sizeof(josejson_entry)));
            if (p == nullptr) return false;
            entries = p;
            entry_capacity = c;
        }
        if (bytes_needed > byte_capacity) {
            size_t c = std::max<size_t>(bytes_needed, byte_capacity * 2 + 1024);
            auto *p = static_cast<char *>(std::realloc(bytes, c));
            if (p == nullptr) return false;
            bytes = p;
            byte_capacity = c;
        }
        return true;
    }

    // Appends a value; a string is checked for NUL on the way. The byte
    // space was reserved for the whole document by build() (names and
    // strings, unescaped, never take more bytes than the text), so only the
    // entry table may grow here. One type dispatch per value.
    int add(element v, std::string_view name) {
        if (entry_count == entry_capacity && !reserve(entry_count + 1, 0)) return JOSEJSON_ENOMEM;
        josejson_entry &e = entries[entry_count++];
        e.name_offset = static_cast<uint32_t>(byte_count);
        e.name_length = static_cast<uint32_t>(name.size());
        e.offset = 0;
        e.length = 0;
        e.reserved = 0;
        e.value.integer = 0;
        if (!name.empty()) std::memcpy(bytes + byte_count, name.data(), name.size());
        byte_count += name.size();
        switch (v.type()) {
        case element_type::NULL_VALUE: e.kind = JOSEJSON_NULL; return JOSEJSON_OK;
        case element_type::BOOL:
            e.kind = v.get_bool().value_unsafe() ? JOSEJSON_TRUE : JOSEJSON_FALSE;
            return JOSEJSON_OK;
        case element_type::INT64:
            e.kind = JOSEJSON_INTEGER;
            e.value.integer = v.get_int64().value_unsafe();
            return JOSEJSON_OK;
        case element_type::UINT64: e.kind = JOSEJSON_INTEGER; return JOSEJSON_EINTEGER;
        case element_type::DOUBLE:
            e.kind = JOSEJSON_REAL;
            e.value.real = v.get_double().value_unsafe();
            return JOSEJSON_OK;
        case element_type::STRING: {
            e.kind = JOSEJSON_STRING;
            std::string_view s = v.get_string().value_unsafe();
            if (nul && has_nul(s)) return JOSEJSON_ENUL;
            if (!s.empty()) std::memcpy(bytes + byte_count, s.data(), s.size());
            e.offset = static_cast<uint32_t>(byte_count);
            e.length = static_cast<uint32_t>(s.size());
            byte_count += s.size();
            return JOSEJSON_OK;
        }
        case element_type::ARRAY: {
            e.kind = JOSEJSON_ARRAY;
            simdjson::dom::array a = v.get_array().value_unsafe();
            e.length = static_cast<uint32_t>(a.size());
            return JOSEJSON_OK;
        }
        case element_type::OBJECT: {
            e.kind = JOSEJSON_OBJECT;
            simdjson::dom::object o = v.get_object().value_unsafe();
            e.length = static_cast<uint32_t>(o.size());
            return check(v, nul);
        }
        }
        e.kind = JOSEJSON_NULL;
        return JOSEJSON_OK;
    }
};

// One walk: the top-level members into the scratch (checked as they go),
// then the elements of top-level arrays; one allocation holds the result.
int build(element root, Scratch &t, const uint8_t *text, size_t length, josejson_doc **out) {
    t.entry_count = 0;
    t.byte_count = 0;
    // Every name and string kept fits in `length` bytes (unescaping never
    // lengthens); reserved once, so add() checks no byte capacity.
    if (!t.reserve(0, length)) return JOSEJSON_ENOMEM;
    t.nul = has_escaped_nul(text, length);
    uint32_t members = 0;
    uint32_t registered[JOSEJSON_NAME_COUNT] = {};
    if (root.type() == element_type::OBJECT) {
        simdjson::dom::object obj = root.get_object().value_unsafe();
        // One pass over the members: checked and copied; the names and
        // fingerprints of small objects, and up to 4 array members, noted
        // for the duplicate check and the element pass.
        constexpr size_t kSmall = 16, kArrays = 4;
        std::string_view names[kSmall];
        uint64_t prints[kSmall];
        element arrays[kArrays];
        size_t array_index[kArrays];
        size_t n = 0, array_count = 0;
        bool more_arrays = false;
        for (auto field : obj) {
            if (t.nul && has_nul(field.key)) return JOSEJSON_ENUL;
            int s = t.add(field.value, field.key);
            if (s != JOSEJSON_OK) return s;
            // Duplicates are refused, so each name is noted at most once
            // in a document that is accepted.
            int r = registered_name(field.key);
            if (r >= 0) registered[r] = static_cast<uint32_t>(n + 1);
            if (n < kSmall) {
                uint64_t f = fingerprint(field.key);
                for (size_t j = 0; j < n; j++)
                    if (prints[j] == f && names[j] == field.key) return JOSEJSON_EDUPLICATE;
                names[n] = field.key;
                prints[n] = f;
            }
            if (field.value.type() == element_type::ARRAY) {
                if (array_count < kArrays) {
                    arrays[array_count] = field.value;
                    array_index[array_count++] = n;
                } else {
                    more_arrays = true;
                }
            }
            n++;
        }
        if (n > kSmall) {
            int s = check_names(obj, n);
            if (s != JOSEJSON_OK) return s;
        }
        members = static_cast<uint32_t>(n);
        auto add_elements = [&](size_t i, element array) -> int {
            t.entries[i].offset = static_cast<uint32_t>(t.entry_count);
            for (element e : array.get_array().value_unsafe()) {
                int st = t.add(e, std::string_view());
                if (st != JOSEJSON_OK) return st;
                // Nested arrays are checked here (their elements are not kept).
                if (e.type() == element_type::ARRAY) {
                    st = check(e, t.nul);
                    if (st != JOSEJSON_OK) return st;
                }
            }
            return JOSEJSON_OK;
        };
        if (!more_arrays) {
            for (size_t k = 0; k < array_count; k++) {
                int st = add_elements(array_index[k], arrays[k]);
                if (st != JOSEJSON_OK) return st;
            }
        } else {
            size_t i = 0;
            for (auto field : obj) {
                if (field.value.type() == element_type::ARRAY) {
                    int st = add_elements(i, field.value);
                    if (st != JOSEJSON_OK) return st;
                }
                i++;
            }
        }
    } else {
        int s = check(root, t.nul);
        if (s != JOSEJSON_OK) return s;
    }
    if (t.entry_count > UINT32_MAX || t.byte_count > UINT32_MAX) return JOSEJSON_ETOOLARGE;
    size_t head = sizeof(josejson_doc);
    size_t table = t.entry_count * sizeof(josejson_entry);
    void *block = std::malloc(head + table + t.byte_count + length + 1);
    if (block == nullptr) return JOSEJSON_ENOMEM;
    auto *doc = static_cast<josejson_doc *>(block);
    auto *entries = reinterpret_cast<josejson_entry *>(static_cast<char *>(block) + head);
    char *bytes = static_cast<char *>(block) + head + table;
    if (table) std::memcpy(entries, t.entries, table);
    if (t.byte_count) std::memcpy(bytes, t.bytes, t.byte_count);
    char *source = bytes + t.byte_count;
    if (length) std::memcpy(source, text, length);
    doc->source = source;
    doc->source_length = length;
    doc->root_kind = kind_of(root);
    doc->member_count = members;
    doc->entry_count = static_cast<uint32_t>(t.entry_count);
    doc->reserved = 0;
    doc->entries = entries;
    doc->bytes = bytes;
    std::memcpy(doc->registered, registered, sizeof registered);
    *out = doc;
    return JOSEJSON_OK;
}

int parse_with(simdjson::dom::parser &parser, Scratch &scratch, const uint8_t *padded, size_t length,
               josejson_doc **out) {
    element root;
    simdjson::error_code err = parser.parse(padded, length, false).get(root);
    if (err) return status_of(err);
    return build(root, scratch, padded, length, out);
}

struct PerThread {
    simdjson::dom::parser parser{JOSEJSON_THREAD_CAPACITY};
    Scratch scratch;
    bool ready = false;
};

}  // namespace

extern "C" int josejson_parse(const uint8_t *padded, size_t length, josejson_doc **out) {
    if (out == nullptr) return JOSEJSON_ENOMEM;
    *out = nullptr;
    if (padded == nullptr) return JOSEJSON_ESYNTAX;
    if (length > JOSEJSON_MAX_LENGTH) return JOSEJSON_ETOOLARGE;
    if (length <= JOSEJSON_THREAD_CAPACITY) {
        // One parser per thread, allocated on first use, kept for the thread.
        // One parser and scratch per thread, allocated on first use, kept
        // for the thread.
        thread_local PerThread state;
        if (!state.ready) {
            if (state.parser.allocate(4096, kSimdjsonDepth) != simdjson::SUCCESS) return JOSEJSON_ENOMEM;
            state.ready = true;
        }
        return parse_with(state.parser, state.scratch, padded, length, out);
    }
    simdjson::dom::parser big(JOSEJSON_MAX_LENGTH);
    if (big.allocate(length, kSimdjsonDepth) != simdjson::SUCCESS) return JOSEJSON_ENOMEM;
    Scratch scratch;
    return parse_with(big, scratch, padded, length, out);
}

extern "C" void josejson_free(josejson_doc *doc) { std::free(doc); }

extern "C" const char *josejson_reason(int status) {
    switch (status) {
    case JOSEJSON_OK: return "no error";
    case JOSEJSON_ESYNTAX: return "not a single JSON value";
    case JOSEJSON_ENUL: return "a string or member name holds \\u0000";
    case JOSEJSON_EINTEGER: return "an integer is outside the signed 64-bit range";
    case JOSEJSON_EDUPLICATE: return "duplicate member name";
    case JOSEJSON_EDEPTH: return "nested deeper than 32 levels";
    case JOSEJSON_ETOOLARGE: return "the document is too large";
    case JOSEJSON_ENOMEM: return "out of memory";
    case JOSEJSON_EUTF8: return "invalid UTF-8";
    case JOSEJSON_ENUMBER: return "a number is malformed or out of range";
    case JOSEJSON_ESTRING: return "a string is malformed (escape, control character or surrogate)";
    default: return "invalid JSON";
    }
}
