/// RFC 7523 3.H / 7519 4.1.7: an assertion is single-use. Its identity is
/// (issuer name, jti), or the hash of its signature when it has no jti. The
/// record is written only after every other rule passed, and kept until the
/// assertion could no longer be used anyway.
struct ReplayRule {
    static func key(_ jws: CompactJWS, claims: JOSEObject, issuer: TrustedIssuer) throws(JWTGrantError) -> ReplayKey {
        if let jti = claims["jti"] {
            guard let s = jti.stringValue, !s.isEmpty else {
                throw JWTGrantError(.claim, "claim jti must be a non-empty string")
            }
            return ReplayKey("\(issuer.name)\u{0}jti\u{0}\(s)")
        }
        return ReplayKey("\(issuer.name)\u{0}sig\u{0}\(SignatureDigest.sha256Hex(jws.signature))")
    }

    static func check(key: ReplayKey, store: any ReplayStore, now: Double) throws(JWTGrantError) {
        if try store.contains(key, now: now) {
            throw JWTGrantError(.replay, "the assertion was used before (jti or signature replayed)")
        }
    }

    static func consume(key: ReplayKey, until expiry: Double, store: any ReplayStore, now: Double) throws(JWTGrantError) {
        guard try store.insertIfAbsent(key, expiry: expiry, now: now) else {
            throw JWTGrantError(.replay, "the assertion was used before (jti or signature replayed)")
        }
    }
}
