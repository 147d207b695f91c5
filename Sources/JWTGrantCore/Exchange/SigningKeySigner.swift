/// The access-token signer of a server: the JOSE `SigningKey` from
/// `access_token.signing_key`, or one generated at start.
public struct SigningKeySigner: AccessTokenSigner {
    public let key: SigningKey

    public init(_ key: SigningKey) { self.key = key }

    /// The key the configuration names: `access_token.signing_key` (PEM) with
    /// `access_token.algorithm` or the algorithm its type implies, or a new
    /// key of `access_token.algorithm` (ES256 by default).
    public init(_ config: ServerConfig) throws(JWTGrantError) {
        let alg = try config.accessTokenAlgorithm.map { (name) throws(JWTGrantError) -> JWSAlgorithm in
            guard let a = Identifier(name).bytes.withUnsafeBytes({ JWSAlgorithm(bytes: $0) }) else {
                throw JWTGrantError(.invalidArgument, "access_token.algorithm is not supported")
            }
            return a
        }
        if let pem = config.accessTokenSigningKey {
            key = try SigningKey(pem: pem, algorithm: alg)
        } else {
            key = try SigningKey.generate(alg ?? .es256)
        }
    }

    public var algorithm: String { key.algorithm.rawValue }
    public var kid: String { key.kid }
    public var publicJWK: JSONValue { key.publicJWK }

    public func sign(header: JSONValue, payload: JSONValue) throws(JWTGrantError) -> String {
        try key.compact(header: header, payload: payload)
    }

    public func verifySignature(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> (header: JSONValue, claims: JSONValue) {
        let jws: CompactJWS
        do {
            jws = try CompactJWS.parse(token)
        } catch {
            throw JWTGrantError(.invalidToken, error.reason)
        }
        guard jws.algorithm == key.algorithm else {
            throw JWTGrantError(.invalidToken, "the token's alg is not the algorithm of our tokens")
        }
        let input = UnsafeRawBufferPointer(rebasing: token[0..<jws.signingInputLength])
        let ok = jws.signature.withUnsafeBytes {
            key.verificationKey.verify(jws.algorithm, signingInput: input, signature: $0)
        }
        guard ok else { throw JWTGrantError(.invalidToken, "the signature does not verify") }
        return (jws.header, jws.payload)
    }
}
