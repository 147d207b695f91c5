#if canImport(Glibc)
import Glibc
#endif
import CJansson
import CJOSEJSON
#if !JWTGRANT_FUZZ
@testable import JWTGrantCore
#endif

/// The hot path's reader (simdjson through CJOSEJSON, `JOSEObject`) held
/// against jansson with JSON_REJECT_DUPLICATES, the reader of every other
/// JSON document of the library. Shared by the differential XCTest and the
/// libFuzzer target (Tests/Fuzz).
enum JSONDifferential {
    /// Nesting jansson accepts but the hot path refuses by design.
    static let maxDepth = 32

    /// nil when both readers agree on `doc` (accept/reject and every value
    /// the hot path hands out), otherwise what differs.
    static func disagreement(_ doc: UnsafeRawBufferPointer) -> String? {
        let ours = JOSEObject.parse(doc)
        var err = json_error_t()
        let base = (doc.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
        let flags = Int(JSON_REJECT_DUPLICATES) | Int(JSON_DECODE_ANY)
        let theirs = json_loadb(base, doc.count, flags, &err)
        defer { if let theirs { json_decref(theirs) } }
        switch (ours, theirs) {
        case (.failure, nil):
            return nil
        case (.failure(let e), let j?):
            if e.status == Int32(JOSEJSON_EDEPTH.rawValue) && depth(j) > maxDepth { return nil }
            if let quirk = janssonNulQuirk(doc) { return quirk }
            return "jansson accepts, simdjson refuses (\(e.reason)); depth \(depth(j))"
        case (.success, nil):
            return "simdjson accepts, jansson refuses (\(janssonReason(err)))"
        case (.success(let o), let j?):
            if depth(j) > maxDepth { return "simdjson accepts depth \(depth(j))" }
            return compare(o, j)
        }
    }

    /// jansson's reader marks an empty look-ahead buffer with a NUL byte, so
    /// a NUL byte read right after a number or a literal (true, false, null),
    /// which the lexer reads one byte past and pushes back, is dropped: it
    /// accepts `{"a":1\0}` as `{"a":1}`. That text is not JSON; the hot path
    /// refuses it. Such a disagreement is accepted only if it is exactly that:
    /// without those NUL bytes, both readers agree again.
    static func janssonNulQuirk(_ doc: UnsafeRawBufferPointer) -> String?? {
        var cleaned: [UInt8] = []
        var dropped = false
        for (i, b) in doc.enumerated() {
            if b == 0, i > 0, isAlphanumeric(doc[i - 1]) { dropped = true; continue }
            cleaned.append(b)
        }
        guard dropped else { return nil }
        return .some(cleaned.withUnsafeBytes { disagreement($0) }.map { "after dropping NULs: \($0)" })
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
    }

    static func janssonReason(_ err: json_error_t) -> String {
        withUnsafeBytes(of: err.text) { raw in
            let b = raw.bindMemory(to: UInt8.self)
            return String(decoding: b.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Nesting of arrays and objects (a scalar is 0, `{}` is 1).
    static func depth(_ v: UnsafeMutablePointer<json_t>) -> Int {
        switch v.pointee.type {
        case JSON_ARRAY:
            var d = 0
            for i in 0..<json_array_size(v) { d = max(d, depth(json_array_get(v, i))) }
            return d + 1
        case JSON_OBJECT:
            var d = 0
            var it = json_object_iter(v)
            while let i = it {
                d = max(d, depth(json_object_iter_value(i)))
                it = json_object_iter_next(v, i)
            }
            return d + 1
        default:
            return 0
        }
    }

    static func compare(_ o: JOSEObject, _ j: UnsafeMutablePointer<json_t>) -> String? {
        guard o.rootKind == kind(j) else { return "root kind \(o.rootKind) vs \(kind(j))" }
        guard j.pointee.type == JSON_OBJECT else { return o.count == 0 ? nil : "members on a non-object" }
        guard o.count == json_object_size(j) else { return "member count \(o.count) vs \(json_object_size(j))" }
        var it = json_object_iter(j)
        var i = 0
        while let cur = it {
            // jansson keeps insertion order; names with their exact length.
            var keyLength = 0
            guard let key = json_object_iter_key(cur) else { return "no key" }
            keyLength = strlen(key)
            let same = o.withName(i) { name in
                name.count == keyLength && (keyLength == 0 || memcmp(name.baseAddress!, key, keyLength) == 0)
            }
            guard same else { return "member \(i) name differs" }
            if let d = compareValue(JOSEValue(object: o, index: i), json_object_iter_value(cur), top: true) {
                return "member \(i): \(d)"
            }
            i += 1
            it = json_object_iter_next(j, cur)
        }
        // The registered names, found by the parser's walk, are the members
        // jansson finds by name.
        for name in JOSEName.all {
            let text = name.text.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
            switch (o[name], json_object_get(j, text)) {
            case (nil, nil): continue
            case (let v?, let jv?):
                if let d = compareValue(v, jv, top: true) { return "registered \(text): \(d)" }
                guard o.index(of: name) == o.index(of: text) else { return "registered \(text): another member" }
            default: return "registered \(text) found by one reader only"
            }
        }
        return nil
    }

    static func kind(_ j: UnsafeMutablePointer<json_t>) -> UInt32 {
        switch j.pointee.type {
        case JSON_OBJECT: return UInt32(JOSEJSON_OBJECT.rawValue)
        case JSON_ARRAY: return UInt32(JOSEJSON_ARRAY.rawValue)
        case JSON_STRING: return UInt32(JOSEJSON_STRING.rawValue)
        case JSON_INTEGER: return UInt32(JOSEJSON_INTEGER.rawValue)
        case JSON_REAL: return UInt32(JOSEJSON_REAL.rawValue)
        case JSON_TRUE: return UInt32(JOSEJSON_TRUE.rawValue)
        case JSON_FALSE: return UInt32(JOSEJSON_FALSE.rawValue)
        default: return UInt32(JOSEJSON_NULL.rawValue)
        }
    }

    static func compareValue(_ v: JOSEValue, _ j: UnsafeMutablePointer<json_t>, top: Bool) -> String? {
        guard v.kind == kind(j) else { return "kind \(v.kind) vs \(kind(j))" }
        switch j.pointee.type {
        case JSON_STRING:
            let n = json_string_length(j), p = json_string_value(j)!
            let same = v.withStringBytes { b in b.count == n && (n == 0 || memcmp(b.baseAddress!, p, n) == 0) } ?? false
            return same ? nil : "string differs"
        case JSON_INTEGER:
            let x = Int64(json_integer_value(j))
            guard v.integerValue == x else { return "integer \(v.integerValue ?? 0) vs \(x)" }
            return v.numberValue == Double(x) ? nil : "integer as number differs"
        case JSON_REAL:
            let x = json_real_value(j)
            guard let mine = v.numberValue, mine.bitPattern == x.bitPattern else {
                return "real \(v.numberValue ?? .nan) vs \(x)"
            }
            return nil
        case JSON_TRUE, JSON_FALSE:
            return v.boolValue == (j.pointee.type == JSON_TRUE) ? nil : "boolean differs"
        case JSON_ARRAY:
            let n = json_array_size(j)
            guard v.count == n else { return "array size \(v.count) vs \(n)" }
            guard top else { return nil }
            let elements = v.elements
            guard elements.count == n else { return "\(elements.count) elements kept of \(n)" }
            for (k, e) in elements.enumerated() {
                if let d = compareValue(e, json_array_get(j, k), top: false) { return "element \(k): \(d)" }
            }
            return nil
        case JSON_OBJECT:
            return v.count == json_object_size(j) ? nil : "object size \(v.count) vs \(json_object_size(j))"
        default:
            return nil
        }
    }
}

/// A small deterministic generator (SplitMix64).
struct SeededRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

/// Mutations aimed at where the two readers could part: escapes, numbers at
/// the 64-bit edges, duplicate names, nesting around the cap, UTF-8 edges,
/// structure characters.
enum JSONMutator {
    static let fragments: [[UInt8]] = [
        #"\u0000"#, #"\u0001"#, #"\ud800"#, #"\udc00"#, #"\ud83d\ude00"#, #"\uD83D"#, #"\u00e9"#, #"\uffff"#,
        #"\""#, #"\\"#, #"\/"#, #"\b\f\n\r\t"#, #"\x"#, #"\u12"#, "\"", "\\",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "10000000000000000000", "12345678901234567890",
        "9999999999999999999", "[9223372036854775808]", "123456789012345678901234567890",
        "1e400", "-1e400", "1e-400", "4.9e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
        "-0", "-0.0", "0.1", "01", "-", "1.", ".5", "1e", "1E+2", "1e-2", "+1", "0x10", "NaN", "Infinity",
        "true", "false", "null", "tru", "nul", "[]", "{}", "[1,]", "{,}", ",", ":", "[", "]", "{", "}",
        #""a":1,"#, #""a":"#, #","a":2"#, #""":0,"#, #""sub":"x","#, #""aud":["a","b"],"#,
        " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}",
    ].map { Array($0.utf8) } + [
        [0x00], [0x01], [0x1F], [0x7F], [0x80], [0xBF], [0xC0, 0x80], [0xC2], [0xC3, 0xA9], [0xE2, 0x82, 0xAC],
        [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5], [0xFF],
        [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF],
    ]

    static func mutate(_ doc: [UInt8], _ r: inout SeededRandom) -> [UInt8] {
        var d = doc
        for _ in 0..<(1 + r.below(3)) {
            let at = r.below(d.count + 1)
            switch r.below(10) {
            case 0, 1:  // insert a fragment
                d.insert(contentsOf: fragments[r.below(fragments.count)], at: at)
            case 2:  // replace a byte by one of the JSON alphabet or any byte
                guard !d.isEmpty else { break }
                let alphabet = Array(#"{}[]",:\ 0123456789eE.-+tfnu"#.utf8)
                d[r.below(d.count)] = r.below(4) == 0 ? UInt8(truncatingIfNeeded: r.next()) : alphabet[r.below(alphabet.count)]
            case 3:  // delete a run
                guard !d.isEmpty else { break }
                let start = r.below(d.count)
                d.removeSubrange(start..<min(d.count, start + 1 + r.below(8)))
            case 4:  // repeat a run (duplicate members, doubled values)
                guard !d.isEmpty else { break }
                let start = r.below(d.count), end = min(d.count, start + 1 + r.below(40))
                d.insert(contentsOf: Array(d[start..<end]), at: r.below(d.count + 1))
            case 5:  // duplicate the first member after the opening brace
                if let open = d.firstIndex(of: UInt8(ascii: "{")), let comma = d[open...].firstIndex(of: UInt8(ascii: ",")) {
                    d.insert(contentsOf: Array(d[(open + 1)...comma]), at: open + 1)
                }
            case 6:  // wrap a value in arrays/objects around the depth cap
                let levels = JSONDifferential.maxDepth - 3 + r.below(6)
                if let colon = d.firstIndex(of: UInt8(ascii: ":")), let end = d[colon...].firstIndex(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") }) {
                    let useObjects = r.below(2) == 0
                    let open: [UInt8] = useObjects ? Array(#"{"k":"#.utf8) : [UInt8(ascii: "[")]
                    let close: [UInt8] = useObjects ? [UInt8(ascii: "}")] : [UInt8(ascii: "]")]
                    d.insert(contentsOf: Array(repeating: close, count: levels).joined(), at: end)
                    d.insert(contentsOf: Array(repeating: open, count: levels).joined(), at: colon + 1)
                }
            case 7:  // replace a number or a string body with a fragment
                if let i = d.indices.dropFirst(r.below(max(d.count, 1))).first(where: { (0x30...0x39).contains(d[$0]) || d[$0] == UInt8(ascii: "\"") }) {
                    var j = i + 1
                    while j < d.count, d[j] != UInt8(ascii: ","), d[j] != UInt8(ascii: "}"), d[j] != UInt8(ascii: "]"), d[j] != UInt8(ascii: "\"") { j += 1 }
                    d.replaceSubrange((i + (d[i] == UInt8(ascii: "\"") ? 1 : 0))..<j, with: fragments[r.below(fragments.count)])
                }
            case 8:  // truncate or append
                if r.below(2) == 0 { d.removeLast(min(d.count, 1 + r.below(4))) } else { d.append(contentsOf: fragments[r.below(fragments.count)]) }
            default:  // swap two bytes
                guard d.count > 1 else { break }
                d.swapAt(r.below(d.count), r.below(d.count))
            }
        }
        return d
    }
}
