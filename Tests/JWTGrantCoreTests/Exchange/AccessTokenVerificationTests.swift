import XCTest
@testable import JWTGrantCore

final class AccessTokenVerificationTests: XCTestCase {
    static let now: Int64 = 1_700_000_000
    var signer: FakeSigner!
    var clock: AdjustableClock!
    var endpoint: TokenEndpoint!

    override func setUpWithError() throws {
        signer = FakeSigner()
        clock = AdjustableClock()
        clock.set(Self.now)
        let clients = ClientRegistry()
        try clients.register(json: #"{"client_id":"app","client_secret":"s3cret","grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer"],"scopes":["read"]}"#)
        endpoint = TokenEndpoint(config: AccessTokenConfig(), signer: signer, verifier: FakeVerifier().verifier,
                                 clock: clock, clients: clients)
    }

    func issue(_ assertion: String = "ok.alice.j1") throws -> String {
        let body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)&scope=read"
        let r = withOptionalBytes("Basic YXBwOnMzY3JldA==") { a in withOptionalBytes(body) { b in endpoint.handle(authorization: a, body: b) } }
        return try XCTUnwrap(r.body["access_token"]?.stringValue, r.serialized())
    }

    func verify(_ token: String, with e: TokenEndpoint? = nil) throws(JWTGrantError) -> JSONValue {
        let e = e ?? endpoint!
        return try withBytes(token) { (b) throws(JWTGrantError) in try e.verifyAccessToken(b) }
    }

    func assertInvalid(_ token: String, _ why: String, with e: TokenEndpoint? = nil,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try verify(token, with: e)
            XCTFail("accepted: \(why)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, .invalidToken, why, file: file, line: line)
            XCTAssertEqual("\(error.code.oauthError)", "invalid_token", file: file, line: line)
            XCTAssertFalse(error.reason.isEmpty, file: file, line: line)
        }
    }

    /// A token signed with our key, with the given header and claims.
    func forge(header: [String: String], claims: (JSONValue) -> Void) throws -> String {
        let h = JSONValue.object()
        for (k, v) in header.sorted(by: { $0.key < $1.key }) { h.set(k, .string(v)) }
        let c = JSONValue.object()
        c.set("iss", .string(AccessTokenConfig.defaultIssuer))
        c.set("sub", .string("alice"))
        c.set("exp", .integer(Self.now + 60))
        claims(c)
        return try signer.sign(header: h, payload: c)
    }

    func testIssuedTokenVerifies() throws {
        let claims = try verify(try issue())
        XCTAssertEqual(claims["sub"]?.stringValue, "alice")
        XCTAssertEqual(claims["client_id"]?.stringValue, "app")
        XCTAssertEqual(claims["scope"]?.stringValue, "read")
        XCTAssertEqual(claims["exp"]?.integerValue, Self.now + 3600)
    }

    func testTypVariantsAccepted() throws {
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"] {
            XCTAssertNoThrow(try verify(try forge(header: ["alg": "ES256", "typ": typ]) { _ in }), typ)
        }
    }

    func testWrongOrMissingTyp() throws {
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "JWT"]) { _ in }, "typ JWT")
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "at+jwt "]) { _ in }, "typ with a space")
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "application/jwt"]) { _ in }, "typ application/jwt")
        assertInvalid(try forge(header: ["alg": "ES256"]) { _ in }, "no typ")
    }

    func testWrongOrMissingIssuer() throws {
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "at+jwt"]) { $0.set("iss", .string("https://evil.example")) }, "other iss")
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "at+jwt"]) { $0.set("iss", .string(AccessTokenConfig.defaultIssuer + "/")) }, "iss prefix")
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "at+jwt"]) { $0.remove("iss") }, "no iss")
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "at+jwt"]) { $0.set("iss", .integer(1)) }, "iss not a string")
    }

    func testExpiry() throws {
        let token = try issue()
        clock.set(Self.now + 3599)
        XCTAssertNoThrow(try verify(token))
        clock.set(Self.now + 3600)
        assertInvalid(token, "exp == now")
        clock.set(Self.now + 100_000)
        assertInvalid(token, "long expired")
        clock.set(Self.now)
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "at+jwt"]) { $0.remove("exp") }, "no exp")
        assertInvalid(try forge(header: ["alg": "ES256", "typ": "at+jwt"]) { $0.set("exp", .string("9999999999")) }, "exp a string")
    }

    func testTamperedTokensRejected() throws {
        let token = try issue()
        let parts = token.split(separator: ".").map(String.init)
        XCTAssertEqual(parts.count, 3)
        // a different payload under the original signature
        let c = JSONValue.object()
        c.set("iss", .string(AccessTokenConfig.defaultIssuer))
        c.set("sub", .string("mallory"))
        c.set("exp", .integer(Self.now + 3600))
        let evil = SodiumBase64.encode(Array(c.serialized().utf8), variant: SodiumBase64.urlSafeNoPadding)
        assertInvalid(parts[0] + "." + evil + "." + parts[2], "swapped payload")
        // one flipped signature character
        var sig = Array(parts[2].utf8)
        sig[3] = sig[3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        assertInvalid(parts[0] + "." + parts[1] + "." + String(decoding: sig, as: UTF8.self), "flipped signature")
        assertInvalid(parts[0] + "." + parts[1] + ".", "stripped signature")
        assertInvalid(parts[0] + "." + parts[1], "two parts")
        assertInvalid("", "empty")
        assertInvalid("not a token", "garbage")
    }

    func testTokenOfAnotherServerRejected() throws {
        // same issuer name, different key
        let other = TokenEndpoint(config: AccessTokenConfig(), signer: FakeSigner(), verifier: FakeVerifier().verifier,
                                  clock: clock, clients: endpoint.clients)
        let foreign = withOptionalBytes("Basic YXBwOnMzY3JldA==") { a in
            withOptionalBytes("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=ok.bob.j7") { b in
                other.handle(authorization: a, body: b)
            }
        }.body["access_token"]?.stringValue ?? ""
        XCTAssertFalse(foreign.isEmpty)
        XCTAssertNoThrow(try verify(foreign, with: other))
        assertInvalid(foreign, "signed with another key")
        // same key, another issuer configured
        let renamed = TokenEndpoint(config: AccessTokenConfig(issuer: "https://other.example"), signer: signer,
                                    verifier: FakeVerifier().verifier, clock: clock, clients: endpoint.clients)
        assertInvalid(try issue(), "our token at a server with another issuer", with: renamed)
    }

    func testWrongAlgRejected() throws {
        assertInvalid(try forge(header: ["alg": "none", "typ": "at+jwt"]) { _ in }, "alg none")
    }
}
