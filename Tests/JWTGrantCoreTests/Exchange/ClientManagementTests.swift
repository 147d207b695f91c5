import XCTest
import Synchronization
@testable import JWTGrantCore

/// Client management (remove, list, secret rotation with a grace period)
/// and the token endpoint's security defaults, through a whole
/// `AuthorizationServer`: real assertions, the real clock injection.
final class ClientManagementTests: XCTestCase {
    static let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let grantEncoded = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"

    func exchange(_ s: AuthorizationServer, _ authorization: String?, _ body: String) -> TokenResponse {
        withOptionalBytes(authorization) { a in withOptionalBytes(body) { b in s.tokenEndpoint.handle(authorization: a, body: b) } }
    }

    func basic(_ id: String, _ secret: String) -> String {
        "Basic " + SodiumBase64.encode(Array("\(id):\(secret)".utf8), variant: SodiumBase64.standard)
    }

    func form(_ assertion: String, _ extra: String = "") -> String {
        "grant_type=\(Self.grantEncoded)&assertion=\(assertion)" + extra
    }

    func register(_ s: AuthorizationServer, _ id: String, secret: String? = "s3cret", method: String? = nil) throws {
        var json = #"{"client_id":"\#(id)","grant_types":["\#(Self.grant)"]"#
        if let secret { json += #","client_secret":"\#(secret)""# }
        if let method { json += #","token_endpoint_auth_method":"\#(method)""# }
        try s.clients.register(json: json + "}")
    }

    // MARK: rotation

    func testRotationWithoutGraceReplacesAtOnce() throws {
        let idp = try TestIssuer("idp")
        let s = try AuthorizationServer.forTests(issuers: [idp])
        try register(s, "app")
        XCTAssertEqual(exchange(s, basic("app", "s3cret"), form(try idp.mint())).httpStatus, 200)
        try s.clients.rotateSecret(id: "app", newSecret: "n3w", graceSeconds: 0)
        let old = exchange(s, basic("app", "s3cret"), form(try idp.mint()))
        XCTAssertEqual(old.httpStatus, 401)
        XCTAssertEqual(old.status, .invalidClient)
        XCTAssertEqual(exchange(s, basic("app", "n3w"), form(try idp.mint())).httpStatus, 200)
        XCTAssertEqual(exchange(s, nil, form(try idp.mint(), "&client_id=app&client_secret=n3w")).httpStatus, 200)
        let listed = try s.clients.list()
        XCTAssertEqual(listed.elements.first?["secrets"]?.integerValue, 1)
        XCTAssertNil(listed.elements.first?["grace_until"])
    }

    func testRotationWithGraceKeepsTheOldSecretForThePeriod() throws {
        let idp = try TestIssuer("idp")
        let s = try AuthorizationServer.forTests(issuers: [idp])
        try register(s, "app")
        try s.clients.rotateSecret(id: "app", newSecret: "n3w", graceSeconds: 600)
        XCTAssertEqual(exchange(s, basic("app", "s3cret"), form(try idp.mint())).httpStatus, 200, "old secret in grace")
        XCTAssertEqual(exchange(s, basic("app", "n3w"), form(try idp.mint())).httpStatus, 200)
        var listed = try s.clients.list()
        XCTAssertEqual(listed.elements.first?["secrets"]?.integerValue, 2)
        XCTAssertEqual(listed.elements.first?["grace_until"]?.integerValue, T0 + 600)

        // a second rotation within the grace keeps both earlier secrets until their own end
        s.clock.set(T0 + 100)
        try s.clients.rotateSecret(id: "app", newSecret: "n3wer", graceSeconds: 60)
        listed = try s.clients.list()
        XCTAssertEqual(listed.elements.first?["secrets"]?.integerValue, 3)
        XCTAssertEqual(listed.elements.first?["grace_until"]?.integerValue, T0 + 600)
        s.clock.set(T0 + 159)
        XCTAssertEqual(exchange(s, basic("app", "n3w"), form(try idp.mint(["iat": .integer(T0 + 150), "exp": .integer(T0 + 400)]))).httpStatus, 200)
        s.clock.set(T0 + 160)
        XCTAssertEqual(exchange(s, basic("app", "n3w"), form(try idp.mint(["iat": .integer(T0 + 150), "exp": .integer(T0 + 400)]))).httpStatus, 401,
                       "the grace of the second rotation is over")
        XCTAssertEqual(exchange(s, basic("app", "s3cret"), form(try idp.mint(["iat": .integer(T0 + 150), "exp": .integer(T0 + 400)]))).httpStatus, 200,
                       "the first grace still runs")

        // when the grace period ends, only the newest secret works
        s.clock.set(T0 + 600)
        let late = ["iat": JSONValue.integer(T0 + 590), "exp": .integer(T0 + 900)]
        XCTAssertEqual(exchange(s, basic("app", "s3cret"), form(try idp.mint(late))).httpStatus, 401)
        XCTAssertEqual(exchange(s, basic("app", "n3w"), form(try idp.mint(late))).httpStatus, 401)
        XCTAssertEqual(exchange(s, basic("app", "n3wer"), form(try idp.mint(late))).httpStatus, 200)
        listed = try s.clients.list()
        XCTAssertEqual(listed.elements.first?["secrets"]?.integerValue, 1)
        XCTAssertNil(listed.elements.first?["grace_until"])
    }

    func testRotationRefusals() throws {
        let s = try AuthorizationServer.forTests(issuers: [])
        try register(s, "app")
        try register(s, "pub", secret: nil, method: "none")
        func refused(_ id: String, _ secret: String, _ grace: Int64, _ code: ErrorCode, _ word: String,
                     line: UInt = #line) {
            XCTAssertThrowsError(try s.clients.rotateSecret(id: id, newSecret: secret, graceSeconds: grace), line: line) { e in
                let e = e as? JWTGrantError
                XCTAssertEqual(e?.code, code, line: line)
                XCTAssertTrue(e?.reason.contains(word) ?? false, e?.reason ?? "", line: line)
                XCTAssertFalse(e?.reason.contains("n3w") ?? true, line: line)
            }
        }
        refused("ghost", "n3w", 0, .notFound, "client_id")
        refused("APP", "n3w", 0, .notFound, "client_id")
        refused("pub", "n3w", 0, .invalidArgument, "public")
        refused("app", "", 0, .invalidArgument, "new_secret")
        refused("app", "n3w", -1, .invalidArgument, "grace_seconds")
        refused("app", "n3w", ClientRegistry.maxGraceSeconds + 1, .invalidArgument, "grace_seconds")
        refused("app", "n3w", .max, .invalidArgument, "grace_seconds")
        // nothing changed
        XCTAssertNoThrow(try s.clients.authenticate(clientID: "app", secret: "s3cret"))
        XCTAssertNoThrow(try s.clients.rotateSecret(id: "app", newSecret: "n3w", graceSeconds: ClientRegistry.maxGraceSeconds))
    }

    func testConcurrentRotationsLoseNoSecret() throws {
        let s = try AuthorizationServer.forTests(issuers: [])
        try register(s, "app")
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            try? s.clients.rotateSecret(id: "app", newSecret: "n\(i)", graceSeconds: 300)
        }
        let listed = try s.clients.list()
        XCTAssertEqual(listed.elements.first?["secrets"]?.integerValue, 9, "the original and eight rotated secrets")
        for i in 0..<8 { XCTAssertNoThrow(try s.clients.authenticate(clientID: "app", secret: "n\(i)")) }
        XCTAssertNoThrow(try s.clients.authenticate(clientID: "app", secret: "s3cret"))
    }

    // MARK: remove and list

    func testRemoveClient() throws {
        let idp = try TestIssuer("idp")
        let s = try AuthorizationServer.forTests(issuers: [idp])
        try register(s, "app")
        try register(s, "other")
        XCTAssertEqual(exchange(s, basic("app", "s3cret"), form(try idp.mint())).httpStatus, 200)
        try s.clients.remove(id: "app")
        let r = exchange(s, basic("app", "s3cret"), form(try idp.mint()))
        XCTAssertEqual(r.httpStatus, 401)
        XCTAssertEqual(r.status, .invalidClient)
        XCTAssertEqual(exchange(s, basic("other", "s3cret"), form(try idp.mint())).httpStatus, 200)
        XCTAssertThrowsError(try s.clients.remove(id: "app")) { XCTAssertEqual(($0 as? JWTGrantError)?.code, .notFound) }
        XCTAssertThrowsError(try s.clients.remove(id: "OTHER")) { XCTAssertEqual(($0 as? JWTGrantError)?.code, .notFound) }
        // the id is free again
        try register(s, "app", secret: "again")
        XCTAssertEqual(exchange(s, basic("app", "again"), form(try idp.mint())).httpStatus, 200)
    }

    func testListNeverShowsASecret() throws {
        let s = try AuthorizationServer.forTests(issuers: [])
        try s.clients.register(json: #"{"client_id":"zeta","client_secret":"topsecret-1","scopes":["read","write"],"grant_types":["\#(Self.grant)"]}"#)
        try s.clients.register(json: #"{"client_id":"alpha","client_secret":"topsecret-2","token_endpoint_auth_method":"client_secret_post"}"#)
        try register(s, "pub", secret: nil, method: "none")
        let list = try s.clients.list()
        let text = list.serialized()
        XCTAssertFalse(text.contains("topsecret"), text)
        XCTAssertFalse(text.contains("secret_hash") || text.contains("salt") || text.contains("digest"), text)
        XCTAssertEqual(list.count, 3)
        XCTAssertEqual(list.elements.dropFirst(0).first?.serialized(),
            #"{"client_id":"alpha","token_endpoint_auth_method":"client_secret_post","auth_methods":["client_secret_post"],"grant_types":[],"scopes":[],"secrets":1}"#)
        XCTAssertEqual(list.elements.dropFirst(1).first?.serialized(),
            #"{"client_id":"pub","token_endpoint_auth_method":"none","auth_methods":["none"],"grant_types":["\#(Self.grant)"],"scopes":[],"secrets":0}"#)
        XCTAssertEqual(list.elements.dropFirst(2).first?.serialized(),
            #"{"client_id":"zeta","auth_methods":["client_secret_basic","client_secret_post"],"grant_types":["\#(Self.grant)"],"scopes":["read","write"],"secrets":1}"#)
        // every hash of every client, current and grace, stays out
        try s.clients.rotateSecret(id: "zeta", newSecret: "topsecret-3", graceSeconds: 60)
        let hashes = try [s.clients.client(id: "zeta")?.secretHash, s.clients.client(id: "zeta")?.graceSecrets.first?.hash]
        let rotated = try s.clients.list().serialized()
        for h in hashes.compactMap({ $0 }) {
            for bytes in [h.salt, h.digest] {
                let b64 = SodiumBase64.encode(bytes, variant: SodiumBase64.standard)
                let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
                XCTAssertFalse(rotated.contains(String(b64.prefix(12))) || rotated.contains(String(hex.prefix(12))), rotated)
            }
        }
    }

    // MARK: security defaults through the token endpoint

    /// The HTTP answer names no trusted issuer and no rule detail; the
    /// detailed reason stays on the result for the host's log.
    func testErrorDescriptionsAreGenericAndNameNoIssuer() throws {
        let idp = try TestIssuer("corp-idp-hidden")
        let other = try TestIssuer("other-idp-hidden")
        let s = try AuthorizationServer.forTests(issuers: [idp])
        try register(s, "app")
        let cases: [(String, ErrorCode)] = [
            (try idp.mint(["exp": .integer(T0 - 100)]), .expired),
            (try idp.mint(["aud": .string("https://elsewhere")]), .audience),
            (try idp.mint([:], header: ["kid": .string("unknown-kid")]), .keyNotFound),
            (try other.mint(), .untrustedIssuer),
            (try idp.mint(["iat": .integer(T0 + 3600), "nbf": .integer(T0 + 3600)]), .notYetValid),
            ("not.a.jwt", .malformed),
        ]
        var details = 0
        for (assertion, code) in cases {
            let r = exchange(s, basic("app", "s3cret"), form(assertion))
            XCTAssertEqual(r.httpStatus, 400, r.json)
            XCTAssertEqual(r.body["error"]?.stringValue, "invalid_grant")
            let d = try XCTUnwrap(r.body["error_description"]?.stringValue)
            XCTAssertEqual(d, "\(try XCTUnwrap(r.status).publicDescription)")
            for word in ["corp-idp", "other-idp", "hidden", "example.com", "unknown-kid", "elsewhere", "\""] {
                XCTAssertFalse(d.contains(word), "\(d) names \(word)")
            }
            if r.status == code { details += 1 }
            XCTAssertFalse((r.detail ?? "").isEmpty)
        }
        XCTAssertGreaterThanOrEqual(details, 4, "the status still says which rule failed")
        // the detail (for the host's log) keeps the precise reason
        let expired = exchange(s, basic("app", "s3cret"), form(try idp.mint(["exp": .integer(T0 - 100)])))
        XCTAssertNotEqual(expired.detail, expired.body["error_description"]?.stringValue)
    }

    func testEveryStatusHasAShortGenericDescription() {
        for code in ErrorCode.allCases {
            let d = "\(code.publicDescription)"
            XCTAssertFalse(d.isEmpty)
            XCTAssertLessThan(d.count, 80, d)
            XCTAssertFalse(d.contains("\"") || d.contains("\\"), d)
        }
    }

    func testPublicClientThroughTheServer() throws {
        let idp = try TestIssuer("idp")
        let s = try AuthorizationServer.forTests(issuers: [idp])
        try register(s, "pub", secret: nil, method: "none")
        let r = exchange(s, nil, form(try idp.mint(), "&client_id=pub"))
        XCTAssertEqual(r.httpStatus, 200, r.json)
        let secretSent = exchange(s, nil, form(try idp.mint(), "&client_id=pub&client_secret=guess"))
        XCTAssertEqual(secretSent.httpStatus, 401)
        XCTAssertEqual(secretSent.body["error"]?.stringValue, "invalid_client")
    }

    // MARK: the body limit follows max_assertion_size

    func testBodyLimitFollowsMaxAssertionSize() throws {
        let idp = try TestIssuer("idp")
        let pad = String(repeating: "x", count: 80 * 1024)
        let assertion = try idp.mint(["pad": .string(pad)])
        XCTAssertGreaterThan(assertion.utf8.count, 80 * 1024)

        // allowed by the configuration: verified and exchanged
        let big = try AuthorizationServer.forTests(#"{"max_assertion_size":131072}"#, issuers: [idp])
        try register(big, "app")
        XCTAssertEqual(big.tokenEndpoint.maxBodySize, 131072 + FormBody.parameterAllowance)
        XCTAssertNoThrow(try big.verify(assertion))
        let ok = exchange(big, basic("app", "s3cret"), form(assertion))
        XCTAssertEqual(ok.httpStatus, 200, ok.json)

        // the default limits: the body (65536) is refused before the assertion is read
        let small = try AuthorizationServer.forTests(issuers: [idp])
        try register(small, "app")
        XCTAssertEqual(small.tokenEndpoint.maxBodySize, 65536)
        let refused = exchange(small, basic("app", "s3cret"), form(try idp.mint(["pad": .string(pad)])))
        XCTAssertEqual(refused.httpStatus, 400)
        XCTAssertEqual(refused.status, .invalidRequest)
        XCTAssertTrue(refused.detail?.contains("65536") ?? false, refused.detail ?? "")

        // the allowance holds the other parameters: an assertion of exactly
        // max_assertion_size fits with a long scope and client_post credentials
        let exact = try AuthorizationServer.forTests(#"{"max_assertion_size":4096}"#, issuers: [idp])
        try exact.clients.register(json: #"{"client_id":"app","client_secret":"s3cret","grant_types":["\#(Self.grant)"],"scopes":["read"]}"#)
        var a = try idp.mint()
        let padding = 4096 - a.utf8.count
        a = try idp.mint(["p": .string(String(repeating: "y", count: max(0, padding * 3 / 4 - 12)))])
        XCTAssertLessThanOrEqual(a.utf8.count, 4096)
        let fits = exchange(exact, nil, form(a, "&client_id=app&client_secret=s3cret&scope=read"))
        XCTAssertEqual(fits.httpStatus, 200, fits.json)
        let over = String(repeating: "z", count: 4096 + FormBody.parameterAllowance)
        XCTAssertEqual(exchange(exact, nil, form(a, "&client_id=app&client_secret=s3cret&x=" + over)).status, .invalidRequest)
    }
}
