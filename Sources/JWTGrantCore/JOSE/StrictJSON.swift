import CJansson

/// A strict RFC 8259 reader for JWS header and payload segments that builds
/// jansson values directly. It accepts exactly what
/// `json_loadb(JSON_REJECT_DUPLICATES)` accepts (duplicate members, invalid
/// UTF-8, "\u0000", lone surrogates, integer and real overflow, trailing
/// data are errors), except that nesting stops at 128 levels (jansson: 2048)
/// and a raw NUL byte after a number is refused (jansson skips it), and the values
/// it builds are jansson values like any other. It exists for speed:
/// jansson's character-at-a-time lexer costs ~25 ns per byte, which on a
/// 400-byte assertion is half an RSA-2048 verification; this reader costs
/// a tenth of that. The differential test in StrictJSONTests holds it to
/// jansson's verdicts.
struct StrictJSON {
    /// Nesting limit. jansson allows 2048; a JOSE header or a claims set
    /// never needs more than a few levels, and this reader recurses, so it
    /// stops at 128 to stay far from the stack limit of any host thread.
    static var maxDepth: Int { 128 }          // computed: no lazy-global check per use

    private let p: UnsafePointer<UInt8>
    private let n: Int
    private var i = 0
    private var depth = 0
    /// Scratch for strings with escapes.
    private var scratch: [UInt8] = []
    /// Why the text was refused (static text, for the error reason).
    private(set) var failure: StaticString = "invalid JSON"

    /// StrictJSON.plainASCII, read once per document rather than per string.
    private let plain: UnsafePointer<Bool>

    private init(_ p: UnsafePointer<UInt8>, _ n: Int) {
        self.p = p
        self.n = n
        self.plain = StrictJSON.plainASCII
    }

    /// The JSON object in `bytes`, or the reason it is not one.
    static func parseObject(_ bytes: UnsafeRawBufferPointer) -> Result<JSONValue, JWTGrantError> {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            return .failure(JWTGrantError(.malformed, "empty JSON text"))
        }
        var r = StrictJSON(base.assumingMemoryBound(to: UInt8.self), bytes.count)
        r.skipSpace()
        guard r.i < r.n, r.p[r.i] == UInt8(ascii: "{") else {
            return .failure(JWTGrantError(.malformed, "not a JSON object"))
        }
        guard let v = r.value() else {
            return .failure(JWTGrantError(.malformed, "\(r.failure) at byte \(r.i)"))
        }
        r.skipSpace()
        guard r.i == r.n else {
            json_decref(v)
            return .failure(JWTGrantError(.malformed, "data after the JSON value at byte \(r.i)"))
        }
        return .success(JSONValue(taking: v))
    }

    // MARK: grammar

    @inline(__always)
    private mutating func skipSpace() {
        while i < n {
            let c = p[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    private mutating func fail(_ why: StaticString) -> UnsafeMutablePointer<json_t>? {
        failure = why
        return nil
    }

    private mutating func value() -> UnsafeMutablePointer<json_t>? {
        skipSpace()
        guard i < n else { return fail("unexpected end of JSON") }
        switch p[i] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""):
            guard let (s, len) = string() else { return nil }
            guard let v = json_stringn_nocheck(UnsafeRawPointer(s).assumingMemoryBound(to: CChar.self), len) else {
                return fail("out of memory")
            }
            return v
        case UInt8(ascii: "t"): return literal("true", json_true())
        case UInt8(ascii: "f"): return literal("false", json_false())
        case UInt8(ascii: "n"): return literal("null", json_null())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return fail("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString, _ v: UnsafeMutablePointer<json_t>?) -> UnsafeMutablePointer<json_t>? {
        let w = word.utf8Start, len = word.utf8CodeUnitCount
        guard n - i >= len else { return fail("invalid literal") }
        for k in 0..<len where p[i + k] != w[k] { return fail("invalid literal") }
        i += len
        return v
    }

    private mutating func object() -> UnsafeMutablePointer<json_t>? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= StrictJSON.maxDepth else { return fail("maximum nesting depth exceeded") }
        i += 1                                               // "{"
        guard let obj = json_object() else { return fail("out of memory") }
        skipSpace()
        if i < n && p[i] == UInt8(ascii: "}") { i += 1; return obj }
        while true {
            skipSpace()
            guard i < n, p[i] == UInt8(ascii: "\"") else { json_decref(obj); return fail("member name expected") }
            guard let (k, klen) = string() else { json_decref(obj); return nil }
            // A key with escapes lives in `scratch`, which the value may reuse:
            // copy it out then (rare); an unescaped key points into the input.
            var keyCopy: UnsafeMutableRawPointer? = nil
            defer { keyCopy?.deallocate() }
            var key = k
            if !(k >= UnsafeRawPointer(p) && k < UnsafeRawPointer(p + n)) {
                let c = UnsafeMutableRawPointer.allocate(byteCount: max(klen, 1), alignment: 1)
                c.copyMemory(from: k, byteCount: klen)
                keyCopy = c
                key = UnsafeRawPointer(c)
            }
            let keyChars = key.assumingMemoryBound(to: CChar.self)
            skipSpace()
            guard i < n, p[i] == UInt8(ascii: ":") else { json_decref(obj); return fail("':' expected") }
            i += 1
            guard let v = value() else { json_decref(obj); return nil }
            // A duplicate replaces the old member instead of adding one: the
            // size tells (one hash lookup instead of a get and a set).
            let before = json_object_size(obj)
            guard json_object_setn_new_nocheck(obj, keyChars, klen, v) == 0 else {
                json_decref(obj); return fail("out of memory")
            }
            if json_object_size(obj) == before { json_decref(obj); return fail("duplicate object key") }
            skipSpace()
            guard i < n else { json_decref(obj); return fail("unterminated object") }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: "}") { i += 1; return obj }
            json_decref(obj)
            return fail("',' or '}' expected")
        }
    }

    private mutating func array() -> UnsafeMutablePointer<json_t>? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= StrictJSON.maxDepth else { return fail("maximum nesting depth exceeded") }
        i += 1                                               // "["
        guard let arr = json_array() else { return fail("out of memory") }
        skipSpace()
        if i < n && p[i] == UInt8(ascii: "]") { i += 1; return arr }
        while true {
            guard let v = value() else { json_decref(arr); return nil }
            guard json_array_append_new(arr, v) == 0 else { json_decref(arr); return fail("out of memory") }
            skipSpace()
            guard i < n else { json_decref(arr); return fail("unterminated array") }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: "]") { i += 1; return arr }
            json_decref(arr)
            return fail("',' or ']' expected")
        }
    }

    // MARK: strings

    /// Parses a string at `i` (on the opening quote). Returns its UTF-8
    /// bytes: a pointer into the input when there is no escape, else into
    /// `scratch` (valid until the next string).
    private mutating func string() -> (UnsafeRawPointer, Int)? {
        i += 1
        let start = i
        // Fast path: printable ASCII and valid UTF-8 up to the closing quote.
        let plain = self.plain
        // Eight bytes at a time while none of them needs attention (SWAR:
        // no byte >= 0x80, < 0x20, '"' or '\\').
        while n - i >= 8 {
            let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            let special = (w &- ones &* 0x20) | (quote &- ones) | (backslash &- ones) | w
            if special & highs != 0 { break }
            i += 8
        }
        while i < n {
            let c = p[i]
            if plain[Int(c)] { i += 1; continue }
            if c == UInt8(ascii: "\"") {
                let s = UnsafeRawPointer(p + start)
                i += 1
                return (s, i - 1 - start)
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { failure = "control character in string"; return nil }
            if c < 0x80 { i += 1; continue }
            guard utf8Sequence() else { return nil }
        }
        guard i < n else { failure = "unterminated string"; return nil }
        // Slow path: copy what was scanned, then unescape.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: p + start, count: i - start))
        while i < n {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return scratch.withUnsafeBytes { b in (b.baseAddress ?? UnsafeRawPointer(p), b.count) }
            }
            if c < 0x20 { failure = "control character in string"; return nil }
            if c == UInt8(ascii: "\\") {
                guard escape() else { return nil }
                continue
            }
            if c < 0x80 { scratch.append(c); i += 1; continue }
            let s = i
            guard utf8Sequence() else { return nil }
            scratch.append(contentsOf: UnsafeBufferPointer(start: p + s, count: i - s))
        }
        failure = "unterminated string"
        return nil
    }

    /// Bytes that need no attention inside a string: printable ASCII except
    /// the quote and the backslash. Allocated once, never written after.
    nonisolated(unsafe) private static let plainASCII: UnsafePointer<Bool> = {
        let t = UnsafeMutablePointer<Bool>.allocate(capacity: 256)
        for c in 0..<256 {
            t[c] = c >= 0x20 && c < 0x80 && c != Int(UInt8(ascii: "\"")) && c != Int(UInt8(ascii: "\\"))
        }
        return UnsafePointer(t)
    }()

    /// Validates one multi-byte UTF-8 sequence at `i` and steps over it
    /// (no overlongs, no surrogates, nothing above U+10FFFF).
    private mutating func utf8Sequence() -> Bool {
        let c = p[i]
        let need: Int, minimum: UInt32
        var cp: UInt32
        switch c {
        case 0xC2...0xDF: need = 1; cp = UInt32(c & 0x1F); minimum = 0x80
        case 0xE0...0xEF: need = 2; cp = UInt32(c & 0x0F); minimum = 0x800
        case 0xF0...0xF4: need = 3; cp = UInt32(c & 0x07); minimum = 0x10000
        default: failure = "invalid UTF-8"; return false
        }
        guard n - i > need else { failure = "invalid UTF-8"; return false }
        for k in 1...need {
            let b = p[i + k]
            guard b & 0xC0 == 0x80 else { failure = "invalid UTF-8"; return false }
            cp = cp << 6 | UInt32(b & 0x3F)
        }
        guard cp >= minimum, cp <= 0x10FFFF, !(0xD800...0xDFFF).contains(cp) else {
            failure = "invalid UTF-8"; return false
        }
        i += need + 1
        return true
    }

    private mutating func hex4() -> UInt32? {
        guard n - i >= 4 else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = p[i + k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x37
            case 0x61...0x66: d = c - 0x57
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        i += 4
        return v
    }

    /// One escape at `i` (on the backslash), appended to `scratch`.
    private mutating func escape() -> Bool {
        i += 1
        guard i < n else { failure = "unterminated string"; return false }
        let c = p[i]
        i += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(c)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            guard var cp = hex4() else { failure = "invalid \\u escape"; return false }
            if (0xDC00...0xDFFF).contains(cp) { failure = "lone low surrogate"; return false }
            if (0xD800...0xDBFF).contains(cp) {
                guard n - i >= 6, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") else {
                    failure = "lone high surrogate"; return false
                }
                i += 2
                guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else {
                    failure = "invalid surrogate pair"; return false
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
            }
            if cp == 0 { failure = "\\u0000 is not allowed"; return false }
            appendUTF8(cp)
        default:
            failure = "invalid escape"
            return false
        }
        return true
    }

    private mutating func appendUTF8(_ cp: UInt32) {
        switch cp {
        case 0..<0x80:
            scratch.append(UInt8(cp))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | cp >> 6)); scratch.append(UInt8(0x80 | cp & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | cp >> 12)); scratch.append(UInt8(0x80 | cp >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | cp & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | cp >> 18)); scratch.append(UInt8(0x80 | cp >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | cp >> 6 & 0x3F)); scratch.append(UInt8(0x80 | cp & 0x3F))
        }
    }

    // MARK: numbers

    private mutating func number() -> UnsafeMutablePointer<json_t>? {
        let start = i
        var negative = false
        if p[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < n, (0x30...0x39).contains(p[i]) else { return fail("invalid number") }
        if p[i] == 0x30 {
            i += 1
            if i < n, (0x30...0x39).contains(p[i]) { return fail("leading zero in number") }
        } else {
            while i < n, (0x30...0x39).contains(p[i]) { i += 1 }
        }
        var isReal = false
        if i < n, p[i] == UInt8(ascii: ".") {
            isReal = true
            i += 1
            guard i < n, (0x30...0x39).contains(p[i]) else { return fail("invalid number") }
            while i < n, (0x30...0x39).contains(p[i]) { i += 1 }
        }
        if i < n, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            isReal = true
            i += 1
            if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard i < n, (0x30...0x39).contains(p[i]) else { return fail("invalid number") }
            while i < n, (0x30...0x39).contains(p[i]) { i += 1 }
        }
        if !isReal {
            // Int64 with overflow detection, like jansson's strtoll + ERANGE.
            var magnitude: UInt64 = 0
            var k = negative ? start + 1 : start
            while k < i {
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(p[k] - 0x30))
                if o1 || o2 { return fail("integer out of range") }
                magnitude = m2
                k += 1
            }
            let limit: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
            guard magnitude <= limit else { return fail("integer out of range") }
            let value: Int64 = negative ? (magnitude == limit ? Int64.min : -Int64(magnitude)) : Int64(magnitude)
            guard let v = json_integer(json_int_t(value)) else { return fail("out of memory") }
            return v
        }
        // Reals are rare in claims: let jansson convert them, so rounding,
        // overflow and the host's locale are handled exactly as jansson does.
        var err = json_error_t()
        let text = UnsafeRawPointer(p + start).assumingMemoryBound(to: CChar.self)
        guard let v = json_loadb(text, i - start, Int(JSON_DECODE_ANY), &err) else {
            return fail("real number overflow")
        }
        guard v.pointee.type == JSON_REAL else { json_decref(v); return fail("invalid real") }
        return v
    }
}
