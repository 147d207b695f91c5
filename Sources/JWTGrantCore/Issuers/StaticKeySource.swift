/// Keys fixed at registration: one or several certificates or SPKI keys
/// (`certificate`), or an inline JWKS document (`jwks`).
public final class StaticKeySource: KeySource {
    public let kind: String
    private let keys: [VerificationKey]
    private let byKid: [Identifier: [VerificationKey]]
    private let kidless: [VerificationKey]
    /// Keys of a JWKS that are not used (RFC 7517 5), listed with the reason.
    private let ignored: [JWK.Ignored]

    public convenience init(kind: String, keys: [VerificationKey]) throws(JWTGrantError) {
        try self.init(kind: kind, keys: keys, ignored: [])
    }

    init(kind: String, keys: [VerificationKey], ignored: [JWK.Ignored]) throws(JWTGrantError) {
        guard !keys.isEmpty else { throw JWTGrantError(.badKey, "\(kind) holds no usable key") }
        self.kind = kind
        self.keys = keys
        var byKid: [Identifier: [VerificationKey]] = [:]
        for k in keys { if let kid = k.kid { byKid[kid, default: []].append(k) } }
        self.byKid = byKid
        self.kidless = keys.filter { $0.kid == nil }
        self.ignored = ignored
    }

    /// The keys with the token's kid (compared byte for byte); when none has
    /// it, the keys that carry no kid (a certificate has none), which the
    /// signature then decides between. Without a kid in the token, every
    /// key. The same rule as the JWKS endpoint source.
    public func candidateKeys(kid: Identifier?) throws(JWTGrantError) -> [VerificationKey] {
        guard let kid else { return keys }
        if let found = byKid[kid] { return found }
        guard !kidless.isEmpty else {
            throw JWTGrantError(.keyNotFound, "no key of the issuer has the token's kid")
        }
        return kidless
    }

    /// `{"key_ids", "keys", "ignored_keys"}`; `ignored_keys` (inline JWKS
    /// only) lists `{"index", "kid", "reason"}` of each key not used.
    public func statusJSON() -> JSONValue {
        let o = JSONValue.object()
        let ids = JSONValue.array()
        for k in keys { if let kid = k.kid { ids.append(.string(kid.text)) } }
        o.set("key_ids", ids)
        let summaries = JSONValue.array()
        for k in keys { summaries.append(.string(k.summary)) }
        o.set("keys", summaries)
        if kind == "jwks" {
            let list = JSONValue.array()
            for i in ignored { list.append(i.json) }
            o.set("ignored_keys", list)
        }
        return o
    }

    public func close() {}
}
