import CJansson

/// An owned reference to a jansson value (`json_t`). All JSON in the engine
/// goes through jansson; this class keeps the raw pointer close and drops
/// the reference in `deinit`.
public final class JSONValue: @unchecked Sendable {
    /// The jansson value; one reference is owned by this object.
    public let raw: UnsafeMutablePointer<json_t>

    /// Takes over one reference of `raw` (a "new reference" in jansson terms).
    public init(taking raw: UnsafeMutablePointer<json_t>) { self.raw = raw }

    /// Adds a reference to a borrowed `raw`.
    public init(borrowing raw: UnsafeMutablePointer<json_t>) {
        self.raw = json_incref(raw)!
    }

    deinit { json_decref(raw) }

    // MARK: parsing

    /// Parses a JSON text strictly: duplicate object members are rejected,
    /// invalid UTF-8 is rejected, nothing may follow the value.
    /// - Parameter what: names the document in the error ("JWS header").
    public static func parse(_ bytes: UnsafeRawBufferPointer, what: String,
                             code: ErrorCode = .invalidArgument) throws(JWTGrantError) -> JSONValue {
        var err = json_error_t()
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        let flags = Int(JSON_REJECT_DUPLICATES) | Int(JSON_DECODE_ANY)
        guard let v = json_loadb(base.assumingMemoryBound(to: CChar.self), bytes.count, flags, &err) else {
            let line = err.line, column = err.column
            let text = withUnsafeBytes(of: err.text) { buf -> String in
                let b = buf.bindMemory(to: UInt8.self)
                let n = b.firstIndex(of: 0) ?? b.count
                return String(decoding: UnsafeBufferPointer(rebasing: b[0..<n]), as: UTF8.self)
            }
            // jansson quotes the offending input after " near "; that may be a
            // secret or a token, so only the kind of error is kept.
            // Other messages quote input too ("invalid Unicode '\\uD800'"):
            // the reason stops before the first quote.
            var reason = Substring(text)
            if let r = reason.firstRange(of: " near ") { reason = reason[..<r.lowerBound] }
            if let q = reason.firstIndex(of: "'") {
                reason = reason[..<q]
                while reason.last == " " { reason = reason.dropLast() }
                if reason.isEmpty { reason = "invalid syntax" }
            }
            throw JWTGrantError(code, "\(what) is not valid JSON (line \(line), column \(column)): \(reason)")
        }
        return JSONValue(taking: v)
    }

    public static func parse(_ text: String, what: String,
                             code: ErrorCode = .invalidArgument) throws(JWTGrantError) -> JSONValue {
        var text = text
        return try text.withUTF8 { buf in
            Result { () throws(JWTGrantError) -> JSONValue in
                try parse(UnsafeRawBufferPointer(buf), what: what, code: code)
            }
        }.get()
    }

    /// Parses and requires a JSON object at the top level.
    public static func parseObject(_ bytes: UnsafeRawBufferPointer, what: String,
                                   code: ErrorCode = .invalidArgument) throws(JWTGrantError) -> JSONValue {
        let v = try parse(bytes, what: what, code: code)
        guard v.isObject else { throw JWTGrantError(code, "\(what) must be a JSON object") }
        return v
    }

    public static func parseObject(_ text: String, what: String,
                                   code: ErrorCode = .invalidArgument) throws(JWTGrantError) -> JSONValue {
        let v = try parse(text, what: what, code: code)
        guard v.isObject else { throw JWTGrantError(code, "\(what) must be a JSON object") }
        return v
    }

    // MARK: construction

    public static func object() -> JSONValue { JSONValue(taking: json_object()) }
    public static func array() -> JSONValue { JSONValue(taking: json_array()) }
    public static func string(_ s: String) -> JSONValue {
        var s = s
        return s.withUTF8 { b in
            JSONValue(taking: json_stringn_nocheck(UnsafeRawPointer(b.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                .assumingMemoryBound(to: CChar.self), b.count))
        }
    }
    public static func integer(_ i: Int64) -> JSONValue { JSONValue(taking: json_integer(json_int_t(i))) }
    public static func real(_ d: Double) -> JSONValue { JSONValue(taking: json_real(d)) }
    public static func bool(_ b: Bool) -> JSONValue { JSONValue(taking: b ? json_true() : json_false()) }

    /// Sets `key` of an object (no-op on a non-object).
    public func set(_ key: String, _ value: JSONValue) {
        _ = json_object_set(raw, key, value.raw)
    }

    /// Appends to an array (no-op on a non-array).
    public func append(_ value: JSONValue) {
        _ = json_array_append(raw, value.raw)
    }

    /// Removes `key` from an object.
    public func remove(_ key: String) { _ = json_object_del(raw, key) }

    /// A shallow copy (members shared).
    public func copy() -> JSONValue? {
        guard let c = json_copy(raw) else { return nil }
        return JSONValue(taking: c)
    }

    // MARK: inspection

    public var type: json_type { raw.pointee.type }
    public var isObject: Bool { type == JSON_OBJECT }
    public var isArray: Bool { type == JSON_ARRAY }
    public var isString: Bool { type == JSON_STRING }
    public var isInteger: Bool { type == JSON_INTEGER }
    public var isReal: Bool { type == JSON_REAL }
    public var isNumber: Bool { type == JSON_INTEGER || type == JSON_REAL }
    public var isBool: Bool { type == JSON_TRUE || type == JSON_FALSE }
    public var isNull: Bool { type == JSON_NULL }

    /// The member `key` of an object, or nil (also nil for a non-object).
    public subscript(key: String) -> JSONValue? {
        guard let v = json_object_get(raw, key) else { return nil }
        return JSONValue(borrowing: v)
    }

    /// Whether an object has the member `key`.
    public func has(_ key: String) -> Bool { json_object_get(raw, key) != nil }

    /// The string value (embedded NULs kept), or nil for a non-string.
    public var stringValue: String? {
        guard isString, let p = json_string_value(raw) else { return nil }
        let n = json_string_length(raw)
        return p.withMemoryRebound(to: UInt8.self, capacity: n) {
            String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
        }
    }

    /// The string's UTF-8 bytes without copying, for hot paths.
    public func withStringBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T? {
        guard isString, let p = json_string_value(raw) else { return nil }
        return try body(UnsafeRawBufferPointer(start: p, count: json_string_length(raw)))
    }

    /// Whether this is a string equal to `s` byte for byte.
    public func stringEquals(_ s: String) -> Bool {
        guard isString, let p = json_string_value(raw) else { return false }
        let n = json_string_length(raw)
        var s = s
        return s.withUTF8 { b in
            b.count == n && (n == 0 || memcmp(p, b.baseAddress!, n) == 0)
        }
    }

    /// The number value of an integer or real, or nil.
    public var numberValue: Double? { isNumber ? json_number_value(raw) : nil }

    /// The integer value, or nil for anything but a JSON integer.
    public var integerValue: Int64? { isInteger ? Int64(json_integer_value(raw)) : nil }

    public var boolValue: Bool? { isBool ? (type == JSON_TRUE) : nil }

    /// The elements of an array (empty for a non-array).
    public var elements: [JSONValue] {
        guard isArray else { return [] }
        let n = json_array_size(raw)
        var out: [JSONValue] = []
        out.reserveCapacity(n)
        for i in 0..<n { if let e = json_array_get(raw, i) { out.append(JSONValue(borrowing: e)) } }
        return out
    }

    public var count: Int {
        if isArray { return json_array_size(raw) }
        if isObject { return json_object_size(raw) }
        return 0
    }

    /// The member names of an object, in document order.
    public var keys: [String] {
        guard isObject else { return [] }
        var out: [String] = []
        var it = json_object_iter(raw)
        while let i = it {
            if let k = json_object_iter_key(i) { out.append(String(cString: k)) }
            it = json_object_iter_next(raw, i)
        }
        return out
    }

    // MARK: output

    /// Compact JSON text, members in insertion order.
    public func serialized() -> String {
        guard let p = json_dumps(raw, JSON_COMPACT_FLAGS) else { return "null" }
        defer { free(p) }
        return String(cString: p)
    }

    /// Compact JSON text in memory from malloc (what `jwtgrant_free`
    /// releases, whatever allocator a host set for jansson), or nil when out
    /// of memory. Small documents are written once, through a stack buffer.
    public func serializedCString() -> UnsafeMutablePointer<CChar>? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { stack -> UnsafeMutablePointer<CChar>? in
            let size = json_dumpb(raw, stack.baseAddress, stack.count, JSON_COMPACT_FLAGS)
            guard size > 0, let out = malloc(size + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
            if size <= stack.count {
                memcpy(out, stack.baseAddress!, size)
            } else if json_dumpb(raw, out, size, JSON_COMPACT_FLAGS) != size {
                free(out)
                return nil
            }
            out[size] = 0
            return out
        }
    }
}

/// `JSON_COMPACT | JSON_ENCODE_ANY`; order of insertion is kept by jansson >= 2.8.
public let JSON_COMPACT_FLAGS: Int = Int(JSON_COMPACT) | Int(JSON_ENCODE_ANY)

#if canImport(Glibc)
import Glibc
#endif
