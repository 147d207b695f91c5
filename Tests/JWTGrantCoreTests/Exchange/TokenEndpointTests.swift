import XCTest
@testable import JWTGrantCore

final class TokenEndpointTests: XCTestCase {
    static let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let grantEncoded = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
    static let appBasic = "Basic YXBwOnMzY3JldA=="   // app:s3cret
    static let now: Int64 = 1_700_000_000

    var signer: FakeSigner!
    var fake: FakeVerifier!
    var clock: AdjustableClock!
    var clients: ClientRegistry!
    var endpoint: TokenEndpoint!

    override func setUpWithError() throws {
        signer = FakeSigner()
        fake = FakeVerifier()
        clock = AdjustableClock()
        clock.set(Self.now)
        clients = ClientRegistry()
        try clients.register(json: #"{"client_id":"app","client_secret":"s3cret","grant_types":["\#(Self.grant)"],"scopes":["read","write"]}"#)
        try clients.register(json: #"{"client_id":"a:b","client_secret":"p@ss word","grant_types":["\#(Self.grant)"]}"#)
        try clients.register(json: #"{"client_id":"nogrant","client_secret":"s3cret","grant_types":["client_credentials"]}"#)
        try clients.register(json: #"{"client_id":"pub","token_endpoint_auth_method":"none","grant_types":["\#(Self.grant)"]}"#)
        endpoint = makeEndpoint()
    }

    func makeEndpoint(_ config: AccessTokenConfig = AccessTokenConfig()) -> TokenEndpoint {
        TokenEndpoint(config: config, signer: signer, verifier: fake.verifier, clock: clock, clients: clients)
    }

    func post(_ authorization: String?, _ body: String?, to e: TokenEndpoint? = nil) -> TokenResponse {
        Self.post(authorization, body, to: e ?? endpoint!)
    }

    static func post(_ authorization: String?, _ body: String?, to e: TokenEndpoint) -> TokenResponse {
        withOptionalBytes(authorization) { a in withOptionalBytes(body) { b in e.handle(authorization: a, body: b) } }
    }

    func body(_ assertion: String = "ok.alice.j1", extra: String = "") -> String {
        "grant_type=\(Self.grantEncoded)&assertion=\(assertion)" + extra
    }

    /// Asserts an RFC 6749 5.2 error response.
    @discardableResult
    func assertError(_ r: TokenResponse, _ error: String, _ http: Int32, _ code: ErrorCode? = nil,
                     file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertEqual(r.httpStatus, http, r.serialized(), file: file, line: line)
        XCTAssertEqual(r.body["error"]?.stringValue, error, r.serialized(), file: file, line: line)
        XCTAssertEqual(r.body.keys.sorted(), ["error", "error_description"], file: file, line: line)
        if let code { XCTAssertEqual(r.status, code, file: file, line: line) }
        XCTAssertNotNil(r.status, file: file, line: line)
        XCTAssertNotEqual(r.statusCode, 0, file: file, line: line)
        let d = r.body["error_description"]?.stringValue ?? ""
        XCTAssertFalse(d.isEmpty, file: file, line: line)
        // the client gets the generic text of the status; the host the detail
        XCTAssertEqual(d, r.status.map { "\($0.publicDescription)" }, file: file, line: line)
        XCTAssertFalse((r.detail ?? "").isEmpty, "the detailed reason stays on the result", file: file, line: line)
        for secret in ["s3cret", "p@ss", "ok.alice", "YXBw", "nosub."] {
            XCTAssertFalse(d.contains(secret), "description echoes \(secret): \(d)", file: file, line: line)
        }
        return d
    }

    func claims(of r: TokenResponse, file: StaticString = #filePath, line: UInt = #line) throws -> (header: JSONValue, claims: JSONValue) {
        let token = try XCTUnwrap(r.body["access_token"]?.stringValue, r.serialized(), file: file, line: line)
        return try withBytes(token) { (b) throws(JWTGrantError) in try signer.verifySignature(b) }
    }

    // MARK: success

    func testSuccessWithBasic() throws {
        let r = post(Self.appBasic, body())
        XCTAssertEqual(r.httpStatus, 200, r.serialized())
        XCTAssertNil(r.status)
        XCTAssertEqual(r.statusCode, 0)
        XCTAssertEqual(r.body.keys.sorted(), ["access_token", "expires_in", "token_type"])
        XCTAssertEqual(r.body["token_type"]?.stringValue, "Bearer")
        XCTAssertEqual(r.body["expires_in"]?.integerValue, 3600)

        let (h, c) = try claims(of: r)
        XCTAssertEqual(h.serialized(), #"{"typ":"at+jwt","alg":"ES256","kid":"fake-kid"}"#)
        XCTAssertEqual(c.keys.sorted(), ["aud", "client_id", "exp", "iat", "idp", "iss", "jti", "sub"])
        XCTAssertEqual(c["idp"]?.stringValue, "https://idp.example")
        XCTAssertEqual(c["iss"]?.stringValue, "https://localhost:9443/oauth2/token")
        XCTAssertEqual(c["sub"]?.stringValue, "alice")
        XCTAssertEqual(c["aud"]?.stringValue, "app")
        XCTAssertEqual(c["client_id"]?.stringValue, "app")
        XCTAssertEqual(c["iat"]?.integerValue, Self.now)
        XCTAssertEqual(c["exp"]?.integerValue, Self.now + 3600)
        let jti = try XCTUnwrap(c["jti"]?.stringValue)
        XCTAssertEqual(jti.count, 22, "128 bits in base64url")
        XCTAssertTrue(jti.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F })
    }

    func testClientAccessTokenLifetimeOverridesTheServers() throws {
        try clients.register(json: #"{"client_id":"short","client_secret":"s3cret","grant_types":["\#(Self.grant)"],"access_token_lifetime":120}"#)
        let short = "Basic " + SodiumBase64.encode(Array("short:s3cret".utf8), variant: SodiumBase64.standard)
        let r = post(short, body("ok.alice.j7"))
        XCTAssertEqual(r.httpStatus, 200, r.serialized())
        XCTAssertEqual(r.body["expires_in"]?.integerValue, 120)
        let c = try claims(of: r).claims
        XCTAssertEqual(c["exp"]?.integerValue, Self.now + 120)
        // the other clients keep the server's lifetime
        let d = try claims(of: post(Self.appBasic, body("ok.alice.j8"))).claims
        XCTAssertEqual(d["exp"]?.integerValue, Self.now + 3600)
        for bad in ["0", "-5", "31536001", "1.5", "\"60\"", "null"] {
            XCTAssertThrowsError(try clients.register(json: #"{"client_id":"x","access_token_lifetime":"# + bad + "}")) { e in
                XCTAssertEqual((e as? JWTGrantError)?.code, .invalidArgument)
                XCTAssertTrue((e as? JWTGrantError)?.reason.contains("access_token_lifetime") ?? false, "\(e)")
            }
        }
    }

    func testFreshJtiPerToken() throws {
        let a = try claims(of: post(Self.appBasic, body("ok.alice.j1")))
        let b = try claims(of: post(Self.appBasic, body("ok.alice.j2")))
        XCTAssertNotEqual(a.claims["jti"]?.stringValue, b.claims["jti"]?.stringValue)
    }

    func testSuccessWithClientSecretPost() throws {
        let r = post(nil, body(extra: "&client_id=app&client_secret=s3cret"))
        XCTAssertEqual(r.httpStatus, 200, r.serialized())
        XCTAssertEqual(try claims(of: r).claims["client_id"]?.stringValue, "app")
    }

    func testEmptyAuthorizationHeaderCountsAsAbsent() {
        XCTAssertEqual(post("", body(extra: "&client_id=app&client_secret=s3cret")).httpStatus, 200)
    }

    func testBasicWithFormUrlEncodedIdAndSecret() throws {
        // base64("a%3Ab:p%40ss+word") for client "a:b", secret "p@ss word"
        let r = post("Basic YSUzQWI6cCU0MHNzK3dvcmQ=", body())
        XCTAssertEqual(r.httpStatus, 200, r.serialized())
        let c = try claims(of: r).claims
        XCTAssertEqual(c["client_id"]?.stringValue, "a:b")
        XCTAssertEqual(c["aud"]?.stringValue, "a:b")
    }

    func testPostWithEncodedIdAndSecret() {
        XCTAssertEqual(post(nil, body(extra: "&client_id=a%3Ab&client_secret=p%40ss+word")).httpStatus, 200)
    }

    func testBasicWithMatchingBodyClientId() {
        XCTAssertEqual(post(Self.appBasic, body(extra: "&client_id=app")).httpStatus, 200)
    }

    func testUnknownParametersAreIgnored() {
        XCTAssertEqual(post(Self.appBasic, body(extra: "&foo=bar&client_assertion_type=")).httpStatus, 200)
    }

    func testScopeGranted() throws {
        let r = post(Self.appBasic, body(extra: "&scope=read+write"))
        XCTAssertEqual(r.httpStatus, 200, r.serialized())
        XCTAssertEqual(r.body["scope"]?.stringValue, "read write")
        XCTAssertEqual(try claims(of: r).claims["scope"]?.stringValue, "read write")

        let one = post(Self.appBasic, body("ok.alice.j2", extra: "&scope=write%20write"))
        XCTAssertEqual(one.body["scope"]?.stringValue, "write", "duplicates collapse")
    }

    /// Least privilege: a client registered without scopes (or with []) may
    /// request none; its tokens carry no scope.
    func testClientWithoutScopesMayRequestNoScope() throws {
        let ab = "Basic YSUzQWI6cCU0MHNzK3dvcmQ="   // a:b registered without scopes
        assertError(post(ab, body(extra: "&scope=anything+at:all")), "invalid_scope", 400, .invalidScope)
        assertError(post(ab, body(extra: "&scope=admin")), "invalid_scope", 400, .invalidScope)
        XCTAssertEqual(fake.calls.load(ordering: .relaxed), 0, "a refused scope does not burn the assertion")
        let r = post(ab, body())
        XCTAssertEqual(r.httpStatus, 200, r.serialized())
        XCTAssertNil(r.body["scope"])
        XCTAssertNil(try claims(of: r).claims["scope"])

        try clients.register(json: #"{"client_id":"empty","client_secret":"s3cret","scopes":[],"grant_types":["\#(Self.grant)"]}"#)
        assertError(post(nil, body("ok.alice.j2", extra: "&client_id=empty&client_secret=s3cret&scope=read")),
                    "invalid_scope", 400, .invalidScope)
        XCTAssertEqual(post(nil, body("ok.alice.j2", extra: "&client_id=empty&client_secret=s3cret")).httpStatus, 200)
    }

    func testEmptyScopeMeansNone() throws {
        let r = post(Self.appBasic, body(extra: "&scope="))
        XCTAssertEqual(r.httpStatus, 200)
        XCTAssertNil(r.body["scope"])
        XCTAssertNil(try claims(of: r).claims["scope"])
    }

    func testConfiguredIssuerLifetimeAudience() throws {
        let e = makeEndpoint(AccessTokenConfig(issuer: "https://as.example", lifetime: 60, audience: "https://api.example"))
        let r = post(Self.appBasic, body(), to: e)
        XCTAssertEqual(r.body["expires_in"]?.integerValue, 60)
        let c = try claims(of: r).claims
        XCTAssertEqual(c["iss"]?.stringValue, "https://as.example")
        XCTAssertEqual(c["aud"]?.stringValue, "https://api.example")
        XCTAssertEqual(c["exp"]?.integerValue, Self.now + 60)
    }

    // MARK: errors, in the order they are checked

    func testMissingBody() {
        assertError(post(Self.appBasic, nil), "invalid_request", 400, .invalidRequest)
    }

    func testMalformedBody() {
        assertError(post(Self.appBasic, body() + "&assertion=ok.alice.j2"), "invalid_request", 400, .invalidRequest)
        assertError(post(Self.appBasic, body() + "&scope=%zz"), "invalid_request", 400, .invalidRequest)
        assertError(post(Self.appBasic, "grant_type=\(Self.grantEncoded)&&assertion=ok.alice.j1"), "invalid_request", 400)
        XCTAssertEqual(fake.calls.load(ordering: .relaxed), 0)
    }

    func testBothAuthenticationMethods() {
        assertError(post(Self.appBasic, body(extra: "&client_id=app&client_secret=s3cret")), "invalid_request", 400, .invalidRequest)
        assertError(post(Self.appBasic, body(extra: "&client_secret=s3cret")), "invalid_request", 400, .invalidRequest)
    }

    func testBasicAndDifferentBodyClientId() {
        assertError(post(Self.appBasic, body(extra: "&client_id=other")), "invalid_request", 400, .invalidRequest)
    }

    func testSecretWithoutClientId() {
        assertError(post(nil, body(extra: "&client_secret=s3cret")), "invalid_request", 400, .invalidRequest)
    }

    func testNoAuthentication() {
        assertError(post(nil, body()), "invalid_client", 401, .invalidClient)
        // client_id alone is a public client's request: a confidential client
        // (or an unknown one) sending no secret is not authenticated
        assertError(post(nil, body(extra: "&client_id=app")), "invalid_client", 401, .invalidClient)
        assertError(post(nil, body(extra: "&client_id=ghost")), "invalid_client", 401, .invalidClient)
        assertError(post(nil, body(extra: "&client_id=APP")), "invalid_client", 401, .invalidClient)
        XCTAssertEqual(fake.calls.load(ordering: .relaxed), 0)
    }

    /// RFC 7523 3.1: a public client (token_endpoint_auth_method none) sends
    /// client_id and no secret.
    func testPublicClientSendsClientIdOnly() throws {
        let r = post(nil, body(extra: "&client_id=pub"))
        XCTAssertEqual(r.httpStatus, 200, r.serialized())
        XCTAssertEqual(try claims(of: r).claims["client_id"]?.stringValue, "pub")
        // a public client sending a secret, in either form, is refused
        assertError(post(nil, body("ok.alice.j2", extra: "&client_id=pub&client_secret=x")), "invalid_client", 401, .invalidClient)
        assertError(post("Basic cHViOng=", body("ok.alice.j2")), "invalid_client", 401, .invalidClient)   // pub:x
        assertError(post("Basic cHViOg==", body("ok.alice.j2")), "invalid_client", 401, .invalidClient)   // pub:
        XCTAssertEqual(fake.calls.load(ordering: .relaxed), 1)
    }

    /// A client registered for client_secret_basic (or _post) is refused the
    /// other method with its right secret.
    func testRegisteredAuthMethodIsEnforced() throws {
        try clients.register(json: #"{"client_id":"bas","client_secret":"s3cret","token_endpoint_auth_method":"client_secret_basic","grant_types":["\#(Self.grant)"]}"#)
        try clients.register(json: #"{"client_id":"pst","client_secret":"s3cret","token_endpoint_auth_method":"client_secret_post","grant_types":["\#(Self.grant)"]}"#)
        let basBasic = "Basic " + SodiumBase64.encode(Array("bas:s3cret".utf8), variant: SodiumBase64.standard)
        let pstBasic = "Basic " + SodiumBase64.encode(Array("pst:s3cret".utf8), variant: SodiumBase64.standard)
        assertError(post(nil, body("ok.alice.j1", extra: "&client_id=bas&client_secret=s3cret")), "invalid_client", 401, .invalidClient)
        assertError(post(pstBasic, body("ok.alice.j1")), "invalid_client", 401, .invalidClient)
        XCTAssertEqual(fake.calls.load(ordering: .relaxed), 0)
        XCTAssertEqual(post(basBasic, body("ok.alice.j1")).httpStatus, 200)
        XCTAssertEqual(post(nil, body("ok.alice.j2", extra: "&client_id=pst&client_secret=s3cret")).httpStatus, 200)
    }

    func testFailedAuthenticationIsOneGenericAnswer() {
        let wrong = assertError(post("Basic YXBwOndyb25n", body()), "invalid_client", 401, .invalidClient)          // app:wrong
        let ghost = assertError(post("Basic Z2hvc3Q6czNjcmV0", body()), "invalid_client", 401, .invalidClient)      // ghost:s3cret
        let pub = assertError(post("Basic cHViOg==", body()), "invalid_client", 401, .invalidClient)                // pub:
        let postWrong = assertError(post(nil, body(extra: "&client_id=app&client_secret=nope")), "invalid_client", 401)
        let postPub = assertError(post(nil, body(extra: "&client_id=pub&client_secret=x")), "invalid_client", 401)
        XCTAssertEqual(Set([wrong, ghost, pub, postWrong, postPub]).count, 1)
        XCTAssertEqual(fake.calls.load(ordering: .relaxed), 0, "no assertion is verified for an unauthenticated client")
    }

    func testWrongSchemeAndBadBase64() {
        assertError(post("Bearer YXBwOnMzY3JldA==", body()), "invalid_client", 401, .invalidClient)
        assertError(post("Basic YXBwOnMzY3JldA", body()), "invalid_client", 401, .invalidClient)
        assertError(post("Basic !!!!", body()), "invalid_client", 401, .invalidClient)
        assertError(post("Basic YXBw", body()), "invalid_client", 401, .invalidClient)
    }

    func testAuthenticationComesBeforeGrantChecks() {
        assertError(post(nil, "grant_type=client_credentials"), "invalid_client", 401)
        assertError(post("Basic YXBwOndyb25n", "grant_type=password"), "invalid_client", 401)
        assertError(post("Basic YXBwOndyb25n", ""), "invalid_client", 401)
    }

    func testMissingGrantType() {
        assertError(post(Self.appBasic, "assertion=ok.alice.j1"), "invalid_request", 400, .invalidRequest)
        assertError(post(Self.appBasic, "grant_type=&assertion=ok.alice.j1"), "invalid_request", 400, .invalidRequest)
    }

    func testUnsupportedGrantType() {
        assertError(post(Self.appBasic, "grant_type=client_credentials&assertion=ok.alice.j1"), "unsupported_grant_type", 400, .unsupportedGrantType)
        assertError(post(Self.appBasic, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Asaml2-bearer&assertion=x"),
                    "unsupported_grant_type", 400, .unsupportedGrantType)
        // the grant type is compared exactly (no case folding)
        assertError(post(Self.appBasic, "grant_type=URN%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=x"),
                    "unsupported_grant_type", 400)
    }

    func testClientNotAllowedTheGrant() {
        // nogrant:s3cret
        let basic = "Basic " + SodiumBase64.encode(Array("nogrant:s3cret".utf8), variant: SodiumBase64.standard)
        assertError(post(basic, body()), "unauthorized_client", 400, .unauthorizedClient)
        XCTAssertEqual(fake.calls.load(ordering: .relaxed), 0)
    }

    func testMissingAssertion() {
        assertError(post(Self.appBasic, "grant_type=\(Self.grantEncoded)"), "invalid_request", 400, .invalidRequest)
        assertError(post(Self.appBasic, "grant_type=\(Self.grantEncoded)&assertion="), "invalid_request", 400, .invalidRequest)
    }

    func testScopeOutsideTheClients() {
        assertError(post(Self.appBasic, body(extra: "&scope=admin")), "invalid_scope", 400, .invalidScope)
        assertError(post(Self.appBasic, body(extra: "&scope=read+admin")), "invalid_scope", 400, .invalidScope)
        // a refused scope does not burn the assertion
        XCTAssertEqual(fake.calls.load(ordering: .relaxed), 0)
        XCTAssertEqual(post(Self.appBasic, body(extra: "&scope=read")).httpStatus, 200)
    }

    func testMalformedScope() {
        assertError(post(Self.appBasic, body(extra: "&scope=read%20%20write")), "invalid_scope", 400, .invalidScope)
        assertError(post(Self.appBasic, body(extra: "&scope=+read")), "invalid_scope", 400, .invalidScope)
        assertError(post(Self.appBasic, body(extra: "&scope=re%22ad")), "invalid_scope", 400, .invalidScope)
    }

    func testBadAssertionIsInvalidGrant() {
        assertError(post(Self.appBasic, body("forged")), "invalid_grant", 400, .signature)
        assertError(post(Self.appBasic, body("nosub.j9")), "invalid_grant", 400, .claim)
    }

    func testReplayIsInvalidGrant() {
        XCTAssertEqual(post(Self.appBasic, body()).httpStatus, 200)
        assertError(post(Self.appBasic, body()), "invalid_grant", 400, .replay)
        // also through another client and another auth method
        assertError(post(nil, body(extra: "&client_id=a%3Ab&client_secret=p%40ss+word")), "invalid_grant", 400, .replay)
    }

    func testAssertionIsVerifiedOnceForTheAuthenticatedClient() {
        let lock = Locked<[AssertionUse]>([])
        let fake = self.fake!
        let e = TokenEndpoint(config: AccessTokenConfig(), signer: signer, verifier: { (a, use) throws(JWTGrantError) in
            lock.withLock { $0.append(use) }
            return fake.grant(try fake.verify(a, consume: true))
        }, clock: clock, clients: clients)
        XCTAssertEqual(post(Self.appBasic, body(), to: e).httpStatus, 200)
        let uses = lock.withLock { $0 }
        XCTAssertEqual(uses.count, 1)
        XCTAssertEqual(uses.first?.clientID, Identifier("app"))
        XCTAssertNil(uses.first?.scopes)
    }

    func testInternalFailureIs500() {
        let e = makeEndpoint(AccessTokenConfig(lifetime: 0))
        assertError(post(Self.appBasic, body(), to: e), "server_error", 500, .internalError)
    }

    func testSignerFailureIs500() {
        struct BrokenSigner: AccessTokenSigner {
            let output: String?
            var algorithm: String { "ES256" }
            var kid: String { "k" }
            var publicJWK: JSONValue { .object() }
            func sign(header: JSONValue, payload: JSONValue) throws(JWTGrantError) -> String {
                guard let output else { throw JWTGrantError(.internalError, "signing failed") }
                return output
            }
            func verifySignature(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> (header: JSONValue, claims: JSONValue) {
                throw JWTGrantError(.signature, "no")
            }
        }
        for (i, output) in [nil, #"a"b.c.d"#, "", "a.b\\.c"].enumerated() {
            let e = TokenEndpoint(config: AccessTokenConfig(), signer: BrokenSigner(output: output),
                                  verifier: fake.verifier, clock: clock, clients: clients)
            let r = post(Self.appBasic, body("ok.alice.broken\(i)"), to: e)
            assertError(r, "server_error", 500, .internalError)
            XCTAssertNotNil(r.body["error"], "the body stays valid JSON")
        }
    }

    func testSuccessBodyIsExactJSON() {
        let r = post(Self.appBasic, body(extra: "&scope=read"))
        let token = r.body["access_token"]?.stringValue ?? "?"
        XCTAssertEqual(r.json, #"{"access_token":"\#(token)","token_type":"Bearer","expires_in":3600,"scope":"read"}"#)
    }

    // MARK: concurrency

    func testEightThreadsOneAssertionExactlyOneSucceeds() {
        for round in 0..<20 {
            let statuses = Locked<[Int32]>([])
            let request = body("ok.alice.race\(round)")
            let e = endpoint!
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                let r = Self.post(Self.appBasic, request, to: e)
                statuses.withLock { $0.append(r.httpStatus) }
                if r.httpStatus != 200 { XCTAssertEqual(r.status, .replay) }
            }
            let s = statuses.withLock { $0 }
            XCTAssertEqual(s.count, 8)
            XCTAssertEqual(s.filter { $0 == 200 }.count, 1, "round \(round): \(s)")
            XCTAssertEqual(s.filter { $0 == 400 }.count, 7, "round \(round): \(s)")
        }
    }

    // MARK: JWKS

    func testJWKS() {
        XCTAssertEqual(endpoint.jwksJSON().serialized(), #"{"keys":[{"kty":"oct-fake","kid":"fake-kid","alg":"ES256"}]}"#)
    }
}
