/// RFC 7523 3.C: `aud` (a string or an array of strings) names this server:
/// its issuer value, its token endpoint, or the matched issuer's alias.
/// Exact string comparison (RFC 7519 4.1.3): no case folding, no URL
/// normalisation.
struct AudienceRule {
    static func check(_ claims: JOSEObject, policy: ValidationPolicy, issuer: TrustedIssuer) throws(JWTGrantError) {
        guard let aud = claims[.aud] else { throw JWTGrantError(.claim, "claim aud is missing") }
        func accepted(_ v: JOSEValue) -> Bool {
            if v.stringEquals(policy.serverIssuer) { return true }
            if let te = policy.tokenEndpoint, v.stringEquals(te) { return true }
            if let alias = issuer.aliasID, v.withStringBytes({ alias.equals($0) }) == true { return true }
            return false
        }
        if aud.isString {
            if accepted(aud) { return }
        } else if aud.isArray {
            let values = aud.elements
            guard !values.isEmpty else { throw JWTGrantError(.claim, "claim aud must not be an empty array") }
            guard values.allSatisfy({ $0.isString }) else {
                throw JWTGrantError(.claim, "claim aud must be a string or an array of strings")
            }
            if values.contains(where: accepted) { return }
        } else {
            throw JWTGrantError(.claim, "claim aud must be a string or an array of strings")
        }
        throw JWTGrantError(.audience, "claim aud does not name this authorization server")
    }
}
