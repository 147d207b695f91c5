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
        let n = h + 1 + p
        // The signing input, encoded straight into a temporary buffer (not a
        // [UInt8](unsafeUninitializedCapacity:), which instantiates generic
        // array metadata at run time on every call).
        let token = withUnsafeTemporaryAllocation(byteCount: n, alignment: 16) { raw -> Result<String, JWTGrantError> in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                return .failure(JWTGrantError(.internalError, "no buffer for the signing input"))
            }
            headerJSON.withUnsafeBytes { _ = Base64URL.encode($0, into: base) }
            base[h] = UInt8(ascii: ".")
            payloadJSON.withUnsafeBytes { _ = Base64URL.encode($0, into: base + h + 1) }
            let signature: [UInt8]
            do throws(JWTGrantError) {
                signature = try key.sign(UnsafeRawBufferPointer(start: base, count: n))
            } catch {
                return .failure(error)
            }
            // The token: the input, ".", the signature's encoding (all ASCII).
            let s = Base64URL.encodedLength(signature.count)
            return .success(String(unsafeUninitializedCapacity: n + 1 + s) { out in
                guard let o = out.baseAddress else { return 0 }
                o.update(from: base, count: n)
                o[n] = UInt8(ascii: ".")
                signature.withUnsafeBytes { _ = Base64URL.encode($0, into: o + n + 1) }
                return n + 1 + s
            })
        }
        return try token.get()
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
