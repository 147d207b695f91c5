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
    /// The largest body accepted, in bytes.
    public static let maxSize = 64 * 1024

    private var parameters: [String: String]

    public init(parsing body: UnsafeRawBufferPointer) throws(JWTGrantError) {
        guard body.count <= Self.maxSize else {
            throw JWTGrantError(.invalidRequest, "request body is larger than \(Self.maxSize) bytes")
        }
        parameters = [:]
        guard !body.isEmpty else { return }
        var start = 0
        let n = body.count
        while start <= n {
            var end = start
            while end < n && body[end] != UInt8(ascii: "&") { end += 1 }
            guard end > start else { throw JWTGrantError(.invalidRequest, "request body has an empty parameter") }
            var eq = start
            while eq < end && body[eq] != UInt8(ascii: "=") { eq += 1 }
            let name = try Self.decode(UnsafeRawBufferPointer(rebasing: body[start..<eq]), what: "a parameter name")
            guard !name.isEmpty else { throw JWTGrantError(.invalidRequest, "request body has a parameter without a name") }
            let value = eq < end
                ? try Self.decode(UnsafeRawBufferPointer(rebasing: body[(eq + 1)..<end]), what: "parameter \(Self.printable(name))")
                : ""
            guard parameters.updateValue(value, forKey: name) == nil else {
                throw JWTGrantError(.invalidRequest, "parameter \(Self.printable(name)) is repeated")
            }
            start = end + 1
        }
    }

    /// The value of `name`, or nil when it is absent or empty.
    public subscript(name: String) -> String? {
        guard let v = parameters[name], !v.isEmpty else { return nil }
        return v
    }

    /// Whether `name` was sent with a non-empty value.
    public func has(_ name: String) -> Bool { self[name] != nil }

    public var names: [String] { Array(parameters.keys) }

    // MARK: decoding

    /// Form-urldecodes `bytes` (`+` is space, `%XX` a byte) and requires
    /// UTF-8 without NUL.
    static func decode(_ bytes: UnsafeRawBufferPointer, what: String) throws(JWTGrantError) -> String {
        guard let s = decodeComponent(bytes) else {
            throw JWTGrantError(.invalidRequest, "\(what) is not correctly form-urlencoded UTF-8")
        }
        return s
    }

    /// Form-urldecodes `bytes`; nil on a bad escape, a NUL or invalid UTF-8.
    static func decodeComponent(_ bytes: UnsafeRawBufferPointer) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "+"):
                out.append(0x20)
                i += 1
            case UInt8(ascii: "%"):
                guard i + 2 < n, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 3
            default:
                out.append(c)
                i += 1
            }
        }
        guard !out.contains(0) else { return nil }
        return String(validating: out, as: UTF8.self)
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
    static func printable(_ name: String) -> String {
        let scalars = name.unicodeScalars.prefix(40).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }
        return "\"" + String(String.UnicodeScalarView(scalars)) + "\""
    }
}
