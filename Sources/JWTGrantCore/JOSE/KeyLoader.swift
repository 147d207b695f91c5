/// Turns the key material of a trusted issuer into verification keys:
/// PEM certificates and SPKI blocks, DER certificates (raw or base64), and
/// JWK / JWKS documents. Every key passes the same policy (KeyPolicy).
public enum KeyLoader {
    /// The `certificate` field of a trusted issuer: one or several PEM
    /// certificates, PEM "PUBLIC KEY" (SPKI) blocks, or a DER certificate
    /// given as base64 (standard or url alphabet, whitespace allowed).
    public static func loadCertificates(_ text: String) throws(JWTGrantError) -> [VerificationKey] {
        let bytes = Array(text.utf8)
        let blocks = try PEMBlock.parseAll(bytes)
        if blocks.isEmpty {
            // Not PEM: base64 of one DER certificate or SPKI.
            guard bytes.contains(where: { $0 > 0x20 }) else {
                throw JWTGrantError(.badKey, "certificate text is empty")
            }
            guard let der = bytes.withUnsafeBytes({ Base64URL.decodeLenient($0) }), !der.isEmpty else {
                throw JWTGrantError(.badKey, "certificate text is neither PEM nor base64 DER")
            }
            return [try loadDER(der)]
        }
        var keys: [VerificationKey] = []
        for (i, block) in blocks.enumerated() {
            switch block.label {
            case "CERTIFICATE":
                keys.append(try loadCertificateDER(block.der, what: "PEM block \(i + 1)"))
            case "PUBLIC KEY":
                keys.append(try loadSPKIDER(block.der, what: "PEM block \(i + 1)"))
            default:
                throw JWTGrantError(.badKey,
                    "PEM block \(i + 1) is \"\(block.label)\"; only CERTIFICATE and PUBLIC KEY are accepted")
            }
        }
        return keys
    }

    /// Raw DER bytes of an X.509 certificate (.der/.cer/.crt) or SPKI,
    /// detected automatically.
    public static func loadDER(_ der: [UInt8]) throws(JWTGrantError) -> VerificationKey {
        guard !der.isEmpty else { throw JWTGrantError(.badKey, "empty DER input") }
        return try loadDERDetecting(der)
    }

    /// A JWKS document {"keys":[...]}: its usable keys (RFC 7517 5: keys
    /// that cannot be used are ignored, see `JWK`). A malformed key (RSA <
    /// 2048 bits, a point off its curve, private members, wrong member
    /// types) is an error; a JWKS without any usable key is an error.
    public static func loadJWKS(_ doc: JSONValue) throws(JWTGrantError) -> [VerificationKey] {
        try loadJWKSReport(doc).keys
    }

    /// `loadJWKS` plus the keys it ignored, with their reasons.
    static func loadJWKSReport(_ doc: JSONValue) throws(JWTGrantError) -> (keys: [VerificationKey], ignored: [JWK.Ignored]) {
        guard doc.isObject else { throw JWTGrantError(.badKey, "JWKS must be a JSON object") }
        guard let keys = doc["keys"], keys.isArray else {
            throw JWTGrantError(.badKey, "JWKS must have a \"keys\" array")
        }
        var out: [VerificationKey] = []
        var ignored: [JWK.Ignored] = []
        for (i, jwk) in keys.elements.enumerated() {
            do {
                if let reason = try JWK.unusableReason(jwk) {
                    ignored.append(JWK.Ignored(index: i, kid: try JWK.member(jwk, "kid"), reason: reason))
                    continue
                }
                out.append(try JWK.load(jwk))
            } catch {
                throw JWTGrantError(error.code, "JWKS key \(i + 1): \(error.reason)")
            }
        }
        guard !out.isEmpty else {
            throw JWTGrantError(.badKey, ignored.isEmpty ? "JWKS has no key"
                : "JWKS has no usable signature key (\(ignored.count) ignored: \(ignored[0].reason))")
        }
        return (out, ignored)
    }

    /// The keys of a JWKS this server does not use, with the reason (no
    /// crypto: the members decide). Malformed keys are not reported here.
    static func ignoredKeys(_ doc: JSONValue) -> [JWK.Ignored] {
        guard let keys = doc["keys"], keys.isArray else { return [] }
        var ignored: [JWK.Ignored] = []
        for (i, jwk) in keys.elements.enumerated() {
            if let reason = try? JWK.unusableReason(jwk) {
                ignored.append(JWK.Ignored(index: i, kid: (try? JWK.member(jwk, "kid")) ?? nil, reason: reason))
            }
        }
        return ignored
    }

    /// One JWK; a key not meant for signatures ("use":"enc", key_ops
    /// without "verify") is an error here.
    public static func loadJWK(_ jwk: JSONValue) throws(JWTGrantError) -> VerificationKey {
        return try JWK.load(jwk)
    }
}
