/// Step 3: find the trusted issuer by the exact `iss` of the payload. The
/// payload is not yet verified; `iss` only chooses which keys to verify with.
struct IssuerSelection {
    static func select(_ jws: CompactJWS, in registry: IssuerRegistry) throws(JWTGrantError) -> TrustedIssuer {
        guard let iss = jws.payload[.iss] else {
            throw JWTGrantError(.untrustedIssuer, "claim iss is missing")
        }
        // Probed with the claim's bytes as they lie in the parsed document.
        guard let found = iss.withStringBytes({ registry.lookup(issBytes: $0) }) else {
            throw JWTGrantError(.untrustedIssuer, "claim iss must be a string")
        }
        guard let issuer = found else {
            throw JWTGrantError(.untrustedIssuer, "claim iss does not name a trusted token issuer")
        }
        return issuer
    }
}
