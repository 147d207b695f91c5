/// JWK (RFC 7517) members for verification keys: the checks that need no
/// crypto library. Key construction is in KeyLoader+OpenSSL.swift.
enum JWK {
    enum Usage { case signature, notForSignatures }

    /// Private or symmetric members: their presence means a secret was
    /// published, so the key is refused rather than silently trimmed.
    static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    /// "use":"enc", or key_ops without "verify", mark a key not meant for
    /// signatures; a malformed use/key_ops is an error.
    static func usage(_ jwk: JSONValue) throws(JWTGrantError) -> Usage {
        guard jwk.isObject else { throw JWTGrantError(.badKey, "JWK must be a JSON object") }
        if let use = jwk["use"] {
            guard let u = use.stringValue else { throw JWTGrantError(.badKey, "JWK \"use\" must be a string") }
            switch u {
            case "sig": break
            case "enc": return .notForSignatures
            default: throw JWTGrantError(.badKey, "JWK \"use\" must be \"sig\" or \"enc\"")
            }
        }
        if let ops = jwk["key_ops"] {
            guard ops.isArray else { throw JWTGrantError(.badKey, "JWK \"key_ops\" must be an array") }
            var seen: Set<String> = []
            for op in ops.elements {
                guard let o = op.stringValue else {
                    throw JWTGrantError(.badKey, "JWK \"key_ops\" must hold strings")
                }
                guard seen.insert(o).inserted else {
                    throw JWTGrantError(.badKey, "JWK \"key_ops\" repeats \"\(o)\"")
                }
            }
            if !seen.contains("verify") { return .notForSignatures }
        }
        return .signature
    }

    /// A strict base64url member, or an error naming it.
    static func bytes(_ jwk: JSONValue, _ name: String) throws(JWTGrantError) -> [UInt8] {
        guard let m = jwk[name] else { throw JWTGrantError(.badKey, "JWK lacks \"\(name)\"") }
        guard let text = m.stringValue else { throw JWTGrantError(.badKey, "JWK \"\(name)\" must be a string") }
        guard let b = Base64URL.decode(text), !b.isEmpty else {
            throw JWTGrantError(.badKey, "JWK \"\(name)\" is not base64url")
        }
        return b
    }

    /// Builds the verification key of a signature JWK.
    static func load(_ jwk: JSONValue) throws(JWTGrantError) -> VerificationKey {
        guard jwk.isObject else { throw JWTGrantError(.badKey, "JWK must be a JSON object") }
        for m in privateMembers where jwk.has(m) {
            throw JWTGrantError(.badKey, "JWK has the private member \"\(m)\"; publish only public keys")
        }
        var kid: String? = nil
        if let k = jwk["kid"] {
            guard let s = k.stringValue else { throw JWTGrantError(.badKey, "JWK \"kid\" must be a string") }
            kid = s
        }
        var alg: JWSAlgorithm? = nil
        if let a = jwk["alg"] {
            guard let s = a.stringValue else { throw JWTGrantError(.badKey, "JWK \"alg\" must be a string") }
            guard let parsed = JWSAlgorithm(rawValue: s) else {
                throw JWTGrantError(.badKey, "JWK alg \"\(s)\" is not a supported signature algorithm")
            }
            alg = parsed
        }
        guard let kty = jwk["kty"]?.stringValue else { throw JWTGrantError(.badKey, "JWK lacks a string \"kty\"") }
        switch kty {
        case "RSA":
            let n = try bytes(jwk, "n"), e = try bytes(jwk, "e")
            guard n.count <= 2048 + 1, e.count <= 8 else { throw JWTGrantError(.badKey, "JWK RSA key is too large") }
            return try VerificationKey.make(taking: try KeyLoader.rsaPublicKey(n: n, e: e), kid: kid, restrictedTo: alg)
        case "EC":
            guard let crvName = jwk["crv"]?.stringValue else { throw JWTGrantError(.badKey, "JWK EC key lacks \"crv\"") }
            guard let curve = ECCurve(jwkName: crvName) else {
                throw JWTGrantError(.badKey, "JWK curve \"\(crvName)\" is not supported (P-256, P-384, P-521 are)")
            }
            let x = try bytes(jwk, "x"), y = try bytes(jwk, "y")
            guard x.count == curve.coordinateLength, y.count == curve.coordinateLength else {
                throw JWTGrantError(.badKey, "JWK \(curve.jwkName) coordinates must be \(curve.coordinateLength) bytes")
            }
            return try VerificationKey.make(taking: try KeyLoader.ecPublicKey(curve: curve, x: x, y: y),
                                            kid: kid, restrictedTo: alg)
        case "OKP":
            guard let crv = jwk["crv"]?.stringValue else { throw JWTGrantError(.badKey, "JWK OKP key lacks \"crv\"") }
            guard crv == "Ed25519" else {
                throw JWTGrantError(.badKey, "JWK OKP curve \"\(crv)\" is not supported (Ed25519 is)")
            }
            let x = try bytes(jwk, "x")
            guard x.count == 32 else { throw JWTGrantError(.badKey, "JWK Ed25519 \"x\" must be 32 bytes") }
            return try VerificationKey.make(taking: try KeyLoader.ed25519PublicKey(x), kid: kid, restrictedTo: alg)
        default:
            throw JWTGrantError(.badKey, "JWK kty \"\(kty)\" is not supported (RSA, EC, OKP are)")
        }
    }
}
