/// The key source of an issuer registered with "jwks_uri".
public final class JWKSURIKeySource: KeySource {
    public let set: RemoteKeySet<VerificationKey>
    public init(set: RemoteKeySet<VerificationKey>) { self.set = set }

    public var kind: String { "jwks_uri" }
    public func candidateKeys(kid: Identifier?) throws(JWTGrantError) -> [VerificationKey] {
        try set.keys(kid: kid)
    }
    public func statusJSON() -> JSONValue { set.status() }
    public func close() { set.close() }
}
