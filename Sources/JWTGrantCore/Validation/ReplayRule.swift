/// RFC 7523 3.H / 7519 4.1.7: an assertion is single-use. Its identity is
/// `ReplayKey.assertion` (the token's iss with its jti, or with the hash of
/// the signing input when it has no jti). The record is written only after
/// every other rule passed, and kept until the assertion could no longer be
/// used anyway (`recordExpiry`).
struct ReplayRule {
    static func key(_ jws: CompactJWS, token: UnsafeRawBufferPointer, claims: JOSEObject) throws(JWTGrantError) -> ReplayKey {
        // IssuerSelection already required a string iss.
        guard let iss = claims[.iss] else { throw JWTGrantError(.untrustedIssuer, "claim iss is missing") }
        let signingInput = UnsafeRawBufferPointer(rebasing: token[0..<jws.signingInputLength])
        let key: ReplayKey?
        if let jti = claims[.jti] {
            guard let len = jti.withStringBytes({ $0.count }) else {
                throw JWTGrantError(.claim, "claim jti must be a string")
            }
            guard len > 0 else { throw JWTGrantError(.claim, "claim jti must not be empty") }
            key = iss.withStringBytes { i in
                jti.withStringBytes { j in ReplayKey.assertion(iss: i, jti: j, signingInput: signingInput) }
            } ?? nil
        } else {
            key = iss.withStringBytes { ReplayKey.assertion(iss: $0, jti: nil, signingInput: signingInput) }
        }
        guard let key else { throw JWTGrantError(.untrustedIssuer, "claim iss must be a string") }
        return key
    }

    /// The expiry of the replay record of an assertion that passes the time
    /// rules at no instant after `lastPassing` (`TimeRules.check`).
    ///
    /// INVARIANT: the record outlives the assertion. A store treats a record
    /// as live while `now < expiry`, so `expiry` must be strictly greater
    /// than `lastPassing`; it is rounded up to the next whole second (stores
    /// that keep whole seconds lose nothing).
    static func recordExpiry(lastPassing: Double) -> Double {
        lastPassing.rounded(.down) + 1
    }

    static func check(key: ReplayKey, store: any ReplayStore, now: Double) throws(JWTGrantError) {
        if try store.contains(key, now: now) {
            throw JWTGrantError(.replay, "the assertion was used before (jti or signing input replayed)")
        }
    }

    static func consume(key: ReplayKey, lastPassing: Double, store: any ReplayStore, now: Double) throws(JWTGrantError) {
        guard try store.insertIfAbsent(key, expiry: recordExpiry(lastPassing: lastPassing), now: now) else {
            throw JWTGrantError(.replay, "the assertion was used before (jti or signing input replayed)")
        }
    }
}
