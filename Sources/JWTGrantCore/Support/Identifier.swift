#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An identifier compared and hashed as bytes: iss, aud values, sub, jti,
/// kid, alg, typ, kty, crv, use, key_ops, client_id, issuer names, grant
/// types, scope tokens, form parameter names.
///
/// RFC 7515 / 7519 compare these strings exactly (code unit for code unit).
/// Swift's `String` `==` and hashing are Unicode canonical equivalence
/// ("caf\u{E9}" == "cafe\u{301}", "\u{212A}" == "K"), so an identifier is
/// never held in a `String` where it is compared or used as a dictionary or
/// set key: it is this type, built from the exact bytes (JSON strings through
/// `JSONValue.identifier`, C strings through their UTF-8). A source scan
/// (IdentifierDisciplineTests) refuses `String`-keyed dictionaries and sets
/// in the engine.
public struct Identifier: Hashable, Sendable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(bytes: UnsafeRawBufferPointer) { self.bytes = Array(bytes) }
    /// The exact UTF-8 bytes of `text` (Swift keeps them as given).
    public init(_ text: String) { self.bytes = Array(text.utf8) }
    public init(stringLiteral value: StaticString) {
        self.bytes = value.withUTF8Buffer { Array($0) }
    }

    public static func == (a: Identifier, b: Identifier) -> Bool { a.bytes == b.bytes }
    public func hash(into h: inout Hasher) { bytes.withUnsafeBytes { h.combine(bytes: $0) } }
    /// Byte-wise lexicographic order (listings).
    public static func < (a: Identifier, b: Identifier) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    /// The text for output (JSON, messages of the server's own values); never
    /// for comparison.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    public var description: String { text }
    public var isEmpty: Bool { bytes.isEmpty }

    /// Whether the raw bytes `other` equal this identifier.
    public func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        other.count == bytes.count && bytes.withUnsafeBytes { $0.elementsEqual(other) }
    }
}

extension JSONValue {
    /// The identifier of a JSON string (its exact bytes), nil for a non-string.
    public var identifier: Identifier? { withStringBytes { Identifier(bytes: $0) } }
}

extension JOSEValue {
    /// The identifier of a string member (its exact unescaped bytes), nil
    /// for a non-string.
    public var identifier: Identifier? { withStringBytes { Identifier(bytes: $0) } }
}

/// A dictionary key over exact bytes that can also be probed with borrowed
/// bytes, so that a lookup by a token's value (its `iss`) allocates nothing.
/// Stored keys are always `owned`; a `borrowed` key exists only for the
/// duration of one lookup (the bytes it points at outlive it). Hashes and
/// compares byte for byte, like `Identifier`.
/// Sendable: a stored key owns an immutable array; a borrowed probe never
/// leaves the lookup that made it.
struct ByteKey: Hashable, @unchecked Sendable {
    private enum Storage {
        case owned([UInt8])
        case borrowed(UnsafeRawBufferPointer)
    }
    private let storage: Storage

    init(_ id: Identifier) { storage = .owned(id.bytes) }
    /// A probe over `bytes`; use it only while `bytes` is valid, never store it.
    init(borrowing bytes: UnsafeRawBufferPointer) { storage = .borrowed(bytes) }

    @inline(__always)
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        switch storage {
        case .owned(let a): return a.withUnsafeBytes(body)
        case .borrowed(let b): return body(b)
        }
    }

    static func == (a: ByteKey, b: ByteKey) -> Bool {
        a.withBytes { x in
            b.withBytes { y in
                guard x.count == y.count else { return false }
                guard x.count > 0 else { return true }
                guard let xb = x.baseAddress, let yb = y.baseAddress else { return false }
                return memcmp(xb, yb, x.count) == 0
            }
        }
    }

    func hash(into h: inout Hasher) { withBytes { h.combine(bytes: $0) } }
}
