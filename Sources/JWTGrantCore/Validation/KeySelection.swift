/// Step 4: the issuer's keys that may verify this token: the key of its
/// `kid` (or every key when it has none), of a type that fits its `alg`,
/// and, for certificates, inside their validity period.
struct KeySelection {
    static func select(_ jws: CompactJWS, issuer: TrustedIssuer, now: Double) throws(JWTGrantError) -> [VerificationKey] {
        let candidates = try issuer.keySource.candidateKeys(kid: jws.kid)
        let fitting = candidates.filter { $0.allows(jws.algorithm) }
        guard !fitting.isEmpty else {
            throw JWTGrantError(.algorithm,
                "the token's alg does not fit any key of trusted issuer \"\(printable(issuer.name))\"")
        }
        let valid = fitting.filter { key in
            if let nb = key.notBefore, now < nb { return false }
            if let na = key.notAfter, now > na { return false }
            return true
        }
        guard !valid.isEmpty else {
            throw JWTGrantError(.keyNotFound,
                "the certificate of trusted issuer \"\(printable(issuer.name))\" is outside its validity period")
        }
        return valid
    }
}
