import XCTest
@testable import JWTGrantCore

/// The lean exchange: the access token's header and claims are written in
/// one pass and signed by the real signer; jansson reads them back to the
/// exact values, whatever the subject, issuer and client id hold.
final class LeanExchangeTests: XCTestCase {
    static let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    private func exchange(subject: [UInt8], issuer: String, clientID: String, audience: String? = nil,
                          idp: String = "https://idp.example", lifetime: Int? = nil,
                          alg: JWSAlgorithm) throws -> (header: JSONValue, claims: JSONValue, response: TokenResponse) {
        let clock = AdjustableClock()
        clock.set(1_700_000_000)
        let clients = ClientRegistry()
        let reg = JSONValue.object()
        reg.set("client_id", .string(clientID))
        reg.set("client_secret", .string("s3cret"))
        let grants = JSONValue.array()
        grants.append(.string(Self.grant))
        reg.set("grant_types", grants)
        // Absent scopes now mean no scope; the request asks for "a b".
        let scopes = JSONValue.array()
        scopes.append(.string("a"))
        scopes.append(.string("b"))
        reg.set("scopes", scopes)
        if let lifetime { reg.set("access_token_lifetime", .integer(Int64(lifetime))) }
        try clients.register(json: reg.serialized())
        let signer = SigningKeySigner(try SigningKey.generate(alg))
        let endpoint = TokenEndpoint(config: AccessTokenConfig(issuer: issuer, lifetime: 120, audience: audience),
                                     signer: signer,
                                     verifier: { (_, _) throws(JWTGrantError) -> VerifiedGrant in
                                         VerifiedGrant(subject: subject, idp: idp)
                                     },
                                     clock: clock, clients: clients)
        let id = clientID.utf8.map { c -> String in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) ? String(UnicodeScalar(c))
                : "%" + String(c, radix: 16, uppercase: true).leftPadded()
        }.joined()
        let body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=x&client_id=\(id)&client_secret=s3cret&scope=a+b"
        let r = withOptionalBytes(body) { b in endpoint.handle(authorization: nil, body: b) }
        XCTAssertEqual(r.httpStatus, 200, r.json)
        let token = try XCTUnwrap(r.body["access_token"]?.stringValue, r.json)
        let (h, c) = try withBytes(token) { (b) throws(JWTGrantError) in try signer.verifySignature(b) }
        return (h, c, r)
    }

    func testIssuedClaimsReadBackExactly() throws {
        let hostile = ["alice", "quote\"d\\back", "ctl\u{1}\u{1F}\n\t", "é😀\u{2028}", "</script>\"}{", ""]
        for (k, alg) in [JWSAlgorithm.es256, .rs256, .edDSA].enumerated() {
            for (i, s) in hostile.enumerated() where !s.isEmpty {
                let issuer = "https://iss\"\\\(hostile[(i + 1) % hostile.count])"
                let clientID = "app\(k)\(i)" + hostile[(i + 2) % hostile.count].filter { $0 != "\n" && $0 != "\t" && $0 != "\u{1}" && $0 != "\u{1F}" }
                let idp = "https://idp\"\\\(hostile[(i + 3) % hostile.count])"
                let (h, c, r) = try exchange(subject: Array(s.utf8), issuer: issuer, clientID: clientID, idp: idp, alg: alg)
                XCTAssertEqual(h.keys, ["typ", "alg", "kid"])
                XCTAssertEqual(h["typ"]?.stringValue, "at+jwt")
                XCTAssertEqual(h["alg"]?.stringValue, alg.rawValue)
                XCTAssertEqual(c.keys, ["iss", "sub", "aud", "client_id", "idp", "iat", "exp", "jti", "scope"])
                XCTAssertEqual(c["idp"]?.stringValue, idp)
                XCTAssertEqual(c["sub"]?.stringValue, s)
                XCTAssertEqual(c["iss"]?.stringValue, issuer)
                XCTAssertEqual(c["aud"]?.stringValue, clientID)
                XCTAssertEqual(c["client_id"]?.stringValue, clientID)
                XCTAssertEqual(c["iat"]?.integerValue, 1_700_000_000)
                XCTAssertEqual(c["exp"]?.integerValue, 1_700_000_120)
                XCTAssertEqual(c["jti"]?.stringValue?.utf8.count, 22)
                XCTAssertEqual(c["scope"]?.stringValue, "a b")
                XCTAssertEqual(r.body.keys, ["access_token", "token_type", "expires_in", "scope"])
            }
        }
    }

    func testConfiguredAudience() throws {
        let (_, c, _) = try exchange(subject: Array("bob".utf8), issuer: "https://x", clientID: "app",
                                     audience: "https://rs.example.com/\"api\"", alg: .es256)
        XCTAssertEqual(c["aud"]?.stringValue, "https://rs.example.com/\"api\"")
    }

    func testPerClientLifetime() throws {
        let (_, c, r) = try exchange(subject: Array("bob".utf8), issuer: "https://x", clientID: "app",
                                     lifetime: 45, alg: .es256)
        XCTAssertEqual(c["exp"]?.integerValue, 1_700_000_045)
        XCTAssertEqual(r.body["expires_in"]?.integerValue, 45)
    }

    func testAnEmptySubjectIsRefused() throws {
        let clients = ClientRegistry()
        try clients.register(json: #"{"client_id":"app","client_secret":"s3cret","grant_types":["\#(Self.grant)"]}"#)
        let endpoint = TokenEndpoint(config: AccessTokenConfig(), signer: SigningKeySigner(try SigningKey.generate(.es256)),
                                     verifier: { (_, _) throws(JWTGrantError) -> VerifiedGrant in
                                         VerifiedGrant(subject: [], idp: "https://idp.example")
                                     },
                                     clock: AdjustableClock(), clients: clients)
        let r = withOptionalBytes("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=x&client_id=app&client_secret=s3cret") { b in
            endpoint.handle(authorization: nil, body: b)
        }
        XCTAssertEqual(r.status, .claim)
        XCTAssertEqual(r.body["error"]?.stringValue, "invalid_grant")
    }
}

private extension String {
    func leftPadded() -> String { count < 2 ? "0" + self : self }
}
