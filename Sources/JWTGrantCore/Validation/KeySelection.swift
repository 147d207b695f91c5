/// Step 4: the issuer's keys that may verify this token: the key of its
/// `kid` (or every key when it has none), of a type that fits its `alg`,
/// and, for certificates, inside their validity period.
struct KeySelection {
    static func select(_ jws: CompactJWS, issuer: TrustedIssuer, now: Double) throws(JWTGrantError) -> [VerificationKey] {
        let candidates = try issuer.keySource.candidateKeys(kid: jws.kid)
        // The common case (every candidate fits the alg and is inside its
        // validity period, typically a single key) returns the candidates
        // as they are, without building new arrays.
        if !candidates.isEmpty, candidates.allSatisfy({ $0.allows(jws.algorithm) && isValid($0, now: now) }) {
            return candidates
        }
        let fitting = candidates.filter { $0.allows(jws.algorithm) }
        guard !fitting.isEmpty else {
            throw JWTGrantError(.algorithm,
                "the token's alg does not fit any key of trusted issuer \"\(printable(issuer.name))\"")
        }
        let valid = fitting.filter { isValid($0, now: now) }
        guard !valid.isEmpty else {
            throw JWTGrantError(.keyNotFound,
                "the certificate of trusted issuer \"\(printable(issuer.name))\" is outside its validity period")
        }
        return valid
    }

    /// Whether `now` lies inside the key's validity period (certificates).
    @inline(__always)
    private static func isValid(_ key: VerificationKey, now: Double) -> Bool {
        if let nb = key.notBefore, now < nb { return false }
        if let na = key.notAfter, now > na { return false }
        return true
    }
}
