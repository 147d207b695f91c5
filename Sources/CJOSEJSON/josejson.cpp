// josejson.cpp - see include/josejson.h. simdjson's DOM parser reads the
// document; one walk then closes the gaps to jansson's strictness (NUL in
// strings, unsigned 64-bit integers, duplicate names at every depth; depth
// is capped by the parser itself) and counts what is kept; a second walk
// over the top level copies it into one allocation.
#include "josejson.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

static_assert(JOSEJSON_PADDING >= simdjson::SIMDJSON_PADDING, "simdjson needs more padding");

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

bool has_nul(std::string_view s) { return std::memchr(s.data(), 0, s.size()) != nullptr; }

// Sizes of what the second walk writes.
struct Tally {
    size_t entries = 0;
    size_t bytes = 0;
};

// Whether any name occurs twice. Small objects compare pairwise; larger
// ones sort a copy of the names (no quadratic time on hostile input).
int check_names(simdjson::dom::object obj, size_t n) {
    constexpr size_t kSmall = 16;
    if (n < 2) return JOSEJSON_OK;
    std::string_view small[kSmall];
    std::string_view *names = small;
    if (n > kSmall) {
        names = static_cast<std::string_view *>(std::malloc(n * sizeof(std::string_view)));
        if (names == nullptr) return JOSEJSON_ENOMEM;
    }
    size_t i = 0;
    for (auto field : obj) new (&names[i++]) std::string_view(field.key);
    int status = JOSEJSON_OK;
    if (n <= kSmall) {
        for (size_t a = 1; a < n && status == JOSEJSON_OK; a++)
            for (size_t b = 0; b < a; b++)
                if (names[a] == names[b]) { status = JOSEJSON_EDUPLICATE; break; }
    } else {
        std::sort(names, names + n);
        for (size_t a = 1; a < n; a++)
            if (names[a] == names[a - 1]) { status = JOSEJSON_EDUPLICATE; break; }
        std::free(names);
    }
    return status;
}

// The strictness walk over every value.
int check(element v) {
    switch (v.type()) {
    case element_type::STRING: {
        std::string_view s;
        if (v.get_string().get(s)) return JOSEJSON_ESTRING;
        return has_nul(s) ? JOSEJSON_ENUL : JOSEJSON_OK;
    }
    case element_type::UINT64: return JOSEJSON_EINTEGER;
    case element_type::ARRAY: {
        simdjson::dom::array a;
        if (v.get_array().get(a)) return JOSEJSON_ESYNTAX;
        for (element e : a) {
            int s = check(e);
            if (s != JOSEJSON_OK) return s;
        }
        return JOSEJSON_OK;
    }
    case element_type::OBJECT: {
        simdjson::dom::object o;
        if (v.get_object().get(o)) return JOSEJSON_ESYNTAX;
        size_t n = 0;
        for (auto field : o) {
            if (has_nul(field.key)) return JOSEJSON_ENUL;
            int s = check(field.value);
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

size_t string_size(element v) {
    return v.type() == element_type::STRING ? v.get_string().value_unsafe().size() : 0;
}

size_t container_size(element v) {
    if (v.type() == element_type::ARRAY) return v.get_array().value_unsafe().size();
    if (v.type() == element_type::OBJECT) return v.get_object().value_unsafe().size();
    return 0;
}

// Writes one value's kind and scalar into `e`, its string into `bytes`.
void fill(josejson_entry &e, element v, char *bytes, size_t &at) {
    e.kind = kind_of(v);
    switch (v.type()) {
    case element_type::INT64:
        e.integer = v.get_int64().value_unsafe();
        e.real = static_cast<double>(e.integer);
        break;
    case element_type::DOUBLE: e.real = v.get_double().value_unsafe(); break;
    case element_type::STRING: {
        std::string_view s = v.get_string().value_unsafe();
        std::memcpy(bytes + at, s.data(), s.size());
        e.string_offset = static_cast<uint32_t>(at);
        e.string_length = static_cast<uint32_t>(s.size());
        at += s.size();
        break;
    }
    case element_type::ARRAY:
    case element_type::OBJECT: e.count = static_cast<uint32_t>(container_size(v)); break;
    default: break;
    }
}

int build(element root, josejson_doc **out) {
    Tally t;
    simdjson::dom::object obj;
    bool is_object = root.type() == element_type::OBJECT;
    if (is_object) {
        obj = root.get_object().value_unsafe();
        for (auto field : obj) {
            t.entries++;
            t.bytes += field.key.size() + string_size(field.value);
            if (field.value.type() == element_type::ARRAY) {
                for (element e : field.value.get_array().value_unsafe()) {
                    t.entries++;
                    t.bytes += string_size(e);
                }
            }
        }
    }
    if (t.entries > UINT32_MAX || t.bytes > UINT32_MAX) return JOSEJSON_ETOOLARGE;
    size_t head = sizeof(josejson_doc);
    size_t table = t.entries * sizeof(josejson_entry);
    void *block = std::calloc(1, head + table + t.bytes + 1);
    if (block == nullptr) return JOSEJSON_ENOMEM;
    auto *doc = static_cast<josejson_doc *>(block);
    auto *entries = reinterpret_cast<josejson_entry *>(static_cast<char *>(block) + head);
    char *bytes = static_cast<char *>(block) + head + table;
    doc->root_kind = kind_of(root);
    doc->entry_count = static_cast<uint32_t>(t.entries);
    doc->entries = entries;
    doc->bytes = bytes;
    if (is_object) {
        size_t members = 0;
        for (auto field : obj) (void)field, members++;
        doc->member_count = static_cast<uint32_t>(members);
        size_t at = 0, next = members, i = 0;
        for (auto field : obj) {
            josejson_entry &e = entries[i++];
            std::memcpy(bytes + at, field.key.data(), field.key.size());
            e.name_offset = static_cast<uint32_t>(at);
            e.name_length = static_cast<uint32_t>(field.key.size());
            at += field.key.size();
            fill(e, field.value, bytes, at);
            if (field.value.type() == element_type::ARRAY) {
                e.first = static_cast<uint32_t>(next);
                for (element v : field.value.get_array().value_unsafe()) fill(entries[next++], v, bytes, at);
            }
        }
    }
    *out = doc;
    return JOSEJSON_OK;
}

int parse_with(simdjson::dom::parser &parser, const uint8_t *padded, size_t length, josejson_doc **out) {
    element root;
    simdjson::error_code err = parser.parse(padded, length, false).get(root);
    if (err) return status_of(err);
    int s = check(root);
    if (s != JOSEJSON_OK) return s;
    return build(root, out);
}

}  // namespace

extern "C" int josejson_parse(const uint8_t *padded, size_t length, josejson_doc **out) {
    if (out == nullptr) return JOSEJSON_ENOMEM;
    *out = nullptr;
    if (padded == nullptr) return JOSEJSON_ESYNTAX;
    if (length > JOSEJSON_MAX_LENGTH) return JOSEJSON_ETOOLARGE;
    if (length <= JOSEJSON_THREAD_CAPACITY) {
        // One parser per thread, allocated on first use, kept for the thread.
        thread_local simdjson::dom::parser parser(JOSEJSON_THREAD_CAPACITY);
        thread_local bool ready = false;
        if (!ready) {
            if (parser.allocate(4096, kSimdjsonDepth) != simdjson::SUCCESS) return JOSEJSON_ENOMEM;
            ready = true;
        }
        return parse_with(parser, padded, length, out);
    }
    simdjson::dom::parser big(JOSEJSON_MAX_LENGTH);
    if (big.allocate(length, kSimdjsonDepth) != simdjson::SUCCESS) return JOSEJSON_ENOMEM;
    return parse_with(big, padded, length, out);
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
