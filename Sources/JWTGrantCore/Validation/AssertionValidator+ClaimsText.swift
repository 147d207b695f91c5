#if canImport(Glibc)
import Glibc
#endif
import CJansson

extension AssertionValidator.Verified {
    /// The claims plus "_issuer_name", as a jansson object (for the C
    /// boundary's `json_t` results), read from the signed payload text. The
    /// pipeline's reader accepted that text, so jansson accepts it too.
    public func claimsWithIssuerName() throws(JWTGrantError) -> JSONValue {
        guard let decoded = Base64URL.decode(payloadSegment) else {
            throw JWTGrantError(.internalError, "the verified payload is not base64url")
        }
        let claims = try JSONValue.parse(decoded, what: "JWS payload", code: .internalError)
        guard claims.isObject else { throw JWTGrantError(.internalError, "the verified payload is not an object") }
        claims.set("_issuer_name", .string(issuer.name))
        return claims
    }

    /// The claims plus "_issuer_name" as JSON text in memory from malloc
    /// (what `jwtgrant_free` releases), or nil when out of memory.
    ///
    /// The payload was signed as JSON text and has been read as one strict
    /// object; the text handed out is that payload exactly as signed,
    /// with the member `"_issuer_name":<name>` added before its closing brace.
    /// This costs a copy instead of re-serializing every claim.
    /// A payload that already has "_issuer_name" is serialized by jansson
    /// with the member replaced.
    public func claimsText() -> UnsafeMutablePointer<CChar>? {
        if claims.has(.issuerName) { return (try? claimsWithIssuerName())?.serializedCString() }
        let member = issuer.issuerNameMember
        // The payload as decoded when it was parsed (kept by the claims).
        let decoded = claims.withSourceText { $0.count }
        guard let out = malloc(decoded + member.count + 2) else { return nil }
        let bytes = UnsafeMutableRawBufferPointer(start: out, count: decoded)
        claims.withSourceText { if let b = $0.baseAddress, decoded > 0 { out.copyMemory(from: b, byteCount: decoded) } }
        // The object's closing brace: the last byte that is not JSON whitespace.
        var end = decoded
        while end > 0, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[end - 1]) { end -= 1 }
        guard end > 0, bytes[end - 1] == UInt8(ascii: "}") else { free(out); return nil }
        var at = end - 1
        if claims.count > 0 { out.storeBytes(of: UInt8(ascii: ","), toByteOffset: at, as: UInt8.self); at += 1 }
        member.withUnsafeBytes { (out + at).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        at += member.count
        out.storeBytes(of: UInt8(ascii: "}"), toByteOffset: at, as: UInt8.self)
        out.storeBytes(of: 0, toByteOffset: at + 1, as: UInt8.self)
        return out.assumingMemoryBound(to: CChar.self)
    }
}
