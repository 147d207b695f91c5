/// Signs and checks the access tokens we issue (the real one wraps the JOSE SigningKey).
public protocol AccessTokenSigner: Sendable {
    var algorithm: String { get }          // "ES256", "RS256", "EdDSA"
    var kid: String { get }                // RFC 7638 thumbprint
    var publicJWK: JSONValue { get }       // no private members
    func sign(header: JSONValue, payload: JSONValue) throws(JWTGrantError) -> String   // compact JWS
    /// Parses a compact JWS and checks its signature with our key (alg must be ours). Returns header and claims.
    func verifySignature(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> (header: JSONValue, claims: JSONValue)
    /// The compact JWS of a header and payload given as JSON text (the token
    /// endpoint writes both in one pass). The header already names this
    /// signer's alg and kid.
    func sign(headerJSON: [UInt8], payloadJSON: [UInt8]) throws(JWTGrantError) -> String
}

extension AccessTokenSigner {
    /// For signers that only sign jansson objects: reads both texts with
    /// jansson and signs those.
    public func sign(headerJSON: [UInt8], payloadJSON: [UInt8]) throws(JWTGrantError) -> String {
        let header = try JSONValue.parse(headerJSON, what: "access token header", code: .internalError)
        let payload = try JSONValue.parse(payloadJSON, what: "access token claims", code: .internalError)
        return try sign(header: header, payload: payload)
    }
}

/// The RFC 7523 pipeline: verifies the assertion and, when `consume` is true, records its jti (or signature hash)
/// atomically so that a replay fails with .replay. Returns the verified claims (with "_issuer_name").
public typealias AssertionVerifier = @Sendable (_ assertion: UnsafeRawBufferPointer, _ consume: Bool) throws(JWTGrantError) -> JSONValue

/// The same pipeline as the token endpoint needs it: returns only the
/// verified `sub` (UTF-8 bytes, non-empty), so that no claims object is
/// built for an exchange.
public typealias AssertionSubjectVerifier = @Sendable (_ assertion: UnsafeRawBufferPointer, _ consume: Bool) throws(JWTGrantError) -> [UInt8]
