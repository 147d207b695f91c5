/// The RFC 7523 pipeline, in order: size and shape, header (alg, crit) —
/// both inside `CompactJWS.parse` — issuer by `iss`, keys by `kid` and
/// `alg`, signature; only then the trusted issuer's expiry, the claims and
/// the issuer's policy: trust expiry, sub, allowed_subjects, allowed_clients
/// and allowed_scopes (exchange only), aud, exp/nbf/iat (with the issuer's
/// overrides), require_jti, and last replay: an assertion refused by any
/// earlier rule is never consumed.
public final class AssertionValidator: Sendable {
    public let policy: ValidationPolicy
    public let issuers: IssuerRegistry
    public let replay: any ReplayStore
    public let clock: any Clock
    /// The JWS headers seen last (an issuer repeats its header byte for
    /// byte): parsed once, not for every assertion.
    let headers = HeaderCache()

    public init(policy: ValidationPolicy, issuers: IssuerRegistry, replay: any ReplayStore, clock: any Clock) {
        self.policy = policy
        self.issuers = issuers
        self.replay = replay
        self.clock = clock
    }

    /// The outcome of a successful validation.
    public struct Verified {
        /// The verified payload, as signed.
        public let claims: JOSEObject
        public let issuer: TrustedIssuer
        /// The `sub` of an access token for it: the issuer's
        /// `subject_format` applied to the assertion's `sub`.
        public var accessTokenSubject: String? {
            accessTokenSubjectBytes.map { String(decoding: $0, as: UTF8.self) }
        }
        /// `accessTokenSubject` as UTF-8 bytes (the lean exchange's form).
        public var accessTokenSubjectBytes: [UInt8]? {
            guard let bytes = claims[.sub]?.withStringBytes({ Array($0) }), !bytes.isEmpty else { return nil }
            return issuer.policy.subjectFormat.renderBytes(sub: bytes, name: issuer.name, issuer: issuer.issuer)
        }
        /// The token's payload segment (base64url), for `claimsText()`.
        let payloadSegment: UnsafeRawBufferPointer
    }

    /// Validates `token`. With `consume`, the assertion is also recorded as
    /// used (atomically); without, a replay is detected but nothing recorded.
    /// With `use` (the token endpoint), the client-dependent rules of the
    /// issuer's policy (allowed_clients, allowed_scopes) apply too; without
    /// (verification alone), they are skipped.
    public func validate(_ token: UnsafeRawBufferPointer, consume: Bool,
                         use: AssertionUse? = nil) throws(JWTGrantError) -> Verified {
        var facts = ValidationFacts()
        return try validate(token, consume: consume, use: use, facts: &facts)
    }

    /// `validate`, recording in `facts` how far the assertion got (its
    /// trusted issuer; its claims once the signature verified) for the
    /// audit event, whether it passes or not.
    public func validate(_ token: UnsafeRawBufferPointer, consume: Bool, use: AssertionUse? = nil,
                         facts: inout ValidationFacts) throws(JWTGrantError) -> Verified {
        let jws = try CompactJWS.parse(token, maxLength: policy.maxAssertionBytes, headers: headers)
        let issuer = try IssuerSelection.select(jws, in: issuers)
        facts.issuer = issuer
        let now = clock.now()
        let keys = try KeySelection.select(jws, issuer: issuer, now: now)
        try SignatureCheck.check(jws, token: token, keys: keys)

        let claims = jws.payload
        facts.verifiedClaims = claims
        // The issuer's policy is read in place, field by field, not copied.
        try PolicyRules.checkTrust(issuer, now: now)
        try SubjectRule.check(claims)
        try PolicyRules.checkSubject(claims, issuer: issuer)
        if let use { try PolicyRules.checkUse(use, issuer: issuer) }
        try AudienceRule.check(claims, policy: policy, issuer: issuer)
        let lastPassing = try TimeRules.check(claims, settings: TimeRules.Settings(policy, issuer: issuer), now: now)
        try PolicyRules.checkJTI(claims, issuer: issuer)
        if policy.replayProtection {
            let key = try ReplayRule.key(jws, token: token, claims: claims)
            if consume {
                try ReplayRule.consume(key: key, lastPassing: lastPassing, store: replay, now: now)
            } else {
                try ReplayRule.check(key: key, store: replay, now: now)
            }
        }
        return Verified(claims: claims, issuer: issuer,
                        payloadSegment: UnsafeRawBufferPointer(rebasing: token[(jws.headerLength + 1)..<jws.signingInputLength]))
    }
}
