import XCTest
@testable import JWTGrantCore
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Two servers on one shared store behave as two processes would.
class SharedServerTests: XCTestCase {
    /// The `store` value of a fresh store for one test.
    func storeURL() throws -> String { "sqlite:" + temporaryDirectory(self) + "/shared.db" }

    func server(_ url: String, _ extra: String = "") throws -> AuthorizationServer {
        let s = try AuthorizationServer(configJSON: #"{"store":"\#(url)"\#(extra)}"#)
        s.clock.set(T0)
        return s
    }

    static let clientJSON = #"{"client_id":"app","client_secret":"app-secret","grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer"]}"#

    func exchange(_ s: AuthorizationServer, _ assertion: String, secret: String = "app-secret") -> TokenResponse {
        let auth = "Basic " + SodiumBase64.encode(Array("app:\(secret)".utf8), variant: SodiumBase64.standard)
        let body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"
        return withOptionalBytes(auth) { a in withOptionalBytes(body) { b in s.exchange(authorization: a, body: b) } }
    }

    /// Waits past the one-second generation check.
    func waitForSync() { usleep(1_100_000) }

    func testRegistrationsReachTheOtherServerWithinASecond() throws {
        let url = try storeURL()
        let a = try server(url), b = try server(url)
        let issuer = try TestIssuer("partner")
        try a.registerIssuer(json: issuer.registrationJSON)
        try a.registerClient(json: Self.clientJSON)
        XCTAssertEqual(exchange(b, try issuer.mint()).httpStatus, 401, "not yet seen: the client is unknown to b")
        waitForSync()
        XCTAssertEqual(exchange(b, try issuer.mint()).httpStatus, 200)
        XCTAssertEqual(b.listIssuers().elements.count, 1)
        // Identical re-registration from both is OK; other content is EEXISTS.
        try a.registerIssuer(json: issuer.registrationJSON)
        try b.registerIssuer(json: issuer.registrationJSON)
        try b.registerClient(json: Self.clientJSON)
        try b.registerClient(json: #"{"grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer"],"client_secret":"app-secret","client_id":"app"}"#)
        XCTAssertThrowsError(try b.registerClient(json: Self.clientJSON.replacingOccurrences(of: "app-secret", with: "other"))) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .alreadyExists)
        }
        let other = try TestIssuer("partner")
        XCTAssertThrowsError(try b.registerIssuer(json: other.registrationJSON)) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .alreadyExists)
        }
        // A removal likewise.
        try b.removeIssuer(name: "partner")
        XCTAssertEqual(b.listIssuers().elements.count, 0)
        waitForSync()
        XCTAssertEqual(a.listIssuers().elements.count, 0)
        XCTAssertEqual(exchange(a, try issuer.mint()).statusCode, ErrorCode.untrustedIssuer.rawValue)
        XCTAssertThrowsError(try a.removeIssuer(name: "partner")) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .notFound)
        }
    }

    /// The client fields of main's client management (authentication
    /// method, scopes, access_token_lifetime) survive the store; a rotation
    /// with its grace secret and a removal made by one server reach the other
    /// within a second.
    func testClientRemovalRotationAndFieldsReachTheOtherServer() throws {
        let url = try storeURL()
        let a = try server(url), b = try server(url)
        let issuer = try TestIssuer("partner")
        try a.registerIssuer(json: issuer.registrationJSON)
        let registration = #"{"client_id":"app","client_secret":"app-secret","token_endpoint_auth_method":"client_secret_basic","grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer"],"scopes":["read"],"access_token_lifetime":120}"#
        try a.registerClient(json: registration)
        waitForSync()
        let listed = try b.listClients()
        XCTAssertEqual(listed.elements.count, 1)
        XCTAssertTrue(listed.elements.first?["token_endpoint_auth_method"]?.stringEquals("client_secret_basic") ?? false,
                      listed.serialized())
        XCTAssertEqual(listed.elements.first?["scopes"]?.elements.count, 1)
        let first = exchange(b, try issuer.mint())
        XCTAssertEqual(first.httpStatus, 200, first.json)
        let token = try XCTUnwrap(first.body["access_token"]?.stringValue)
        let claims = try withBytes(token) { (t) throws(JWTGrantError) -> JSONValue in try b.tokenEndpoint.verifyAccessToken(t) }
        XCTAssertEqual((claims["exp"]?.integerValue ?? 0) - (claims["iat"]?.integerValue ?? 0), 120,
                       "access_token_lifetime came through the store")
        // The method is kept: the same secret in the body is refused.
        let post = withOptionalBytes(Optional<String>.none) { auth in
            withOptionalBytes("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=app&client_secret=app-secret&assertion=\(try! issuer.mint())") { body in
                b.exchange(authorization: auth, body: body)
            }
        }
        XCTAssertEqual(post.httpStatus, 401)

        // A rotation with a grace period in a: both secrets work in a at once,
        // in b within a second, and the grace secret ends by b's clock.
        try a.clients.rotateSecret(id: "app", newSecret: "new-secret", graceSeconds: 300)
        XCTAssertEqual(exchange(a, try issuer.mint(), secret: "new-secret").httpStatus, 200)
        XCTAssertEqual(exchange(a, try issuer.mint()).httpStatus, 200)
        XCTAssertEqual(exchange(b, try issuer.mint(), secret: "new-secret").httpStatus, 401, "not yet seen by b")
        waitForSync()
        XCTAssertEqual(exchange(b, try issuer.mint(), secret: "new-secret").httpStatus, 200)
        XCTAssertEqual(exchange(b, try issuer.mint()).httpStatus, 200, "the grace secret")
        let rotated = try b.listClients().elements.first
        XCTAssertEqual(rotated?["secrets"]?.integerValue, 2)
        XCTAssertEqual(rotated?["grace_until"]?.integerValue, T0 + 300)
        let lifetime = exchange(b, try issuer.mint(), secret: "new-secret")
        let rotatedClaims = try withBytes(try XCTUnwrap(lifetime.body["access_token"]?.stringValue)) {
            (t) throws(JWTGrantError) -> JSONValue in try b.tokenEndpoint.verifyAccessToken(t)
        }
        XCTAssertEqual((rotatedClaims["exp"]?.integerValue ?? 0) - (rotatedClaims["iat"]?.integerValue ?? 0), 120,
                       "a rotation keeps access_token_lifetime")
        b.clock.set(T0 + 301)
        XCTAssertEqual(exchange(b, try issuer.mint(["iat": .integer(T0 + 291), "exp": .integer(T0 + 600)])).httpStatus, 401,
                       "the grace period is over")
        b.clock.set(T0)
        // After the rotation the stored registration has another secret: the
        // original document is other content now.
        XCTAssertThrowsError(try b.registerClient(json: registration)) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .alreadyExists)
        }
        try b.registerClient(json: registration.replacingOccurrences(of: "app-secret", with: "new-secret"))

        // A rotation without grace in b: the old secrets fail in a within a second.
        try b.clients.rotateSecret(id: "app", newSecret: "third", graceSeconds: 0)
        waitForSync()
        XCTAssertEqual(exchange(a, try issuer.mint(), secret: "new-secret").httpStatus, 401)
        XCTAssertEqual(exchange(a, try issuer.mint()).httpStatus, 401)
        XCTAssertEqual(exchange(a, try issuer.mint(), secret: "third").httpStatus, 200)

        // A removal in a: refused in a at once, in b within a second.
        try a.clients.remove(id: "app")
        XCTAssertEqual(exchange(a, try issuer.mint(), secret: "third").httpStatus, 401)
        waitForSync()
        XCTAssertEqual(exchange(b, try issuer.mint(), secret: "third").httpStatus, 401)
        XCTAssertEqual(try b.listClients().elements.count, 0)
        for s in [a, b] {
            XCTAssertThrowsError(try s.clients.remove(id: "app")) {
                XCTAssertEqual(($0 as? JWTGrantError)?.code, .notFound)
            }
            XCTAssertThrowsError(try s.clients.rotateSecret(id: "app", newSecret: "x", graceSeconds: 0)) {
                XCTAssertEqual(($0 as? JWTGrantError)?.code, .notFound)
            }
        }
        // A public client has no secret to rotate, on a store as in memory.
        try a.registerClient(json: #"{"client_id":"pub","token_endpoint_auth_method":"none","grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer"]}"#)
        XCTAssertThrowsError(try b.clients.rotateSecret(id: "pub", newSecret: "x", graceSeconds: 0)) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .invalidArgument)
        }
        XCTAssertEqual(try a.listClients().elements.first?["auth_methods"]?.elements.count, 1)
    }

    /// A reload whose documents were read before a write of this process
    /// (here: an empty store snapshot, then a registration) leaves the cache
    /// alone and the generation unread, so the next check reloads: a
    /// removal or rotation is never undone by an older snapshot.
    func testAReloadOlderThanALocalWriteDoesNotUndoIt() throws {
        let url = try storeURL()
        let a = try server(url)
        let clients = try XCTUnwrap(a.sharedClients)
        let before = clients.writeEpoch
        try a.registerClient(json: Self.clientJSON)
        XCTAssertFalse(clients.replaceAll([], ifNoWritesSince: before))
        XCTAssertNotNil(try a.clients.client(id: "app"), "the older snapshot did not remove it")
        try a.clients.rotateSecret(id: "app", newSecret: "rotated", graceSeconds: 0)
        XCTAssertFalse(clients.replaceAll([(Array("app".utf8), SharedClientStore.encode(try XCTUnwrap(
            Optional(Client(clientID: "app", secretHash: ClientSecretHash(hashing: "app-secret"),
                            grantTypes: [Client.jwtBearerGrantType], scopes: nil)))))],
                                          ifNoWritesSince: before))
        XCTAssertEqual(exchange(a, try TestIssuer("x").mint(), secret: "rotated").statusCode,
                       ErrorCode.untrustedIssuer.rawValue, "the rotated secret authenticates (the refusal is the issuer's)")
        XCTAssertEqual(exchange(a, try TestIssuer("x").mint(), secret: "app-secret").httpStatus, 401)
        // With no write since, a snapshot is applied.
        XCTAssertTrue(clients.replaceAll([], ifNoWritesSince: clients.writeEpoch))
        XCTAssertNil(try a.clients.client(id: "app"))
    }

    /// Rotations of one client from two servers at once are applied one
    /// after the other (compare-and-set on the stored document): with a grace
    /// period each keeps every earlier secret, so none is lost.
    func testConcurrentRotationsFromTwoServersLoseNone() throws {
        let url = try storeURL()
        let a = try server(url), b = try server(url)
        try a.registerClient(json: Self.clientJSON)
        let servers = [a, b]
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do {
                try servers[i % 2].clients.rotateSecret(id: "app", newSecret: "secret-\(i)", graceSeconds: 600)
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        let c = try XCTUnwrap(try server(url).clients.client(id: "app"))
        XCTAssertEqual(c.graceSecrets.count, 8, "the first secret and 7 of the 8 new ones are grace secrets")
        for secret in ["app-secret"] + (0..<8).map({ "secret-\($0)" }) {
            XCTAssertTrue(c.secretMatches(secret, now: Double(T0)), secret)
        }
    }

    /// The per-issuer policy fields live in the stored registration document
    /// and hold in a server that learnt the issuer from the store.
    func testIssuerPolicySurvivesTheStore() throws {
        let url = try storeURL()
        let a = try server(url)
        let issuer = try TestIssuer("partner")
        let registration = String(issuer.registrationJSON.dropLast()) + #","allowed_subjects":["bob"],"subject_format":"{name}|{sub}","allowed_clients":["app"],"require_jti":true,"expires_at":\#(T0 + 3600),"max_assertion_lifetime":600,"iat_validity_period":10}"#
        try a.registerIssuer(json: registration)
        try a.registerClient(json: Self.clientJSON)
        let b = try server(url)
        let listed = try XCTUnwrap(b.listIssuers().elements.first)
        XCTAssertEqual(listed["allowed_subjects"]?.elements.first?.stringValue, "bob")
        XCTAssertTrue(listed["subject_format"]?.stringEquals("{name}|{sub}") ?? false, listed.serialized())
        XCTAssertEqual(listed["allowed_clients"]?.elements.count, 1)
        XCTAssertEqual(listed["require_jti"]?.boolValue, true)
        XCTAssertEqual(listed["expires_at"]?.integerValue, T0 + 3600)
        XCTAssertEqual(listed["max_assertion_lifetime"]?.integerValue, 600)
        XCTAssertEqual(listed["iat_validity_period"]?.integerValue, 10)
        XCTAssertEqual(exchange(b, try issuer.mint()).statusCode, ErrorCode.subjectNotAllowed.rawValue)
        XCTAssertEqual(exchange(b, try issuer.mint(["sub": .string("bob"), "jti": nil])).statusCode,
                       ErrorCode.jtiRequired.rawValue)
        let ok = exchange(b, try issuer.mint(["sub": .string("bob")]))
        XCTAssertEqual(ok.httpStatus, 200, ok.json)
        let claims = try withBytes(try XCTUnwrap(ok.body["access_token"]?.stringValue)) {
            (t) throws(JWTGrantError) -> JSONValue in try b.tokenEndpoint.verifyAccessToken(t)
        }
        XCTAssertTrue(claims["sub"]?.stringEquals("partner|bob") ?? false, claims.serialized())
        XCTAssertTrue(claims["idp"]?.stringEquals(issuer.iss) ?? false, claims.serialized())
        b.clock.set(T0 + 3601)
        XCTAssertEqual(exchange(b, try issuer.mint(["sub": .string("bob"), "iat": .integer(T0 + 3590),
                                                    "exp": .integer(T0 + 3700)])).statusCode,
                       ErrorCode.issuerExpired.rawValue)
    }

    func testANewServerStartsWithWhatTheStoreHolds() throws {
        let url = try storeURL()
        let a = try server(url)
        let issuer = try TestIssuer("partner")
        try a.registerIssuer(json: issuer.registrationJSON)
        try a.registerClient(json: Self.clientJSON)
        let b = try server(url)
        XCTAssertEqual(exchange(b, try issuer.mint()).httpStatus, 200)
        XCTAssertEqual(exchange(b, try issuer.mint(), secret: "wrong").httpStatus, 401)
    }

    func testAnAssertionIsExchangedOnceAcrossServers() throws {
        let url = try storeURL()
        let a = try server(url), b = try server(url)
        let issuer = try TestIssuer("partner")
        for s in [a, b] {
            try s.registerIssuer(json: issuer.registrationJSON)
            try s.registerClient(json: Self.clientJSON)
        }
        for _ in 0..<5 {
            let assertion = try issuer.mint()
            XCTAssertEqual(exchange(a, assertion).httpStatus, 200)
            let again = exchange(b, assertion)
            XCTAssertEqual(again.httpStatus, 400)
            XCTAssertEqual(again.statusCode, ErrorCode.replay.rawValue)
        }
    }

    func testEveryServerSignsWithTheStoredKey() throws {
        let url = try storeURL()
        let a = try server(url), b = try server(url)
        XCTAssertEqual(a.tokenEndpoint.jwksJSON().serialized(), b.tokenEndpoint.jwksJSON().serialized())
        let issuer = try TestIssuer("partner")
        try a.registerIssuer(json: issuer.registrationJSON)
        try a.registerClient(json: Self.clientJSON)
        let response = exchange(a, try issuer.mint())
        XCTAssertEqual(response.httpStatus, 200)
        let token = try XCTUnwrap(response.body["access_token"]?.stringValue)
        let claims = try withBytes(token) { (t) throws(JWTGrantError) -> JSONValue in try b.tokenEndpoint.verifyAccessToken(t) }
        XCTAssertTrue(claims["sub"]?.stringEquals("alice@example.com") ?? false)
        XCTAssertThrowsError(try server(url, #","access_token":{"algorithm":"RS256"}"#)) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, .invalidArgument)
            XCTAssertTrue(e?.reason.contains("holds an access-token signing key for ES256") ?? false, e?.reason ?? "")
            XCTAssertFalse(e?.reason.contains("PRIVATE") ?? true)
        }
    }
}

final class SharedRedisServerTests: SharedServerTests {
    private var redis: RedisTestServer?

    override func storeURL() throws -> String {
        let r = try RedisTestServer(self)
        redis = r
        return r.url
    }

    func testARedisOutageAnswers503AndServiceResumes() throws {
        let url = try storeURL()
        let a = try server(url, #","store_options":{"command_timeout":200}"#)
        let issuer = try TestIssuer("partner")
        try a.registerIssuer(json: issuer.registrationJSON)
        try a.registerClient(json: Self.clientJSON)
        XCTAssertEqual(exchange(a, try issuer.mint()).httpStatus, 200)
        redis?.stop()
        let down = exchange(a, try issuer.mint())
        XCTAssertEqual(down.httpStatus, 503)
        XCTAssertEqual(down.statusCode, ErrorCode.unavailable.rawValue)
        XCTAssertTrue(down.body["error"]?.stringEquals("temporarily_unavailable") ?? false, down.json)
        // The public description is generic (ErrorCode.publicDescription); the
        // store and the reason are the host's, in detail.
        XCTAssertTrue(down.body["error_description"]?.stringEquals("the service is temporarily unavailable") ?? false,
                      down.json)
        XCTAssertFalse(down.json.contains("127.0.0.1"), down.json)
        XCTAssertTrue(down.detail?.contains("redis store 127.0.0.1:") ?? false, down.detail ?? "no detail")
        try redis?.start()
        XCTAssertEqual(exchange(a, try issuer.mint()).httpStatus, 200)
    }

    func testAStalledRedisCostsAnExchangeOneTimeoutEvenWhenTheGenerationIsDue() throws {
        let url = try storeURL()
        let a = try server(url, #","store_options":{"command_timeout":150}"#)
        let issuer = try TestIssuer("partner")
        try a.registerIssuer(json: issuer.registrationJSON)
        try a.registerClient(json: Self.clientJSON)
        XCTAssertEqual(exchange(a, try issuer.mint()).httpStatus, 200)
        redis?.pause()
        a.sharedSync?.nextCheckMs.store(0, ordering: .relaxed)   // the generation check is due
        let start = monotonicSeconds()
        let stalled = exchange(a, try issuer.mint())
        let elapsed = monotonicSeconds() - start
        redis?.resume()
        XCTAssertEqual(stalled.httpStatus, 503)
        XCTAssertTrue(stalled.detail?.contains("no answer within 150 ms") ?? false, stalled.detail ?? "no detail")
        XCTAssertFalse(stalled.json.contains("150 ms"), stalled.json)
        XCTAssertLessThan(elapsed, 0.28, "one timeout, not two")
        XCTAssertEqual(exchange(a, try issuer.mint()).httpStatus, 200)
    }
}
