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

/// The RFC 7523 pipeline for the token endpoint: verifies the assertion for
/// `use` (the client and its requested scopes: the trusted issuer's policy
/// may refuse them) and records its jti (or signature hash) atomically, so
/// that a replay fails with .replay. Nothing is recorded when it fails.
public typealias AssertionVerifier = @Sendable (_ assertion: UnsafeRawBufferPointer, _ use: AssertionUse) throws(JWTGrantError) -> VerifiedGrant
/// An `AssertionVerifier` that also records what it established (the
/// trusted issuer, the verified claims) for the audit event, whether it
/// passes or not.
public typealias ObservedAssertionVerifier = @Sendable (_ assertion: UnsafeRawBufferPointer, _ use: AssertionUse,
                                                         _ facts: inout ValidationFacts) throws(JWTGrantError) -> VerifiedGrant

/// What the token endpoint needs from a verified assertion, and nothing
/// more (the lean exchange builds no claims object): the access token's
/// subject and the `idp` claim.
public struct VerifiedGrant: Sendable {
    /// The access token's `sub` as UTF-8 bytes (the issuer's
    /// `subject_format` applied to the assertion's `sub`); nil when the
    /// assertion has none.
    public let subject: [UInt8]?
    /// The `issuer` value of the trusted issuer that matched: the access
    /// token's `idp` claim.
    public let idp: String

    public init(subject: [UInt8]?, idp: String) {
        self.subject = subject
        self.idp = idp
    }
}
