@testable import JWTGrantCore

/// A fixed instant for every time-dependent test.
let T0: Int64 = 1_750_000_000

/// A trusted issuer for tests: a generated key, registered by inline JWKS.
struct TestIssuer {
    let name: String
    let iss: String
    let key: SigningKey
    let alias: String?

    init(_ name: String, alg: JWSAlgorithm = .es256, alias: String? = nil) throws {
        self.name = name
        self.iss = "https://\(name).example.com"
        self.key = try SigningKey.generate(alg)
        self.alias = alias
    }

    var registrationJSON: String {
        let o = JSONValue.object()
        o.set("name", .string(name))
        o.set("issuer", .string(iss))
        if let alias { o.set("alias", .string(alias)) }
        let jwks = JSONValue.object()
        let keys = JSONValue.array()
        keys.append(key.publicJWK)
        jwks.set("keys", keys)
        o.set("jwks", jwks)
        return o.serialized()
    }

    /// Good claims at T0, with `changes` applied (a nil value removes the claim).
    func claims(_ changes: [String: JSONValue?] = [:]) -> JSONValue {
        let c = JSONValue.object()
        c.set("iss", .string(iss))
        c.set("sub", .string("alice@example.com"))
        c.set("aud", .string("https://localhost:9443/oauth2/token"))
        c.set("iat", .integer(T0 - 10))
        c.set("exp", .integer(T0 + 300))
        c.set("jti", .string("jti-\(UInt64.random(in: 0...UInt64.max))"))
        for (k, v) in changes {
            if let v { c.set(k, v) } else { c.remove(k) }
        }
        return c
    }

    func mint(_ changes: [String: JSONValue?] = [:], header extra: [String: JSONValue] = [:]) throws -> String {
        let h = JSONValue.object()
        h.set("alg", .string(key.algorithm.rawValue))
        h.set("typ", .string("JWT"))
        h.set("kid", .string(key.kid))
        for (k, v) in extra { h.set(k, v) }
        return try key.compact(header: h, payload: claims(changes))
    }
}

extension AuthorizationServer {
    /// A server on defaults (plus `config`) pinned at T0 with `issuers` registered.
    static func forTests(_ config: String? = nil, issuers: [TestIssuer]) throws -> AuthorizationServer {
        let s = try AuthorizationServer(configJSON: config)
        s.clock.set(T0)
        for i in issuers { try s.registerIssuer(json: i.registrationJSON) }
        return s
    }

    func verify(_ token: String) throws -> JSONValue {
        var t = token
        return try t.withUTF8 { try verifyAssertion(UnsafeRawBufferPointer($0)) }
    }

    func consume(_ token: String) throws -> JOSEObject {
        var t = token
        return try t.withUTF8 { try validator.validate(UnsafeRawBufferPointer($0), consume: true).claims }
    }
}
