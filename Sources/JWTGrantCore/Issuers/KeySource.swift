/// Where a trusted issuer's verification keys come from: a certificate or
/// inline JWKS given at registration (`StaticKeySource`), or a JWKS endpoint.
public protocol KeySource: AnyObject, Sendable {
    /// "certificate", "jwks" or "jwks_uri".
    var kind: String { get }
    /// The keys to try for a token whose header has `kid` (nil: no kid).
    /// Throws `.keySourceUnavailable` when no usable key set can be had, and
    /// `.keyNotFound` when the set has no key with that kid.
    func candidateKeys(kid: Identifier?) throws(JWTGrantError) -> [VerificationKey]
    /// Status for `jwtgrant_list_issuers`: at least "key_ids".
    func statusJSON() -> JSONValue
    /// Stops background work (the issuer was removed or the server freed).
    func close()
}
