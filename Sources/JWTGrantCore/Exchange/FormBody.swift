#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A strictly parsed `application/x-www-form-urlencoded` body (the token
/// request, RFC 6749 section 4.5 / appendix B).
///
/// - pairs are separated by `&`, name and value by the first `=` (a pair
///   without `=` has an empty value); an empty pair or an empty name is an
///   error;
/// - `+` is a space, `%XX` is a byte; `%` not followed by two hex digits is an
///   error; decoded names and values must be UTF-8 without NUL;
/// - a parameter given twice is an error (RFC 6749 section 3.2), even with
///   an empty value;
/// - an empty value means the parameter is absent (RFC 6749 section 3.2);
///   unknown parameters are kept but ignored by the token endpoint.
///
/// Every error is `.invalidRequest` and names the parameter, never a value.
public struct FormBody: Sendable {
    /// What a token request body may hold besides the assertion (the other
    /// parameters, their names and separators), in bytes. The body limit of
    /// the token endpoint is `max_assertion_size` plus this allowance.
    public static let parameterAllowance = 32 * 1024

    /// The body limit for a largest assertion of `maxAssertionBytes`.
    public static func limit(forAssertionsOf maxAssertionBytes: Int) -> Int {
        maxAssertionBytes + parameterAllowance
    }

    /// The body limit with the default `max_assertion_size` (32768): 65536.
    public static let maxSize = limit(forAssertionsOf: 32 * 1024)

    // By the name's exact bytes; looked up with the caller's name borrowed
    // (ByteKey), so a lookup allocates nothing.
    private var parameters: [ByteKey: String]

    public init(parsing body: UnsafeRawBufferPointer, maxSize: Int = FormBody.maxSize) throws(JWTGrantError) {
        guard body.count <= maxSize else {
            throw JWTGrantError(.invalidRequest,
                                "request body is larger than \(maxSize) bytes (max_assertion_size + 32768)")
        }
        parameters = Dictionary(minimumCapacity: 8)
        guard !body.isEmpty else { return }
        var start = 0
        let n = body.count
        let base = body.baseAddress!   // not empty
        // memchr finds the separators (vectorised; the assertion is ~1 kB).
        func find(_ c: UInt8, from: Int, to: Int) -> Int {
            guard from < to, let p = memchr(base + from, Int32(c), to - from) else { return to }
            return UnsafeRawPointer(p) - base
        }
        while start <= n {
            let end = find(UInt8(ascii: "&"), from: start, to: n)
            guard end > start else { throw JWTGrantError(.invalidRequest, "request body has an empty parameter") }
            let eq = find(UInt8(ascii: "="), from: start, to: end)
            let name = try Self.decode(UnsafeRawBufferPointer(rebasing: body[start..<eq]), what: "a parameter name")
            guard !name.isEmpty else { throw JWTGrantError(.invalidRequest, "request body has a parameter without a name") }
            let value = eq < end
                ? try Self.decode(UnsafeRawBufferPointer(rebasing: body[(eq + 1)..<end]), what: Self.describe(name))
                : ""
            guard parameters.updateValue(value, forKey: ByteKey(Identifier(name))) == nil else {
                throw JWTGrantError(.invalidRequest, "\(Self.describe(name)) is repeated")
            }
            start = end + 1
        }
    }

    /// The parameters of a token request (RFC 6749 4.5, 2.3.1, 3.3; RFC 7521
    /// 4.2): the only names a message may repeat. A message never echoes a
    /// name the caller made up.
    static let knownNames: Set<Identifier> = ["grant_type", "assertion", "scope", "client_id", "client_secret",
                                              "client_assertion", "client_assertion_type"]

    /// "parameter \"scope\"" for a known name (compared byte for byte), else
    /// "a parameter" (the caller's text is not repeated).
    static func describe(_ name: String) -> String {
        let id = Identifier(name)
        guard knownNames.contains(id) else { return "a parameter" }
        return "parameter \"\(id.text)\""
    }

    /// The value of `name`, or nil when it is absent or empty.
    public subscript(name: String) -> String? {
        var name = name
        guard let v = name.withUTF8({ parameters[ByteKey(borrowing: UnsafeRawBufferPointer($0))] }), !v.isEmpty else {
            return nil
        }
        return v
    }

    /// Whether `name` was sent with a non-empty value.
    public func has(_ name: String) -> Bool { self[name] != nil }

    public var names: [String] { parameters.keys.map { $0.withBytes { String(decoding: $0, as: UTF8.self) } } }

    // MARK: decoding

    /// Form-urldecodes `bytes` (`+` is space, `%XX` a byte) and requires
    /// UTF-8 without NUL. `what` is built only for the error message.
    static func decode(_ bytes: UnsafeRawBufferPointer, what: @autoclosure () -> String) throws(JWTGrantError) -> String {
        guard let s = decodeComponent(bytes) else {
            throw JWTGrantError(.invalidRequest, "\(what()) is not correctly form-urlencoded UTF-8")
        }
        return s
    }

    /// Form-urldecodes `bytes`; nil on a bad escape, a NUL or invalid UTF-8.
    /// One pass into a temporary buffer; UTF-8 is validated only when a
    /// non-ASCII byte was seen (token requests are ASCII in practice).
    static func decodeComponent(_ bytes: UnsafeRawBufferPointer) -> String? {
        let n = bytes.count
        guard let base = bytes.baseAddress, n > 0 else { return "" }
        // Fast path (the assertion, most values): nothing to decode, so the
        // bytes only need to be UTF-8 without NUL. memchr is vectorised.
        if memchr(base, 0x25, n) == nil && memchr(base, 0x2B, n) == nil {
            guard memchr(base, 0, n) == nil else { return nil }
            return String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { out -> String? in
            var i = 0, j = 0
            var ascii = true
            while i < n {
                var c = bytes[i]
                if c == UInt8(ascii: "+") {
                    c = 0x20
                    i += 1
                } else if c == UInt8(ascii: "%") {
                    guard i + 2 < n, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else { return nil }
                    c = hi << 4 | lo
                    i += 3
                } else {
                    i += 1
                }
                if c == 0 { return nil }
                if c >= 0x80 { ascii = false }
                out.initializeElement(at: j, to: c)
                j += 1
            }
            let decoded = UnsafeBufferPointer(rebasing: out[0..<j])
            return ascii ? String(decoding: decoded, as: UTF8.self) : String(validating: decoded, as: UTF8.self)
        }
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// A parameter name for a message: quoted, at most 40 characters, no controls.
}
