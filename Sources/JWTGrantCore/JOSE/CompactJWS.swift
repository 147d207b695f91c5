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

    /// The header parameters (read by simdjson, see `JOSEObject`).
    public let header: JOSEObject
    /// The claims (a JSON object). For the internal generic form
    /// (`payloadMustBeJSON: false`) a payload that is not a JSON object is null.
    public let payload: JOSEObject
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

    /// `parse`, with the header of a segment seen before taken from
    /// `headers` (the validator's; see `HeaderCache`) and a new accepted one
    /// stored there. The outcome is the same as without.
    static func parse(_ token: UnsafeRawBufferPointer, maxLength: Int,
                      headers: HeaderCache) throws(JWTGrantError) -> CompactJWS {
        try parse(token, maxLength: maxLength, payloadMustBeJSON: true, headers: headers)
    }

    /// `payloadMustBeJSON: false` admits any payload bytes (generic JWS test
    /// vectors whose payload is not a JWT); the engine always requires JSON.
    static func parse(_ token: UnsafeRawBufferPointer, maxLength: Int,
                      payloadMustBeJSON: Bool, headers: HeaderCache? = nil) throws(JWTGrantError) -> CompactJWS {
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

        let headerText = UnsafeRawBufferPointer(rebasing: token[0..<first])
        let header: JOSEObject, algorithm: JWSAlgorithm, kid: Identifier?
        if let known = headers?.lookup(headerText) {
            // The same segment as a header accepted before: the same result.
            (header, algorithm, kid) = (known.header, known.algorithm, known.kid)
        } else {
            guard let h = try decodeJSON(headerText, what: "JWS header") else {
                throw JWTGrantError(.malformed, "JWS header must be a JSON object")
            }
            header = h
            (algorithm, kid) = try checkHeader(header)
            headers?.store(headerText, HeaderCache.Parsed(header: header, algorithm: algorithm, kid: kid))
        }

        let payloadText = UnsafeRawBufferPointer(rebasing: token[(first + 1)..<second])
        let payload: JOSEObject
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
            payload = .null
        }

        let sigText = UnsafeRawBufferPointer(rebasing: token[(second + 1)..<n])
        guard !sigText.isEmpty else { throw JWTGrantError(.malformed, "JWS signature is empty") }
        guard let signature = Base64URL.decode(sigText) else {
            throw JWTGrantError(.malformed, "JWS signature is not base64url")
        }
        return CompactJWS(header: header, payload: payload, algorithm: algorithm, kid: kid,
                          signingInputLength: second, headerLength: first, signature: signature)
    }

    /// Decodes a segment and parses it as a JSON object (simdjson through
    /// `JOSEObject`; the base64url decoder writes into a buffer padded for
    /// it, on the stack for ordinary sizes). With `lenient`, a segment that is
    /// base64url but not a JSON object gives nil; otherwise that is a
    /// .malformed error naming the rule broken (never the input).
    private static func decodeJSON(_ text: UnsafeRawBufferPointer, what: StaticString,
                                   lenient: Bool = false) throws(JWTGrantError) -> JOSEObject? {
        guard let length = Base64URL.decodedLength(text.count) else {
            throw JWTGrantError(.malformed, "\(what) is not base64url")
        }
        return try withUnsafeTemporaryAllocation(byteCount: length + JOSEObject.padding, alignment: 16) {
            buf throws(JWTGrantError) -> JOSEObject? in
            guard Base64URL.decode(text, into: UnsafeMutableRawBufferPointer(rebasing: buf[0..<length])) else {
                throw JWTGrantError(.malformed, "\(what) is not base64url")
            }
            // The padding is only read past the end by simdjson's vector
            // loads; zero it so that nothing uninitialised is touched.
            (buf.baseAddress! + length).initializeMemory(as: UInt8.self, repeating: 0, count: JOSEObject.padding)
            let value: JOSEObject
            switch JOSEObject.parse(padded: UnsafeRawPointer(buf.baseAddress!), length: length) {
            case .success(let v): value = v
            case .failure(let e):
                if lenient { return nil }
                throw JWTGrantError(.malformed, "\(what) is not valid JSON: \(e.reason)")
            }
            if !value.isObject {
                if lenient { return nil }
                throw JWTGrantError(.malformed, "\(what) must be a JSON object")
            }
            return value
        }
    }

    /// A segment of `token` (the header: 0, the payload: 1) read by jansson,
    /// for callers at the C boundary that hand a `json_t` out. The segment was
    /// accepted by `parse`, so jansson accepts it too (the differential test
    /// holds the two readers to the same verdicts).
    public func segmentJSON(_ token: UnsafeRawBufferPointer, payload: Bool) throws(JWTGrantError) -> JSONValue {
        let range = payload ? (headerLength + 1)..<signingInputLength : 0..<headerLength
        let text = UnsafeRawBufferPointer(rebasing: token[range])
        guard let decoded = Base64URL.decode(text) else { throw JWTGrantError(.malformed, "JWS segment is not base64url") }
        return try JSONValue.parse(decoded, what: payload ? "JWS payload" : "JWS header", code: .malformed)
    }

    /// The header policy: alg, crit, b64, kid.
    private static func checkHeader(_ header: JOSEObject) throws(JWTGrantError) -> (JWSAlgorithm, Identifier?) {
        guard let alg = header[.alg] else {
            throw JWTGrantError(.algorithm, "JWS header has no \"alg\"")
        }
        guard let parsed = alg.withStringBytes({ JWSAlgorithm(bytes: $0) }) else {
            throw JWTGrantError(.algorithm, "JWS \"alg\" must be a string")
        }
        guard let algorithm = parsed else {
            // The reason names the rule, never the value (token text).
            let isNone = alg.withStringBytes { b in
                b.count == 4 && zip(b, "none".utf8).allSatisfy { $0 | 0x20 == $1 }
            } ?? false
            let isHMAC = alg.withStringBytes { b in
                b.count >= 2 && b[0] == UInt8(ascii: "H") && b[1] == UInt8(ascii: "S")
            } ?? false
            if isNone {
                throw JWTGrantError(.algorithm, "unsecured JWS (alg none) is not accepted")
            }
            if isHMAC {
                throw JWTGrantError(.algorithm, "HMAC algorithms (HS*) are not accepted for assertions")
            }
            throw JWTGrantError(.algorithm, "JWS alg is not supported")
        }
        if header.has(.crit) {
            throw JWTGrantError(.header, "JWS \"crit\" names extensions this server does not understand")
        }
        if header.has(.b64) {
            throw JWTGrantError(.header, "JWS \"b64\" (RFC 7797 unencoded payload) is not accepted")
        }
        var kid: Identifier? = nil
        if let k = header[.kid] {
            guard let id = k.identifier else {
                throw JWTGrantError(.header, "JWS \"kid\" must be a string")
            }
            kid = id
        }
        return (algorithm, kid)
    }
}
