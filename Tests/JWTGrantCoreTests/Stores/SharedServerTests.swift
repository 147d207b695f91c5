import XCTest
@testable import JWTGrantCore
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
        XCTAssertTrue(down.json.contains("redis store 127.0.0.1:"), down.json)
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
        XCTAssertTrue(stalled.json.contains("no answer within 150 ms"), stalled.json)
        XCTAssertLessThan(elapsed, 0.28, "one timeout, not two")
        XCTAssertEqual(exchange(a, try issuer.mint()).httpStatus, 200)
    }
}
