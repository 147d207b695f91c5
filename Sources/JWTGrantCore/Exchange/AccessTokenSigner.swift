/// Signs and checks the access tokens we issue (the real one wraps the JOSE SigningKey).
public protocol AccessTokenSigner: Sendable {
    var algorithm: String { get }          // "ES256", "RS256", "EdDSA"
    var kid: String { get }                // RFC 7638 thumbprint
    var publicJWK: JSONValue { get }       // no private members
    func sign(header: JSONValue, payload: JSONValue) throws(JWTGrantError) -> String   // compact JWS
    /// Parses a compact JWS and checks its signature with our key (alg must be ours). Returns header and claims.
    func verifySignature(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> (header: JSONValue, claims: JSONValue)
}

/// The RFC 7523 pipeline for the token endpoint: verifies the assertion for
/// `use` (the client and its requested scopes: the trusted issuer's policy
/// may refuse them) and records its jti (or signature hash) atomically, so
/// that a replay fails with .replay. Nothing is recorded when it fails.
public typealias AssertionVerifier = @Sendable (_ assertion: UnsafeRawBufferPointer, _ use: AssertionUse) throws(JWTGrantError) -> VerifiedGrant

/// What the token endpoint needs from a verified assertion.
public struct VerifiedGrant {
    /// The verified claims.
    public let claims: JSONValue
    /// The access token's `sub` (the issuer's `subject_format` applied to the
    /// assertion's `sub`); nil when the assertion has none.
    public let subject: String?
    /// The `issuer` value of the trusted issuer that matched: the access
    /// token's `idp` claim.
    public let idp: String

    public init(claims: JSONValue, subject: String?, idp: String) {
        self.claims = claims
        self.subject = subject
        self.idp = idp
    }
}
