import CJansson

/// JWK (RFC 7517) members for verification keys: the checks that need no
/// crypto library. Key construction is in KeyLoader+OpenSSL.swift.
///
/// RFC 7517 5: a key set may hold keys this server cannot use; those are
/// ignored (and listed with the reason), not fatal. A key is *unusable*
/// when its well-formed members say it is not for a signature verification
/// we support: "use" other than "sig", "key_ops" without "verify", an "alg"
/// that is not a supported JWS algorithm, a "kty" or "crv" we do not
/// implement. A key is *malformed* (an error that refuses the whole set)
/// when a member has the wrong JSON type, key_ops repeats an operation, a
/// private member is published, or the key material of a supported type is
/// bad (a point off its curve, an RSA modulus under 2048 bits, a wrong
/// coordinate length). Every comparison is on bytes (`Identifier`).
enum JWK {
    /// A key of a set that is not used, and why (static text: a reason never
    /// repeats the document's values).
    struct Ignored: Sendable {
        let index: Int
        let kid: Identifier?
        let reason: StaticString

        var json: JSONValue {
            let o = JSONValue.object()
            o.set("index", .integer(Int64(index)))
            o.set("kid", kid.map { .string($0.text) } ?? jsonNull())
            o.set("reason", .string("\(reason)"))
            return o
        }
    }

    /// Private or symmetric members: their presence means a secret was
    /// published, so the key is refused rather than silently trimmed.
    static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    /// The identifier of a string member; nil when absent; `.badKey` naming
    /// the member when it is not a string.
    static func member(_ jwk: JSONValue, _ name: StaticString) throws(JWTGrantError) -> Identifier? {
        guard let v = jwk["\(name)"] else { return nil }
        guard let id = v.identifier else { throw JWTGrantError(.badKey, "JWK \"\(name)\" must be a string") }
        return id
    }

    /// Why a well-formed key is not usable for our signature verification,
    /// or nil when it is (to be loaded). Throws `.badKey` when a member that
    /// decides it is malformed.
    static func unusableReason(_ jwk: JSONValue) throws(JWTGrantError) -> StaticString? {
        guard jwk.isObject else { throw JWTGrantError(.badKey, "JWK must be a JSON object") }
        _ = try member(jwk, "kid")
        for m in privateMembers where jwk.has(m) {
            throw JWTGrantError(.badKey, "JWK has a private member; publish only public keys")
        }
        var reason: StaticString? = nil
        if let use = try member(jwk, "use"), use != "sig" {
            reason = "\"use\" is not \"sig\""
        }
        if let ops = jwk["key_ops"] {
            guard ops.isArray else { throw JWTGrantError(.badKey, "JWK \"key_ops\" must be an array") }
            var seen: Set<Identifier> = []
            for op in ops.elements {
                guard let o = op.identifier else { throw JWTGrantError(.badKey, "JWK \"key_ops\" must hold strings") }
                guard seen.insert(o).inserted else {
                    throw JWTGrantError(.badKey, "JWK \"key_ops\" repeats an operation")
                }
            }
            if reason == nil, !seen.contains("verify") { reason = "\"key_ops\" does not include \"verify\"" }
        }
        if let alg = try member(jwk, "alg"), reason == nil, algorithm(alg) == nil {
            reason = "\"alg\" is not a supported signature algorithm"
        }
        guard let kty = try member(jwk, "kty") else { throw JWTGrantError(.badKey, "JWK lacks a string \"kty\"") }
        let crv = try member(jwk, "crv")
        if reason != nil { return reason }
        switch kty {
        case "RSA": return nil
        case "EC":
            guard let crv else { throw JWTGrantError(.badKey, "JWK EC key lacks \"crv\"") }
            return curve(crv) == nil ? "EC curve is not supported (P-256, P-384, P-521 are)" : nil
        case "OKP":
            guard let crv else { throw JWTGrantError(.badKey, "JWK OKP key lacks \"crv\"") }
            return crv == "Ed25519" ? nil : "OKP curve is not supported (Ed25519 is)"
        default:
            return "\"kty\" is not supported (RSA, EC, OKP are)"
        }
    }

    /// The JWS algorithm named exactly by `alg`.
    static func algorithm(_ alg: Identifier) -> JWSAlgorithm? {
        alg.bytes.withUnsafeBytes { JWSAlgorithm(bytes: $0) }
    }

    static func curve(_ crv: Identifier) -> ECCurve? { ECCurve(jwkName: crv.text) }

    /// A strict base64url member, or an error naming it.
    static func bytes(_ jwk: JSONValue, _ name: StaticString) throws(JWTGrantError) -> [UInt8] {
        guard let m = jwk["\(name)"] else { throw JWTGrantError(.badKey, "JWK lacks \"\(name)\"") }
        guard let text = m.stringValue else { throw JWTGrantError(.badKey, "JWK \"\(name)\" must be a string") }
        guard let b = Base64URL.decode(text), !b.isEmpty else {
            throw JWTGrantError(.badKey, "JWK \"\(name)\" is not base64url")
        }
        return b
    }

    /// Builds the verification key of a usable JWK (`unusableReason` nil).
    static func load(_ jwk: JSONValue) throws(JWTGrantError) -> VerificationKey {
        if let reason = try unusableReason(jwk) {
            throw JWTGrantError(.badKey, "JWK is not usable: \(reason)")
        }
        let kid = try member(jwk, "kid")
        let alg = try member(jwk, "alg").flatMap(algorithm)
        guard let kty = try member(jwk, "kty") else { throw JWTGrantError(.badKey, "JWK lacks a string \"kty\"") }
        switch kty {
        case "RSA":
            let n = try bytes(jwk, "n"), e = try bytes(jwk, "e")
            guard n.count <= 2048 + 1, e.count <= 8 else { throw JWTGrantError(.badKey, "JWK RSA key is too large") }
            return try VerificationKey.make(taking: try KeyLoader.rsaPublicKey(n: n, e: e), kid: kid, restrictedTo: alg)
        case "EC":
            guard let crv = try member(jwk, "crv"), let curve = curve(crv) else {
                throw JWTGrantError(.badKey, "JWK EC curve is not supported (P-256, P-384, P-521 are)")
            }
            let x = try bytes(jwk, "x"), y = try bytes(jwk, "y")
            guard x.count == curve.coordinateLength, y.count == curve.coordinateLength else {
                throw JWTGrantError(.badKey, "JWK \(curve.jwkName) coordinates must be \(curve.coordinateLength) bytes")
            }
            return try VerificationKey.make(taking: try KeyLoader.ecPublicKey(curve: curve, x: x, y: y),
                                            kid: kid, restrictedTo: alg)
        default: // OKP Ed25519 (unusableReason refused the rest)
            let x = try bytes(jwk, "x")
            guard x.count == 32 else { throw JWTGrantError(.badKey, "JWK Ed25519 \"x\" must be 32 bytes") }
            return try VerificationKey.make(taking: try KeyLoader.ed25519PublicKey(x), kid: kid, restrictedTo: alg)
        }
    }
}

private func jsonNull() -> JSONValue { JSONValue(taking: json_null()) }
