import CJOSEJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A JWS header or JWT claims set as the verification pipeline reads it,
/// parsed by simdjson through `CJOSEJSON` (the hot path's reader; jansson
/// reads the JSON that crosses the C boundary). As strict as jansson with
/// `JSON_REJECT_DUPLICATES`, and nesting is capped at 32 levels.
///
/// Holds the root's kind, the top-level members (name, kind, value) and the
/// elements of top-level arrays; nothing deeper. Immutable, so shareable.
/// Names and strings are bytes: compare them with `withStringBytes` /
/// `stringEquals`, which compare byte for byte.
public final class JOSEObject: @unchecked Sendable {
    /// nil for `JOSEObject.null` (a payload that is not JSON, generic JWS only).
    let doc: UnsafeMutablePointer<josejson_doc>?

    private init(doc: UnsafeMutablePointer<josejson_doc>?) { self.doc = doc }

    deinit { josejson_free(doc) }

    /// The JSON null document.
    public static var null: JOSEObject { JOSEObject(doc: nil) }

    /// Bytes that must be readable after a document handed to `parse(padded:length:)`.
    public static let padding = Int(JOSEJSON_PADDING)

    /// Parses `length` bytes at `padded`, which must have `padding` more
    /// readable bytes after them. The error names the rule broken, never the input.
    public static func parse(padded: UnsafeRawPointer, length: Int) -> Result<JOSEObject, JOSEJSONError> {
        var out: UnsafeMutablePointer<josejson_doc>? = nil
        let status = josejson_parse(padded.assumingMemoryBound(to: UInt8.self), length, &out)
        guard status == Int32(JOSEJSON_OK.rawValue), let out else { return .failure(JOSEJSONError(status: status)) }
        return .success(JOSEObject(doc: out))
    }

    /// Parses a document from an unpadded buffer (copies it; for tests and
    /// cold paths).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JOSEObject, JOSEJSONError> {
        withUnsafeTemporaryAllocation(byteCount: bytes.count + padding, alignment: 16) { buf in
            buf.initializeMemory(as: UInt8.self, repeating: 0)
            if let base = bytes.baseAddress, !bytes.isEmpty { buf.baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
            return parse(padded: UnsafeRawPointer(buf.baseAddress!), length: bytes.count)
        }
    }

    /// Parses `text` and requires a JSON object (the JSONValue counterpart).
    public static func parseObject(_ text: String, what: String,
                                   code: ErrorCode = .malformed) throws(JWTGrantError) -> JOSEObject {
        var text = text
        let result = text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
        switch result {
        case .success(let v):
            guard v.isObject else { throw JWTGrantError(code, "\(what) must be a JSON object") }
            return v
        case .failure(let e):
            throw JWTGrantError(code, "\(what) is not valid JSON: \(e.reason)")
        }
    }

    // MARK: the root

    var rootKind: UInt32 { doc?.pointee.root_kind ?? UInt32(JOSEJSON_NULL.rawValue) }
    public var isObject: Bool { rootKind == UInt32(JOSEJSON_OBJECT.rawValue) }
    public var isNull: Bool { rootKind == UInt32(JOSEJSON_NULL.rawValue) }

    /// The number of top-level members (0 unless an object).
    public var count: Int { Int(doc?.pointee.member_count ?? 0) }

    @inline(__always) func entry(_ i: Int) -> UnsafePointer<josejson_entry> { doc!.pointee.entries + i }

    @inline(__always) func bytes(_ offset: UInt32, _ length: UInt32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: UnsafeRawPointer(doc!.pointee.bytes + Int(offset)), count: Int(length))
    }

    /// The document text as parsed (the decoded segment), valid inside `body`.
    public func withSourceText<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        guard let doc else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: doc.pointee.source, count: doc.pointee.source_length))
    }

    /// The index of the member named `name` (bytes), or nil. Names are
    /// short: lengths first, then the bytes in a plain loop.
    func index(of name: UnsafeRawBufferPointer) -> Int? {
        guard let doc else { return nil }
        let n = Int(doc.pointee.member_count), count = name.count
        let names = UnsafeRawPointer(doc.pointee.bytes!)
        var e = doc.pointee.entries!
        outer: for i in 0..<n {
            defer { e += 1 }
            guard Int(e.pointee.name_length) == count else { continue }
            let candidate = names + Int(e.pointee.name_offset)
            for k in 0..<count where candidate.load(fromByteOffset: k, as: UInt8.self) != name[k] { continue outer }
            return i
        }
        return nil
    }

    /// The index of the registered member `name`, or nil: noted by the
    /// parser during its walk (`josejson_doc.registered`), so no search.
    @inline(__always)
    func index(of name: JOSEName) -> Int? {
        guard let doc else { return nil }
        let r = Int(josejson_registered(doc, name.raw))
        return r > 0 ? r - 1 : nil
    }

    /// The top-level member `name` (a registered name), or nil.
    public subscript(name: JOSEName) -> JOSEValue? {
        guard let i = index(of: name) else { return nil }
        return JOSEValue(object: self, index: i)
    }

    /// Whether the object has the registered top-level member `name`.
    public func has(_ name: JOSEName) -> Bool { index(of: name) != nil }

    func index(of name: String) -> Int? {
        if let i = name.utf8.withContiguousStorageIfAvailable({ index(of: UnsafeRawBufferPointer($0)) }) { return i }
        var name = name
        return name.withUTF8 { index(of: UnsafeRawBufferPointer($0)) }
    }

    /// The top-level member `key`, or nil.
    public subscript(key: String) -> JOSEValue? {
        guard let i = index(of: key) else { return nil }
        return JOSEValue(object: self, index: i)
    }

    /// Whether the object has the top-level member `key`.
    public func has(_ key: String) -> Bool { index(of: key) != nil }

    /// The member names, in document order.
    public var keys: [String] {
        (0..<count).map { i in
            let e = entry(i)
            return String(decoding: bytes(e.pointee.name_offset, e.pointee.name_length), as: UTF8.self)
        }
    }

    /// The member name of entry `i` as bytes, valid while `self` lives.
    func withName<T>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let e = entry(i)
        return try body(bytes(e.pointee.name_offset, e.pointee.name_length))
    }

    /// All members, in document order.
    public var members: [(name: String, value: JOSEValue)] {
        (0..<count).map { i in (withName(i) { String(decoding: $0, as: UTF8.self) }, JOSEValue(object: self, index: i)) }
    }
}

/// A registered name the verification pipeline reads (JWS header
/// parameters, JWT claims, "_issuer_name"): looked up in a `JOSEObject`
/// without a search (`JOSEObject[_: JOSEName]`). `text` is the name itself.
public struct JOSEName: Sendable {
    let raw: Int32
    public let text: StaticString

    private init(_ raw: josejson_name, _ text: StaticString) {
        self.raw = Int32(raw.rawValue)
        self.text = text
    }

    public static let alg = JOSEName(JOSEJSON_NAME_ALG, "alg")
    public static let kid = JOSEName(JOSEJSON_NAME_KID, "kid")
    public static let crit = JOSEName(JOSEJSON_NAME_CRIT, "crit")
    public static let b64 = JOSEName(JOSEJSON_NAME_B64, "b64")
    public static let iss = JOSEName(JOSEJSON_NAME_ISS, "iss")
    public static let sub = JOSEName(JOSEJSON_NAME_SUB, "sub")
    public static let aud = JOSEName(JOSEJSON_NAME_AUD, "aud")
    public static let exp = JOSEName(JOSEJSON_NAME_EXP, "exp")
    public static let nbf = JOSEName(JOSEJSON_NAME_NBF, "nbf")
    public static let iat = JOSEName(JOSEJSON_NAME_IAT, "iat")
    public static let jti = JOSEName(JOSEJSON_NAME_JTI, "jti")
    public static let issuerName = JOSEName(JOSEJSON_NAME_ISSUER_NAME, "_issuer_name")

    /// Every registered name (tests hold the parser's table to this list).
    public static let all: [JOSEName] = [.alg, .kid, .crit, .b64, .iss, .sub, .aud, .exp, .nbf, .iat, .jti, .issuerName]
}

/// Why a document was refused (`reason` is fixed text, never input).
public struct JOSEJSONError: Error, Sendable, Equatable {
    public let status: Int32
    public var reason: String { String(cString: josejson_reason(status)) }
}

/// A top-level member of a `JOSEObject`, or an element of a top-level array.
/// Nested arrays and objects carry only their kind and size.
public struct JOSEValue {
    let object: JOSEObject
    let index: Int

    @inline(__always) var entry: UnsafePointer<josejson_entry> { object.entry(index) }
    var kind: UInt32 { entry.pointee.kind }

    public var isString: Bool { kind == UInt32(JOSEJSON_STRING.rawValue) }
    public var isArray: Bool { kind == UInt32(JOSEJSON_ARRAY.rawValue) }
    public var isObject: Bool { kind == UInt32(JOSEJSON_OBJECT.rawValue) }
    public var isInteger: Bool { kind == UInt32(JOSEJSON_INTEGER.rawValue) }
    public var isReal: Bool { kind == UInt32(JOSEJSON_REAL.rawValue) }
    public var isNumber: Bool { isInteger || isReal }
    public var isBool: Bool { kind == UInt32(JOSEJSON_TRUE.rawValue) || kind == UInt32(JOSEJSON_FALSE.rawValue) }
    public var isNull: Bool { kind == UInt32(JOSEJSON_NULL.rawValue) }

    /// The string's unescaped UTF-8 bytes without copying (valid inside
    /// `body`), or nil for a non-string.
    public func withStringBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T? {
        guard isString else { return nil }
        let e = entry
        return try body(object.bytes(e.pointee.offset, e.pointee.length))
    }

    /// The string value, or nil for a non-string.
    public var stringValue: String? { withStringBytes { String(decoding: $0, as: UTF8.self) } }

    /// Whether this is a string equal to `s` byte for byte.
    public func stringEquals(_ s: String) -> Bool {
        withStringBytes { mine -> Bool in
            func same(_ other: UnsafeRawBufferPointer) -> Bool {
                other.count == mine.count && (mine.count == 0 || memcmp(mine.baseAddress!, other.baseAddress!, mine.count) == 0)
            }
            if let r = s.utf8.withContiguousStorageIfAvailable({ same(UnsafeRawBufferPointer($0)) }) { return r }
            var s = s
            return s.withUTF8 { same(UnsafeRawBufferPointer($0)) }
        } ?? false
    }

    /// The value of an integer or real, or nil.
    public var numberValue: Double? {
        switch kind {
        case UInt32(JOSEJSON_INTEGER.rawValue): return Double(entry.pointee.value.integer)
        case UInt32(JOSEJSON_REAL.rawValue): return entry.pointee.value.real
        default: return nil
        }
    }

    /// The integer value, or nil for anything but a JSON integer.
    public var integerValue: Int64? { isInteger ? entry.pointee.value.integer : nil }

    public var boolValue: Bool? { isBool ? kind == UInt32(JOSEJSON_TRUE.rawValue) : nil }

    /// The size of an array or object (0 otherwise).
    public var count: Int { isArray || isObject ? Int(entry.pointee.length) : 0 }

    /// The elements of a top-level array (empty for anything else, and for
    /// arrays nested deeper, whose elements are not kept).
    public var elements: [JOSEValue] {
        guard isArray, index < object.count else { return [] }
        let first = Int(entry.pointee.offset), n = Int(entry.pointee.length)
        return (first..<(first + n)).map { JOSEValue(object: object, index: $0) }
    }
}
