/// RFC 7523 3.D-3.F: exp required and in the future, nbf (when present) not
/// in the future, iat (when present) not in the future and, with iat
/// validation on, not older than the validity period. `clock_skew` applies
/// to each. Returns the instant until which the assertion could be used,
/// which is how long its replay record must be kept.
struct TimeRules {
    static func check(_ claims: JOSEObject, policy: ValidationPolicy, now: Double) throws(JWTGrantError) -> Double {
        guard let exp = try NumericDate.read(claims, "exp") else {
            throw JWTGrantError(.claim, "claim exp is missing")
        }
        guard now < exp + policy.clockSkew else { throw JWTGrantError(.expired, "the assertion has expired (exp)") }
        if let nbf = try NumericDate.read(claims, "nbf"), now + policy.clockSkew < nbf {
            throw JWTGrantError(.notYetValid, "the assertion is not valid yet (nbf)")
        }
        var usableUntil = exp + policy.clockSkew
        if let iat = try NumericDate.read(claims, "iat") {
            if iat > now + policy.clockSkew {
                throw JWTGrantError(.iatInFuture, "the assertion was issued in the future (iat)")
            }
            if policy.iatValidation {
                let oldest = iat + policy.iatValidityPeriod + policy.clockSkew
                guard now <= oldest else {
                    throw JWTGrantError(.iatTooOld, "the assertion is older than the iat validity period (iat)")
                }
                usableUntil = min(usableUntil, oldest)
            }
        }
        return usableUntil
    }
}
