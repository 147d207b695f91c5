/// The RFC 7523 pipeline, in order: size and shape, header (alg, crit) —
/// both inside `CompactJWS.parse` — issuer by `iss`, keys by `kid` and
/// `alg`, signature; only then the claims: sub, aud, exp/nbf/iat, replay.
public final class AssertionValidator: Sendable {
    public let policy: ValidationPolicy
    public let issuers: IssuerRegistry
    public let replay: any ReplayStore
    public let clock: any Clock

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
        /// The token's payload segment (base64url), for `claimsText()`.
        let payloadSegment: UnsafeRawBufferPointer
    }

    /// Validates `token`. With `consume`, the assertion is also recorded as
    /// used (atomically); without, a replay is detected but nothing recorded.
    public func validate(_ token: UnsafeRawBufferPointer, consume: Bool) throws(JWTGrantError) -> Verified {
        let jws = try CompactJWS.parse(token, maxLength: policy.maxAssertionBytes)
        let issuer = try IssuerSelection.select(jws, in: issuers)
        let now = clock.now()
        let keys = try KeySelection.select(jws, issuer: issuer, now: now)
        try SignatureCheck.check(jws, token: token, keys: keys)

        let claims = jws.payload
        try SubjectRule.check(claims)
        try AudienceRule.check(claims, policy: policy, issuer: issuer)
        let usableUntil = try TimeRules.check(claims, policy: policy, now: now)
        if policy.replayProtection {
            let key = try ReplayRule.key(jws, claims: claims, issuer: issuer)
            if consume {
                try ReplayRule.consume(key: key, until: usableUntil, store: replay, now: now)
            } else {
                try ReplayRule.check(key: key, store: replay, now: now)
            }
        }
        return Verified(claims: claims, issuer: issuer,
                        payloadSegment: UnsafeRawBufferPointer(rebasing: token[(jws.headerLength + 1)..<jws.signingInputLength]))
    }
}
