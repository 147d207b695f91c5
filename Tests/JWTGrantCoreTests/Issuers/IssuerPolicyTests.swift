import XCTest
@testable import JWTGrantCore

/// The per-issuer trust policy of `issuer_json`, through the real pipeline:
/// registration, verification and the token endpoint of one server.
final class IssuerPolicyTests: XCTestCase {
    static let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let grantEncoded = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"

    var idp: TestIssuer!

    override func setUpWithError() throws {
        idp = try TestIssuer("idp")
    }

    /// A server trusting `issuer` with the policy members `policy` (JSON
    /// members without braces), and clients "app" (scopes read, write) and
    /// "other" (scopes "anything" and "admin", which no issuer policy lists).
    func server(_ policy: String, _ issuer: TestIssuer? = nil, config: String? = nil) throws -> AuthorizationServer {
        let s = try AuthorizationServer.forTests(config, issuers: [])
        try s.registerIssuer(json: Self.registration(issuer ?? idp, policy))
        try s.clients.register(json: #"{"client_id":"app","client_secret":"s3cret","grant_types":["\#(Self.grant)"],"scopes":["read","write"]}"#)
        try s.clients.register(json: #"{"client_id":"other","client_secret":"s3cret","grant_types":["\#(Self.grant)"],"scopes":["anything","admin"]}"#)
        return s
    }

    static func registration(_ issuer: TestIssuer, _ policy: String) -> String {
        let base = issuer.registrationJSON
        guard !policy.isEmpty else { return base }
        return String(base.dropLast()) + "," + policy + "}"
    }

    /// The token endpoint's answer for `assertion` from `client`.
    func exchange(_ s: AuthorizationServer, _ assertion: String, client: String = "app",
                  scope: String? = nil) -> TokenResponse {
        var auth = "Basic " + SodiumBase64.encode(Array("\(client):s3cret".utf8), variant: SodiumBase64.standard)
        var body = "grant_type=\(Self.grantEncoded)&assertion=\(assertion)" + (scope.map { "&scope=" + $0 } ?? "")
        return auth.withUTF8 { a in body.withUTF8 { b in
            s.tokenEndpoint.handle(authorization: UnsafeRawBufferPointer(a), body: UnsafeRawBufferPointer(b))
        } }
    }

    func accessClaims(_ s: AuthorizationServer, _ r: TokenResponse, file: StaticString = #filePath,
                      line: UInt = #line) throws -> JSONValue {
        XCTAssertEqual(r.httpStatus, 200, r.serialized(), file: file, line: line)
        var token = try XCTUnwrap(r.body["access_token"]?.stringValue, file: file, line: line)
        return try token.withUTF8 { try s.tokenEndpoint.verifyAccessToken(UnsafeRawBufferPointer($0)) }
    }

    func assertRefused(_ r: TokenResponse, _ code: ErrorCode, _ oauth: String = "invalid_grant",
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, code, r.serialized(), file: file, line: line)
        XCTAssertEqual(r.httpStatus, 400, file: file, line: line)
        XCTAssertEqual(r.body["error"]?.stringValue, oauth, file: file, line: line)
        let d = r.body["error_description"]?.stringValue ?? ""
        for text in ["alice", "mallory", "example.com", "jti-"] {
            XCTAssertFalse(d.contains(text), "the message echoes \(text): \(d)", file: file, line: line)
        }
    }

    func assertVerifyFails(_ s: AuthorizationServer, _ token: String, _ code: ErrorCode,
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try s.verify(token), file: file, line: line) { e in
            XCTAssertEqual((e as? JWTGrantError)?.code, code, "\(e)", file: file, line: line)
        }
    }

    /// Changes the policy of `idp` the documented way: remove, register again.
    func reRegister(_ s: AuthorizationServer, _ policy: String) throws {
        try s.removeIssuer(name: idp.name)
        try s.registerIssuer(json: Self.registration(idp, policy))
    }

    func listing(_ s: AuthorizationServer) throws -> JSONValue {
        try XCTUnwrap(s.listIssuers().elements.first)
    }

    // MARK: defaults

    func testDefaultsKeepTodaysBehaviourAndAreListed() throws {
        let s = try server("")
        let c = try accessClaims(s, exchange(s, idp.mint(["jti": nil]), client: "other", scope: "anything"))
        XCTAssertEqual(c["sub"]?.stringValue, "alice@example.com")
        XCTAssertEqual(c["idp"]?.stringValue, idp.iss)
        let l = try listing(s)
        for k in ["allowed_subjects", "allowed_scopes", "allowed_clients", "expires_at",
                  "max_assertion_lifetime", "iat_validity_period"] {
            XCTAssertEqual(l[k]?.isNull, true, k)
        }
        XCTAssertEqual(l["subject_format"]?.stringValue, "{sub}")
        XCTAssertEqual(l["expired"]?.boolValue, false)
        XCTAssertEqual(l["require_jti"]?.boolValue, false)
    }

    // MARK: allowed_subjects

    func testAllowedSubjects() throws {
        let s = try server(#""allowed_subjects":["alice@example.com","caf\u00e9"]"#)
        let refused = try idp.mint(["sub": .string("mallory")])
        assertRefused(exchange(s, refused), .subjectNotAllowed)
        assertVerifyFails(s, refused, .subjectNotAllowed)
        // compared as bytes: a canonically equivalent spelling is another subject
        assertRefused(exchange(s, try idp.mint(["sub": .string("cafe\u{301}")])), .subjectNotAllowed)
        XCTAssertEqual(try accessClaims(s, exchange(s, idp.mint()))["sub"]?.stringValue, "alice@example.com")
        let names = try listing(s)["allowed_subjects"]?.elements.compactMap(\.stringValue)
        XCTAssertEqual(names, ["alice@example.com", "caf\u{E9}"])
        XCTAssertEqual(exchange(s, try idp.mint(["sub": .string("caf\u{E9}")])).httpStatus, 200)
    }

    func testRefusedSubjectIsNotConsumed() throws {
        let s = try server(#""allowed_subjects":["alice@example.com"]"#)
        let token = try idp.mint(["sub": .string("mallory")])
        assertRefused(exchange(s, token), .subjectNotAllowed)
        assertRefused(exchange(s, token), .subjectNotAllowed)   // still the policy, not .replay
        // the refusal did not consume it: with the subject allowed it is exchanged, once
        try reRegister(s, #""allowed_subjects":["mallory"]"#)
        XCTAssertEqual(exchange(s, token).httpStatus, 200)
        assertRefused(exchange(s, token), .replay)
    }

    // MARK: allowed_clients

    func testAllowedClientsAndTheAssertionSurvivesARefusal() throws {
        let s = try server(#""allowed_clients":["app"]"#)
        let token = try idp.mint()
        assertRefused(exchange(s, token, client: "other"), .clientNotAllowed)
        // verification alone knows no client: it accepts what app may exchange
        XCTAssertNoThrow(try s.verify(token))
        // not consumed by the refusal: the allowed client exchanges it once
        XCTAssertEqual(exchange(s, token, client: "app").httpStatus, 200)
        assertRefused(exchange(s, token, client: "app"), .replay)
        XCTAssertEqual(try listing(s)["allowed_clients"]?.elements.compactMap(\.stringValue), ["app"])
    }

    // MARK: allowed_scopes

    func testAllowedScopes() throws {
        let s = try server(#""allowed_scopes":["read"]"#)
        let token = try idp.mint()
        assertRefused(exchange(s, token, scope: "read%20write"), .invalidScope, "invalid_scope")
        assertRefused(exchange(s, token, client: "other", scope: "admin"), .invalidScope, "invalid_scope")
        try reRegister(s, #""allowed_scopes":["read","write"]"#)
        XCTAssertEqual(try accessClaims(s, exchange(s, token, scope: "read%20write"))["scope"]?.stringValue, "read write")
        try reRegister(s, #""allowed_scopes":["read"]"#)
        let c = try accessClaims(s, exchange(s, idp.mint(), scope: "read"))
        XCTAssertEqual(c["scope"]?.stringValue, "read")
        // no scope requested: none granted
        XCTAssertNil(try accessClaims(s, exchange(s, idp.mint(), client: "other"))["scope"])
        XCTAssertEqual(try listing(s)["allowed_scopes"]?.elements.compactMap(\.stringValue), ["read"])
    }

    // MARK: expires_at

    func testTrustExpiry() throws {
        let s = try server(#""expires_at":\#(T0 + 100)"#)
        let token = try idp.mint()
        XCTAssertEqual(try listing(s)["expires_at"]?.integerValue, T0 + 100)
        XCTAssertEqual(try listing(s)["expired"]?.boolValue, false)
        s.clock.set(T0 + 101)
        assertRefused(exchange(s, token), .issuerExpired)
        assertVerifyFails(s, token, .issuerExpired)
        XCTAssertEqual(try listing(s)["expired"]?.boolValue, true)
        s.clock.set(T0 + 100)   // at expires_at itself: still trusted, and the token was not consumed
        XCTAssertEqual(exchange(s, token).httpStatus, 200)
    }

    // MARK: require_jti

    func testRequireJTI() throws {
        let s = try server(#""require_jti":true"#)
        let token = try idp.mint(["jti": nil])
        assertRefused(exchange(s, token), .jtiRequired)
        assertVerifyFails(s, token, .jtiRequired)
        try reRegister(s, "")
        XCTAssertEqual(exchange(s, token).httpStatus, 200, "the refusal did not consume it")
        try reRegister(s, #""require_jti":true"#)
        XCTAssertEqual(exchange(s, try idp.mint()).httpStatus, 200)
        XCTAssertEqual(try listing(s)["require_jti"]?.boolValue, true)
        // a present jti must still be a non-empty string, even with replay protection off
        let noCache = try server(#""require_jti":true"#, config: #"{"grant_type":{"jwt":{"enable_jwt_cache":false}}}"#)
        assertRefused(exchange(noCache, try idp.mint(["jti": .integer(7)])), .claim)
        assertRefused(exchange(noCache, try idp.mint(["jti": .string("")])), .claim)
        assertRefused(exchange(noCache, try idp.mint(["jti": nil])), .jtiRequired)
        XCTAssertEqual(exchange(noCache, try idp.mint()).httpStatus, 200)
        // without it, an assertion with no jti is accepted (default false)
        let loose = try server(#""require_jti":false"#)
        XCTAssertEqual(exchange(loose, token).httpStatus, 200)
    }

    // MARK: time rule overrides

    func testMaxAssertionLifetimeOverride() throws {
        let s = try server(#""max_assertion_lifetime":60"#, config: #"{"grant_type":{"jwt":{"max_assertion_lifetime":3600}}}"#)
        let token = try idp.mint(["exp": .integer(T0 + 300)])
        assertRefused(exchange(s, token), .assertionLifetime)
        try reRegister(s, #""max_assertion_lifetime":0"#)   // 0: no limit for this issuer
        XCTAssertEqual(exchange(s, token).httpStatus, 200, "the refusal did not consume it")
        try reRegister(s, #""max_assertion_lifetime":60"#)
        XCTAssertEqual(exchange(s, try idp.mint(["exp": .integer(T0 + 50)])).httpStatus, 200)
        XCTAssertEqual(try listing(s)["max_assertion_lifetime"]?.integerValue, 60)
        // another issuer keeps the server-wide value
        let other = try TestIssuer("other")
        try s.registerIssuer(json: other.registrationJSON)
        XCTAssertEqual(exchange(s, try other.mint(["exp": .integer(T0 + 300)])).httpStatus, 200)
    }

    func testIatValidityPeriodOverride() throws {
        let s = try server(#""iat_validity_period":1"#, config: #"{"grant_type":{"jwt":{"enable_iat_validation":false}}}"#)
        let old = try idp.mint(["iat": .integer(T0 - 120)])
        assertRefused(exchange(s, old), .iatTooOld)
        try reRegister(s, #""iat_validity_period":5"#)
        XCTAssertEqual(exchange(s, old).httpStatus, 200, "the refusal did not consume it")
        XCTAssertEqual(exchange(s, try idp.mint(["iat": .integer(T0 - 30)])).httpStatus, 200)
        XCTAssertEqual(try listing(s)["iat_validity_period"]?.integerValue, 5)
    }

    // MARK: subject namespacing

    func testTwoIssuersWithTheSameSubjectAreToldApart() throws {
        let other = try TestIssuer("other")
        let s = try server(#""subject_format":"{name}|{sub}""#)
        try s.registerIssuer(json: Self.registration(other, #""subject_format":"{issuer}#{sub}""#))
        let a = try accessClaims(s, exchange(s, idp.mint()))
        let b = try accessClaims(s, exchange(s, other.mint()))
        XCTAssertEqual(a["sub"]?.stringValue, "idp|alice@example.com")
        XCTAssertEqual(b["sub"]?.stringValue, "https://other.example.com#alice@example.com")
        XCTAssertEqual(a["idp"]?.stringValue, idp.iss)
        XCTAssertEqual(b["idp"]?.stringValue, other.iss)
        // verification alone returns the assertion's own sub
        XCTAssertEqual(try s.verify(idp.mint())["sub"]?.stringValue, "alice@example.com")
        XCTAssertEqual(try listing(s)["subject_format"]?.stringValue, "{name}|{sub}")
    }

    // MARK: registration

    func testMalformedPolicyFieldsAreRefusedNamingTheField() throws {
        let cases: [(String, String)] = [
            (#""allowed_subjects":"alice""#, "allowed_subjects"),
            (#""allowed_subjects":[""]"#, "allowed_subjects"),
            (#""allowed_subjects":[1]"#, "allowed_subjects"),
            (#""allowed_scopes":["a b"]"#, "allowed_scopes"),
            (#""allowed_scopes":["sc\"ope"]"#, "allowed_scopes"),
            (#""allowed_clients":{}"#, "allowed_clients"),
            (#""allowed_clients":null"#, "allowed_clients"),
            (#""subject_format":"{user}""#, "subject_format"),
            (#""subject_format":"{name}""#, "subject_format"),
            (#""subject_format":"{sub""#, "subject_format"),
            (#""subject_format":"sub}{sub}""#, "subject_format"),
            (#""subject_format":"""#, "subject_format"),
            (#""subject_format":7"#, "subject_format"),
            (#""expires_at":"2027-01-01""#, "expires_at"),
            (#""expires_at":-1"#, "expires_at"),
            (#""expires_at":1e300"#, "expires_at"),
            (#""require_jti":"yes""#, "require_jti"),
            (#""max_assertion_lifetime":-1"#, "max_assertion_lifetime"),
            (#""max_assertion_lifetime":1.5"#, "max_assertion_lifetime"),
            (#""iat_validity_period":0"#, "iat_validity_period"),
            (#""iat_validity_period":true"#, "iat_validity_period"),
        ]
        for (member, field) in cases {
            let s = try AuthorizationServer.forTests(issuers: [])
            XCTAssertThrowsError(try s.registerIssuer(json: Self.registration(idp, member)), member) { e in
                let err = e as? JWTGrantError
                XCTAssertEqual(err?.code, .invalidArgument, member)
                XCTAssertTrue(err?.reason.contains(field) ?? false, "\(member): \(err?.reason ?? "")")
            }
            XCTAssertEqual(s.listIssuers().count, 0, member)
        }
    }

    func testSubjectFormatTemplates() throws {
        let f = try SubjectFormat(parsing: "x{sub}-{name}/{issuer}{sub}")
        XCTAssertEqual(f.render(sub: Array("a".utf8), name: "n", issuer: "i"), "xa-n/ia")
        XCTAssertEqual(SubjectFormat.default.render(sub: Array("caf\u{E9}".utf8), name: "n", issuer: "i"), "caf\u{E9}")
    }
}
