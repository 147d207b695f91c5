import XCTest
@testable import JWTGrantCore

/// The libcurl fetcher and the failure reasons the key set reports, against
/// a local misbehaving endpoint.
final class CurlJWKSFetcherTests: XCTestCase {
    var server: JWKSTestServer!

    override func setUpWithError() throws { server = try JWKSTestServer() }
    override func tearDown() { server?.stop(); server = nil }

    /// A cold key set's failure for `path`, and how long it took.
    private func failure(_ path: String, _ options: JWKSEndpointOptions = JWKSEndpointOptions())
        -> (JWTGrantError?, Double) {
        let set = try? makeKeySet(server.url(path), options: options, fetcher: CurlJWKSFetcher())
        let t0 = monotonicSeconds()
        let e = caught { try set?.keys(kid: "a") }
        return (e, monotonicSeconds() - t0)
    }

    func testNormalFetchReadsBodyAndMaxAge() {
        let r = CurlJWKSFetcher().fetch(url: server.url("/jwks?kids=a,b&max_age=321"), options: JWKSEndpointOptions())
        guard case .response(let status, let body, let maxAge) = r else { return XCTFail(summary(r)) }
        XCTAssertEqual(status, 200)
        XCTAssertEqual(maxAge, 321)
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains("\"kid\": \"b\""))

        let r2 = CurlJWKSFetcher().fetch(url: server.url("/jwks?kids=a"), options: JWKSEndpointOptions())
        guard case .response(200, _, nil) = r2 else { return XCTFail(summary(r2)) }
    }

    func testServerErrorFails() {
        let (e, _) = failure("/status?code=500")
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("HTTP status 500") ?? false, e?.reason ?? "no error")
        let (e404, _) = failure("/status?code=404")
        XCTAssertTrue(e404?.reason.contains("HTTP status 404") ?? false, e404?.reason ?? "no error")
    }

    func testRedirectNotFollowed() {
        let (e, _) = failure("/redirect")
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("redirect not followed") ?? false, e?.reason ?? "no error")
    }

    func testOversizedWithContentLength() {
        let (e, _) = failure("/big")
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("oversized") ?? false, e?.reason ?? "no error")
    }

    func testOversizedStreamedIsCutDuringTransfer() {
        let (e, _) = failure("/big?cl=0")
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("oversized") ?? false, e?.reason ?? "no error")
        // The same document is fine under a larger limit: the limit is what failed.
        var o = JWKSEndpointOptions()
        o.sizeLimitBytes = 200_000
        let (ok, _) = failure("/big?cl=0", o)
        XCTAssertNil(ok)
    }

    func testFetcherItselfStopsAtTheLimit() {
        // The fetcher fails (it does not hand over a truncated or whole body),
        // with and without a Content-Length.
        for path in ["/big", "/big?cl=0"] {
            let r = CurlJWKSFetcher().fetch(url: server.url(path), options: JWKSEndpointOptions())
            guard case .failure(let reason) = r else { XCTFail("\(path): \(summary(r))"); continue }
            XCTAssertTrue(reason.hasPrefix("oversized"), reason)
        }
    }

    func testNotJSON() {
        let (e, _) = failure("/notjson")
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("not JSON") ?? false, e?.reason ?? "no error")
    }

    func testJSONButNotJWKS() {
        let (e, _) = failure("/notjwks")
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("not a JWKS") ?? false, e?.reason ?? "no error")
    }

    func testUnreachable() {
        let url = server.url("/jwks")
        server.stop()
        let set = try? makeKeySet(url, fetcher: CurlJWKSFetcher())
        let e = caught { try set?.keys(kid: "a") }
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("unreachable") ?? false, e?.reason ?? "no error")
        // At the token endpoint: invalid_grant (400), never a server error.
        XCTAssertEqual(e.map { "\($0.code.oauthError)" }, "invalid_grant")
        XCTAssertEqual(e?.code.httpStatus, 400)
    }

    func testStallingEndpointFailsWithinDefaultTimeout() {
        let (e, elapsed) = failure("/slow?delay=10")
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("timeout") ?? false, e?.reason ?? "no error")
        XCTAssertLessThan(elapsed, 2.5)
        XCTAssertGreaterThan(elapsed, 0.8)
    }

    func testStallingEndpointFailsWithinConfiguredTimeout() {
        var o = JWKSEndpointOptions()
        o.connectTimeoutMs = 150
        o.readTimeoutMs = 150
        let (e, elapsed) = failure("/slow?delay=10", o)
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("timeout") ?? false, e?.reason ?? "no error")
        XCTAssertLessThan(elapsed, 1.0)
    }

    func testDrippingEndpointCannotHoldTheRequest() {
        // ~60 bytes at one per 200 ms would take ~12 s.
        let (e, elapsed) = failure("/drip")
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("timeout") ?? false, e?.reason ?? "no error")
        XCTAssertLessThan(elapsed, 2.5)
    }

    func testHTTPSToAPlainServerFails() {
        // An https client against a plain HTTP server: the handshake fails.
        let r = CurlJWKSFetcher().fetch(url: "https://127.0.0.1:\(server.port)/jwks", options: JWKSEndpointOptions())
        guard case .failure(let reason) = r else { return XCTFail(summary(r)) }
        // Python may answer the ClientHello with an HTTP 400 or wait for more.
        XCTAssertTrue(reason.hasPrefix("TLS") || reason.hasPrefix("unreachable") || reason.hasPrefix("timeout"), reason)
    }

    func testFetcherRefusesPolicyViolations() {
        let r = CurlJWKSFetcher().fetch(url: "file:///etc/passwd", options: JWKSEndpointOptions())
        guard case .failure(let reason) = r else { return XCTFail(summary(r)) }
        XCTAssertTrue(reason.contains("refused URL"), reason)
    }
}
