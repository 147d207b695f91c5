/// A third-party identity provider whose assertions this server accepts
/// ("Trusted Token Issuer" in WSO2 Identity Server).
public final class TrustedIssuer: Sendable {
    /// Unique name.
    public let name: String
    /// The exact `iss` value of its assertions.
    public let issuer: String
    /// Another accepted `aud` value for its assertions.
    public let alias: String?
    public let keySource: any KeySource
    /// What it is trusted for (`IssuerPolicy`; the default trusts it for
    /// everything, forever).
    public let policy: IssuerPolicy
    /// `name`, `issuer` and `alias` as identifiers: what every comparison
    /// and registry key uses.
    public let nameID: Identifier
    public let issuerID: Identifier
    public let aliasID: Identifier?
    /// `"_issuer_name":"<name>"` as JSON text (escaped by jansson), added to
    /// the claims of every assertion this issuer's keys verify.
    let issuerNameMember: [UInt8]

    public init(name: String, issuer: String, alias: String?, keySource: any KeySource,
                policy: IssuerPolicy = IssuerPolicy()) {
        self.name = name
        self.policy = policy
        self.issuer = issuer
        self.alias = alias
        self.keySource = keySource
        self.nameID = Identifier(name)
        self.issuerID = Identifier(issuer)
        self.aliasID = alias.map(Identifier.init)
        self.issuerNameMember = Array("\"_issuer_name\":\(JSONValue.string(name).serialized())".utf8)
    }

    /// The public description for `jwtgrant_list_issuers` (no key material).
    /// `now` decides its "expired" member.
    public func listingJSON(now: Double) -> JSONValue {
        let o = JSONValue.object()
        o.set("name", .string(name))
        o.set("issuer", .string(issuer))
        o.set("alias", alias.map { .string($0) } ?? JSONValue(taking: json_null()))
        o.set("key_source", .string(keySource.kind))
        let status = keySource.statusJSON()
        for key in status.keys { if let v = status[key] { o.set(key, v) } }
        policy.addListing(to: o, now: now)
        return o
    }
}

import CJansson
