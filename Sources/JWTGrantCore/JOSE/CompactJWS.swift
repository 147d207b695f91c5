import CJansson
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A compact JWS (RFC 7515 section 7.1), parsed and checked (shape,
/// base64url, JSON, header policy) but NOT verified. The header parameters
/// jku, x5u, jwk and x5c are never used: keys come only from the trusted
/// issuer's registration.
public struct CompactJWS {
    public static let defaultMaxLength = 32 * 1024

    public let header: JSONValue
    /// The claims (a JSON object). For the internal generic form
    /// (`payloadMustBeJSON: false`) a payload that is not a JSON object is null.
    public let payload: JSONValue
    public let algorithm: JWSAlgorithm
    /// The header "kid" when it is a string (its exact bytes).
    public let kid: Identifier?
    /// Token bytes [0, signingInputLength) are the JWS signing input.
    public let signingInputLength: Int
    /// Token bytes [0, headerLength) are the header segment; the payload
    /// segment lies between it and `signingInputLength`.
    public let headerLength: Int
    public let signature: [UInt8]

    /// Parses the whole compact serialization `token`. Throws:
    ///  .malformed — over `maxLength` (checked before any work), not exactly
    ///               3 segments (a 5-part JWE too), bad base64url, header or
    ///               payload not a JSON object, duplicate members, invalid
    ///               UTF-8, empty signature;
    ///  .algorithm — alg missing, "none" in any casing, HS*, unknown;
    ///  .header    — "crit" present (no extension is understood), "b64"
    ///               present, non-string "kid".
    public static func parse(_ token: UnsafeRawBufferPointer,
                             maxLength: Int = defaultMaxLength) throws(JWTGrantError) -> CompactJWS {
        try parse(token, maxLength: maxLength, payloadMustBeJSON: true)
    }

    /// `payloadMustBeJSON: false` admits any payload bytes (generic JWS test
    /// vectors whose payload is not a JWT); the engine always requires JSON.
    static func parse(_ token: UnsafeRawBufferPointer, maxLength: Int,
                      payloadMustBeJSON: Bool) throws(JWTGrantError) -> CompactJWS {
        let n = token.count
        guard n <= maxLength else {
            throw JWTGrantError(.malformed, "JWS is longer than \(maxLength) bytes")
        }
        // Exactly two dots.
        guard let base = token.baseAddress,
              let d1 = memchr(base, Int32(UInt8(ascii: ".")), n),
              let d2 = memchr(d1 + 1, Int32(UInt8(ascii: ".")), n - (UnsafeRawPointer(d1) - base) - 1) else {
            throw JWTGrantError(.malformed, "JWS must have exactly 3 segments")
        }
        let first = UnsafeRawPointer(d1) - base, second = UnsafeRawPointer(d2) - base
        if memchr(d2 + 1, Int32(UInt8(ascii: ".")), n - second - 1) != nil {
            throw JWTGrantError(.malformed, "JWS must have exactly 3 segments (a JWE is not accepted)")
        }
        guard first > 0 else { throw JWTGrantError(.malformed, "JWS header segment is empty") }

        guard let header = try decodeJSON(UnsafeRawBufferPointer(rebasing: token[0..<first]), what: "JWS header") else {
            throw JWTGrantError(.malformed, "JWS header must be a JSON object")
        }
        let (algorithm, kid) = try checkHeader(header)

        let payloadText = UnsafeRawBufferPointer(rebasing: token[(first + 1)..<second])
        let payload: JSONValue
        if payloadMustBeJSON {
            guard let p = try decodeJSON(payloadText, what: "JWS payload") else {
                throw JWTGrantError(.malformed, "JWS payload must be a JSON object")
            }
            payload = p
        } else if let p = try decodeJSON(payloadText, what: "JWS payload", lenient: true) {
            payload = p
        } else {
            guard Base64URL.decode(payloadText) != nil else {
                throw JWTGrantError(.malformed, "JWS payload is not base64url")
            }
            payload = JSONValue(taking: json_null())
        }

        let sigText = UnsafeRawBufferPointer(rebasing: token[(second + 1)..<n])
        guard !sigText.isEmpty else { throw JWTGrantError(.malformed, "JWS signature is empty") }
        guard let signature = Base64URL.decode(sigText) else {
            throw JWTGrantError(.malformed, "JWS signature is not base64url")
        }
        return CompactJWS(header: header, payload: payload, algorithm: algorithm, kid: kid,
                          signingInputLength: second, headerLength: first, signature: signature)
    }

    /// Decodes a segment and parses it as a JSON object. With `lenient`, a
    /// segment that is base64url but not a JSON object gives nil; otherwise
    /// that is a .malformed error naming the reader's complaint.
    private static func decodeJSON(_ text: UnsafeRawBufferPointer, what: StaticString,
                                   lenient: Bool = false) throws(JWTGrantError) -> JSONValue? {
        guard let length = Base64URL.decodedLength(text.count) else {
            throw JWTGrantError(.malformed, "\(what) is not base64url")
        }
        return try withUnsafeTemporaryAllocation(byteCount: max(length, 1), alignment: 1) {
            buf throws(JWTGrantError) -> JSONValue? in
            guard Base64URL.decode(text, into: buf) else {
                throw JWTGrantError(.malformed, "\(what) is not base64url")
            }
            // jansson reads every JSON document of the library: strict
            // (JSON_REJECT_DUPLICATES, valid UTF-8, nothing after the value).
            let value: JSONValue
            do throws(JWTGrantError) {
                value = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: buf[0..<length]), what: "\(what)",
                                            code: .malformed)
            } catch {
                if lenient { return nil }
                throw error
            }
            if !value.isObject {
                if lenient { return nil }
                throw JWTGrantError(.malformed, "\(what) must be a JSON object")
            }
            return value
        }
    }

    /// The header policy: alg, crit, b64, kid.
    private static func checkHeader(_ header: JSONValue) throws(JWTGrantError) -> (JWSAlgorithm, Identifier?) {
        guard let algRaw = json_object_get(header.raw, "alg") else {
            throw JWTGrantError(.algorithm, "JWS header has no \"alg\"")
        }
        guard algRaw.pointee.type == JSON_STRING, let algText = json_string_value(algRaw) else {
            throw JWTGrantError(.algorithm, "JWS \"alg\" must be a string")
        }
        let algBytes = UnsafeRawBufferPointer(start: algText, count: json_string_length(algRaw))
        guard let algorithm = JWSAlgorithm(bytes: algBytes) else {
            // The reason names the rule, never the value (token text).
            if algBytes.count == 4, zip(algBytes, "none".utf8).allSatisfy({ $0 | 0x20 == $1 }) {
                throw JWTGrantError(.algorithm, "unsecured JWS (alg none) is not accepted")
            }
            if algBytes.count >= 2, algBytes[0] == UInt8(ascii: "H"), algBytes[1] == UInt8(ascii: "S") {
                throw JWTGrantError(.algorithm, "HMAC algorithms (HS*) are not accepted for assertions")
            }
            throw JWTGrantError(.algorithm, "JWS alg is not supported")
        }
        if header.has("crit") {
            throw JWTGrantError(.header, "JWS \"crit\" names extensions this server does not understand")
        }
        if header.has("b64") {
            throw JWTGrantError(.header, "JWS \"b64\" (RFC 7797 unencoded payload) is not accepted")
        }
        var kid: Identifier? = nil
        if let k = json_object_get(header.raw, "kid") {
            guard k.pointee.type == JSON_STRING, let text = json_string_value(k) else {
                throw JWTGrantError(.header, "JWS \"kid\" must be a string")
            }
            kid = Identifier(bytes: UnsafeRawBufferPointer(start: text, count: json_string_length(k)))
        }
        return (algorithm, kid)
    }
}
