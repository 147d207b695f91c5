
/// A private key for the access tokens this server issues. Its public half
/// is published as `publicJWK` (kid = RFC 7638 thumbprint).
public final class SigningKey: @unchecked Sendable {
    /// The public parameters of a key, as the JWK members carry them.
    enum PublicParameters {
        case rsa(n: [UInt8], e: [UInt8])
        case ec(ECCurve, x: [UInt8], y: [UInt8])
        case ed25519(x: [UInt8])
    }

    public let algorithm: JWSAlgorithm
    /// RFC 7638 JWK thumbprint (SHA-256, base64url).
    public let kid: String
    /// kty, crv/x/y or n/e, kid, alg, use:"sig"; never private members.
    public let publicJWK: JSONValue
    public let verificationKey: VerificationKey
    /// The owned private EVP_PKEY.
    let pkey: OpaquePointer
    /// Owned DigestSign contexts prepared once (RSA, ECDSA), one per stripe
    /// of `signStripes`; a token copies its thread's under that stripe's
    /// lock, so threads do not share a lock. Empty for Ed25519 (one-shot only).
    let signTemplates: [OpaquePointer]
    let signStripes = Stripes()

    /// Takes ownership of the private key `pkey` (freed on failure too).
    init(taking pkey: OpaquePointer, algorithm: JWSAlgorithm) throws(JWTGrantError) {
        let params: PublicParameters
        do {
            params = try SigningKey.publicParameters(pkey, algorithm: algorithm)
        } catch {
            SigningKey.free(pkey)
            throw error
        }
        let kid = SigningKey.thumbprint(params)
        let jwk = JSONValue.object()
        switch params {
        case .rsa(let n, let e):
            jwk.set("kty", .string("RSA"))
            jwk.set("n", .string(Base64URL.encode(n)))
            jwk.set("e", .string(Base64URL.encode(e)))
        case .ec(let curve, let x, let y):
            jwk.set("kty", .string("EC"))
            jwk.set("crv", .string(curve.jwkName))
            jwk.set("x", .string(Base64URL.encode(x)))
            jwk.set("y", .string(Base64URL.encode(y)))
        case .ed25519(let x):
            jwk.set("kty", .string("OKP"))
            jwk.set("crv", .string("Ed25519"))
            jwk.set("x", .string(Base64URL.encode(x)))
        }
        jwk.set("kid", .string(kid))
        jwk.set("alg", .string(algorithm.rawValue))
        jwk.set("use", .string("sig"))
        let verificationKey: VerificationKey
        do {
            verificationKey = try JWK.load(jwk)
        } catch {
            SigningKey.free(pkey)
            throw error
        }
        self.pkey = pkey
        self.signTemplates = algorithm == .edDSA ? []
            : (0..<Stripes.count).compactMap { _ in SigningKey.makeSignContext(pkey, algorithm: algorithm) }
        self.algorithm = algorithm
        self.kid = kid
        self.publicJWK = jwk
        self.verificationKey = verificationKey
    }

    deinit {
        for t in signTemplates { SigningKey.freeContext(t) }
        SigningKey.free(pkey)
    }

    /// RFC 7638 3.2: the required members only, lexicographic order, no whitespace.
    static func thumbprintInput(_ p: PublicParameters) -> String {
        switch p {
        case .rsa(let n, let e):
            return "{\"e\":\"\(Base64URL.encode(e))\",\"kty\":\"RSA\",\"n\":\"\(Base64URL.encode(n))\"}"
        case .ec(let curve, let x, let y):
            return "{\"crv\":\"\(curve.jwkName)\",\"kty\":\"EC\",\"x\":\"\(Base64URL.encode(x))\",\"y\":\"\(Base64URL.encode(y))\"}"
        case .ed25519(let x):
            return "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"\(Base64URL.encode(x))\"}"
        }
    }

    /// The RFC 7638 thumbprint of a public JWK given as parameters.
    static func thumbprint(_ p: PublicParameters) -> String {
        Base64URL.encode(sha256(Array(thumbprintInput(p).utf8)))
    }

    /// "b64(header).b64(payload).b64(signature)". The header is copied and
    /// its "alg" set to this key's algorithm; "kid" is added when absent.
    public func compact(header: JSONValue, payload: JSONValue) throws(JWTGrantError) -> String {
        guard header.isObject, let h = header.copy() else {
            throw JWTGrantError(.invalidArgument, "JWS header must be a JSON object")
        }
        h.set("alg", .string(algorithm.rawValue))
        if !h.has("kid") { h.set("kid", .string(kid)) }
        let signingInput = Base64URL.encode(Array(h.serialized().utf8)) + "."
            + Base64URL.encode(Array(payload.serialized().utf8))
        var input = signingInput
        let signature = try input.withUTF8 { buf in
            Result { () throws(JWTGrantError) -> [UInt8] in try sign(UnsafeRawBufferPointer(buf)) }
        }.get()
        return signingInput + "." + Base64URL.encode(signature)
    }
}
