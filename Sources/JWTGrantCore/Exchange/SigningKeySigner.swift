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

    /// "b64(header).b64(payload).b64(signature)" written into one buffer.
    public func sign(headerJSON: [UInt8], payloadJSON: [UInt8]) throws(JWTGrantError) -> String {
        let h = Base64URL.encodedLength(headerJSON.count), p = Base64URL.encodedLength(payloadJSON.count)
        var out: [UInt8] = []
        out.reserveCapacity(h + p + 2 + 700)   // the longest signature: RSA-4096, 683 characters
        headerJSON.withUnsafeBytes { Base64URL.append($0, to: &out) }
        out.append(UInt8(ascii: "."))
        payloadJSON.withUnsafeBytes { Base64URL.append($0, to: &out) }
        let signature = try out.withUnsafeBytes { input in
            Result { () throws(JWTGrantError) -> [UInt8] in try key.sign(input) }
        }.get()
        out.append(UInt8(ascii: "."))
        signature.withUnsafeBytes { Base64URL.append($0, to: &out) }
        return String(decoding: out, as: UTF8.self)
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
        // The caller hands these to the host: jansson objects.
        do {
            return (try jws.segmentJSON(token, payload: false), try jws.segmentJSON(token, payload: true))
        } catch {
            throw JWTGrantError(.invalidToken, error.reason)
        }
    }
}
