/// Who is exchanging the assertion, for the client-dependent rules of the
/// issuer's policy: the authenticated client and the scopes it requested.
/// `jwtgrant_verify_assertion` has no client, so it validates without one
/// and those rules (`allowed_clients`, `allowed_scopes`) are skipped there.
public struct AssertionUse: Sendable {
    public let clientID: Identifier
    /// The requested scopes; nil when the request named none.
    public let scopes: [Identifier]?

    public init(clientID: Identifier, scopes: [Identifier]?) {
        self.clientID = clientID
        self.scopes = scopes
    }
}

/// The trusted issuer's policy (`IssuerPolicy`), applied after the signature
/// check and before the replay record is made, so that an assertion refused
/// here is never consumed. Messages name the rule, never a value of the
/// token or the request. Each rule takes the issuer and reads the policy
/// fields it needs from it: passing `issuer.policy` copied the whole
/// struct (a retain per set and string) on every verification.
struct PolicyRules {
    /// `expires_at`: the issuer's trust has run out.
    static func checkTrust(_ issuer: TrustedIssuer, now: Double) throws(JWTGrantError) {
        // Field by field from the issuer (no copy of the whole policy).
        if let expiresAt = issuer.policy.expiresAt, now > expiresAt {
            throw JWTGrantError(.issuerExpired, "the trusted issuer's trust has expired (expires_at)")
        }
    }

    /// `allowed_subjects` (after `SubjectRule`: sub is a non-empty string).
    static func checkSubject(_ claims: JOSEObject, issuer: TrustedIssuer) throws(JWTGrantError) {
        guard let allowed = issuer.policy.allowedSubjects else { return }
        guard let sub = claims[.sub]?.identifier, allowed.contains(sub) else {
            throw JWTGrantError(.subjectNotAllowed,
                "the assertion's sub is not among the trusted issuer's allowed_subjects")
        }
    }

    /// `allowed_clients` and `allowed_scopes`, for an exchange.
    static func checkUse(_ use: AssertionUse, issuer: TrustedIssuer) throws(JWTGrantError) {
        if let clients = issuer.policy.allowedClients, !clients.contains(use.clientID) {
            throw JWTGrantError(.clientNotAllowed,
                "the client is not among the trusted issuer's allowed_clients")
        }
        if let allowed = issuer.policy.allowedScopes, let requested = use.scopes,
           !requested.allSatisfy({ allowed.contains($0) }) {
            throw JWTGrantError(.invalidScope,
                "the requested scope exceeds the trusted issuer's allowed_scopes")
        }
    }

    /// `require_jti`: a `jti` must be present, and then (replay protection
    /// on or off) a non-empty string.
    static func checkJTI(_ claims: JOSEObject, issuer: TrustedIssuer) throws(JWTGrantError) {
        guard issuer.policy.requireJTI else { return }
        guard let jti = claims[.jti] else {
            throw JWTGrantError(.jtiRequired, "the trusted issuer requires a jti claim (require_jti)")
        }
        guard let len = jti.withStringBytes({ $0.count }) else {
            throw JWTGrantError(.claim, "claim jti must be a string")
        }
        guard len > 0 else { throw JWTGrantError(.claim, "claim jti must not be empty") }
    }
}
