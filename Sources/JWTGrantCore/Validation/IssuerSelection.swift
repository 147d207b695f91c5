/// Step 3: find the trusted issuer by the exact `iss` of the payload. The
/// payload is not yet verified; `iss` only chooses which keys to verify with.
struct IssuerSelection {
    static func select(_ jws: CompactJWS, in registry: IssuerRegistry) throws(JWTGrantError) -> TrustedIssuer {
        guard let iss = jws.payload["iss"] else {
            throw JWTGrantError(.untrustedIssuer, "claim iss is missing")
        }
        guard let value = iss.identifier else {
            throw JWTGrantError(.untrustedIssuer, "claim iss must be a string")
        }
        guard let issuer = registry.lookup(iss: value) else {
            throw JWTGrantError(.untrustedIssuer, "claim iss does not name a trusted token issuer")
        }
        return issuer
    }
}
