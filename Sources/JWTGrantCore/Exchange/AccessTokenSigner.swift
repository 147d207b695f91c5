/// Signs and checks the access tokens we issue (the real one wraps the JOSE SigningKey).
public protocol AccessTokenSigner: Sendable {
    var algorithm: String { get }          // "ES256", "RS256", "EdDSA"
    var kid: String { get }                // RFC 7638 thumbprint
    var publicJWK: JSONValue { get }       // no private members
    func sign(header: JSONValue, payload: JSONValue) throws(JWTGrantError) -> String   // compact JWS
    /// Parses a compact JWS and checks its signature with our key (alg must be ours). Returns header and claims.
    func verifySignature(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> (header: JSONValue, claims: JSONValue)
}

/// The RFC 7523 pipeline: verifies the assertion and, when `consume` is true, records its jti (or signature hash)
/// atomically so that a replay fails with .replay. Returns the verified claims (with "_issuer_name").
public typealias AssertionVerifier = @Sendable (_ assertion: UnsafeRawBufferPointer, _ consume: Bool) throws(JWTGrantError) -> JSONValue
/// An `AssertionVerifier` that also records what it established (the
/// trusted issuer, the verified claims) for the audit event.
public typealias ObservedAssertionVerifier = @Sendable (_ assertion: UnsafeRawBufferPointer, _ consume: Bool,
                                                         _ facts: inout ValidationFacts) throws(JWTGrantError) -> JSONValue
