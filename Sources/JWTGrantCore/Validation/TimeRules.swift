/// RFC 7523 3.D-3.F: exp required and in the future, nbf (when present) not
/// in the future, iat (when present) not in the future and, with iat
/// validation on, not older than the validity period. `clock_skew` applies
/// to each. With `max_assertion_lifetime`, exp may not lie further than that
/// from now.
struct TimeRules {
    /// Checks the time claims at `now` and returns `lastPassing`: an instant
    /// after which these rules refuse the assertion at every clock reading
    /// (it passes at no `t > lastPassing`). `ReplayRule.recordExpiry` keeps
    /// the replay record strictly beyond it.
    static func check(_ claims: JOSEObject, policy: ValidationPolicy, now: Double) throws(JWTGrantError) -> Double {
        try check(claims, settings: Settings(policy), now: now)
    }

    /// The settings these rules read (plain values: no copy of the policies'
    /// strings and sets on the hot path).
    struct Settings {
        var clockSkew: Double
        var iatValidation: Bool
        var iatValidityPeriod: Double
        var maxAssertionLifetime: Double

        init(_ p: ValidationPolicy) {
            clockSkew = p.clockSkew
            iatValidation = p.iatValidation
            iatValidityPeriod = p.iatValidityPeriod
            maxAssertionLifetime = p.maxAssertionLifetime
        }

        /// `p` with the issuer's overrides (as `IssuerPolicy.effective`), read
        /// field by field from the issuer instead of copying its policy.
        init(_ p: ValidationPolicy, issuer: TrustedIssuer) {
            self.init(p)
            if let m = issuer.policy.maxAssertionLifetime { maxAssertionLifetime = Double(m) }
            if let i = issuer.policy.iatValidityPeriod {
                iatValidation = true
                iatValidityPeriod = Double(i) * 60
            }
        }
    }

    static func check(_ claims: JOSEObject, settings policy: Settings, now: Double) throws(JWTGrantError) -> Double {
        guard let exp = try NumericDate.read(claims, .exp) else {
            throw JWTGrantError(.claim, "claim exp is missing")
        }
        // Passes while now < exp + skew.
        guard now < exp + policy.clockSkew else { throw JWTGrantError(.expired, "the assertion has expired (exp)") }
        if policy.maxAssertionLifetime > 0, exp - now > policy.maxAssertionLifetime {
            throw JWTGrantError(.assertionLifetime,
                "the assertion's exp lies further ahead than grant_type.jwt.max_assertion_lifetime allows")
        }
        if let nbf = try NumericDate.read(claims, .nbf), now + policy.clockSkew < nbf {
            throw JWTGrantError(.notYetValid, "the assertion is not valid yet (nbf)")
        }
        var lastPassing = exp + policy.clockSkew
        if let iat = try NumericDate.read(claims, .iat) {
            if iat > now + policy.clockSkew {
                throw JWTGrantError(.iatInFuture, "the assertion was issued in the future (iat)")
            }
            if policy.iatValidation {
                // Passes while now <= oldest (that instant included).
                let oldest = iat + policy.iatValidityPeriod + policy.clockSkew
                guard now <= oldest else {
                    throw JWTGrantError(.iatTooOld, "the assertion is older than the iat validity period (iat)")
                }
                lastPassing = min(lastPassing, oldest)
            }
        }
        return lastPassing
    }
}
