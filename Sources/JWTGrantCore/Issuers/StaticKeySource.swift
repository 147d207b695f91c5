/// Keys fixed at registration: one or several certificates or SPKI keys
/// (`certificate`), or an inline JWKS document (`jwks`).
public final class StaticKeySource: KeySource {
    public let kind: String
    private let keys: [VerificationKey]
    private let byKid: [String: [VerificationKey]]

    public init(kind: String, keys: [VerificationKey]) throws(JWTGrantError) {
        guard !keys.isEmpty else { throw JWTGrantError(.badKey, "\(kind) holds no usable key") }
        self.kind = kind
        self.keys = keys
        var byKid: [String: [VerificationKey]] = [:]
        for k in keys { if let kid = k.kid { byKid[kid, default: []].append(k) } }
        self.byKid = byKid
    }

    public func candidateKeys(kid: String?) throws(JWTGrantError) -> [VerificationKey] {
        guard let kid else { return keys }
        // A certificate carries no kid: with only kid-less keys, a kid in the
        // token cannot select and every key is tried.
        if byKid.isEmpty { return keys }
        guard let found = byKid[kid] else {
            throw JWTGrantError(.keyNotFound, "no key of the issuer has the token's kid")
        }
        return found
    }

    public func statusJSON() -> JSONValue {
        let o = JSONValue.object()
        let ids = JSONValue.array()
        for k in keys { if let kid = k.kid { ids.append(.string(kid)) } }
        o.set("key_ids", ids)
        let summaries = JSONValue.array()
        for k in keys { summaries.append(.string(k.summary)) }
        o.set("keys", summaries)
        return o
    }

    public func close() {}
}
