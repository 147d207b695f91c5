import XCTest
@testable import JWTGrantCore

final class JWKSEndpointOptionsTests: XCTestCase {
    func testDefaults() {
        let o = JWKSEndpointOptions()
        XCTAssertEqual(o.connectTimeoutMs, 1000)
        XCTAssertEqual(o.readTimeoutMs, 1000)
        XCTAssertEqual(o.sizeLimitBytes, 51200)
        XCTAssertEqual(o.minTTL, 60)
        XCTAssertEqual(o.maxTTL, 86400)
        XCTAssertEqual(o.defaultTTL, 600)
        XCTAssertEqual(o.unknownKidCooldown, 30)
        XCTAssertEqual(o.staleIfError, 86400)
        XCTAssertEqual(o.totalTimeoutMs, 2000)
    }

    func testTTLClamping() {
        let o = JWKSEndpointOptions()
        XCTAssertEqual(o.ttl(maxAge: nil), 600)
        XCTAssertEqual(o.ttl(maxAge: 0), 60)
        XCTAssertEqual(o.ttl(maxAge: 5), 60)
        XCTAssertEqual(o.ttl(maxAge: 300), 300)
        XCTAssertEqual(o.ttl(maxAge: 10_000_000), 86400)
    }

    func testNormalizedNeverTraps() {
        var o = JWKSEndpointOptions()
        o.connectTimeoutMs = Int.max
        o.readTimeoutMs = Int.min
        o.sizeLimitBytes = -5
        o.minTTL = 500
        o.maxTTL = 10
        o.defaultTTL = Int.max
        o.refreshAhead = .nan
        let n = o.normalized()
        XCTAssertEqual(n.connectTimeoutMs, 600_000)
        XCTAssertEqual(n.readTimeoutMs, 1)
        XCTAssertEqual(n.sizeLimitBytes, 1)
        XCTAssertEqual(n.maxTTL, 500)
        XCTAssertEqual(n.defaultTTL, 500)
        XCTAssertEqual(n.refreshAhead, 0)
        XCTAssertEqual(o.totalTimeoutMs, 600_001)
    }

    func testCacheControl() {
        XCTAssertEqual(CacheControl.maxAge(headerValue: "public, max-age=300"), 300)
        XCTAssertEqual(CacheControl.maxAge(headerValue: "MAX-AGE=\"120\""), 120)
        XCTAssertEqual(CacheControl.maxAge(headerValue: "max-age=300, max-age=100"), 100)
        XCTAssertEqual(CacheControl.maxAge(headerValue: "no-store"), 0)
        XCTAssertEqual(CacheControl.maxAge(headerValue: "max-age=300, no-cache"), 0)
        XCTAssertNil(CacheControl.maxAge(headerValue: "public"))
        XCTAssertNil(CacheControl.maxAge(headerValue: "max-age=-5"))
        XCTAssertNil(CacheControl.maxAge(headerValue: "max-age=12abc"))
        XCTAssertNil(CacheControl.maxAge(headerValue: "max-age="))
        XCTAssertEqual(CacheControl.maxAge(headerValue: "max-age=99999999999999999999999999"), CacheControl.ceiling)
    }

    func testFetchSink() {
        let s = JWKSFetchSink(sizeLimit: 4)
        let big: [UInt8] = [1, 2, 3, 4, 5]
        big.withUnsafeBytes { XCTAssertTrue(s.deliver(status: 200, body: $0, maxAge: -1)) }
        guard case .failure(let r)? = s.recorded else { return XCTFail("\(String(describing: s.recorded))") }
        XCTAssertTrue(r.contains("oversized"))
        XCTAssertFalse(s.fail("again"))

        let ok = JWKSFetchSink(sizeLimit: 10)
        big.withUnsafeBytes { XCTAssertTrue(ok.deliver(status: 200, body: $0, maxAge: 30)) }
        guard case .response(200, let body, 30)? = ok.recorded else { return XCTFail() }
        XCTAssertEqual(body, big)
    }
}

final class JWKSFetchSinkTests: XCTestCase {
    func testFinishInterpretsReturnCodes() {
        let body = Array(#"{"keys":[]}"#.utf8)
        let a = JWKSFetchSink(sizeLimit: 100)
        body.withUnsafeBytes { _ = a.deliver(status: 200, body: $0, maxAge: -1) }
        guard case .response(200, body, nil) = a.finish(returnCode: 0) else { return XCTFail() }

        let b = JWKSFetchSink(sizeLimit: 100)
        guard case .failure(let r) = b.finish(returnCode: 0) else { return XCTFail() }
        XCTAssertTrue(r.contains("without delivering"))
        // Sealed: a late delivery (after the fetch function returned) is refused.
        body.withUnsafeBytes { XCTAssertFalse(b.deliver(status: 200, body: $0, maxAge: -1)) }

        guard case .deferred = JWKSFetchSink(sizeLimit: 100).finish(returnCode: 1) else { return XCTFail() }

        let c = JWKSFetchSink(sizeLimit: 100)
        c.fail("connection refused")
        guard case .failure(let rc) = c.finish(returnCode: -21) else { return XCTFail() }
        XCTAssertTrue(rc.contains("connection refused"), rc)
        guard case .failure(let rd) = JWKSFetchSink(sizeLimit: 100).finish(returnCode: -3) else { return XCTFail() }
        XCTAssertTrue(rd.contains("-3"), rd)
    }
}

final class JWKSFetcherRouterTests: XCTestCase {
    func testRoutesToHostWhenSetAndBackWhenCleared() {
        let builtin = CallbackJWKSFetcher { _, _ in .failure("builtin") }
        let router = JWKSFetcherRouter(builtin: builtin)
        let f = router.fetcher(forIssuer: "idp1")     // taken before the host function is set
        guard case .failure("builtin") = f.fetch(url: "https://x/jwks", options: JWKSEndpointOptions()) else { return XCTFail() }
        router.setHostFetch { name, url, _ in .failure("host:\(name):\(url)") }
        XCTAssertTrue(router.hasHostFetch)
        guard case .failure("host:idp1:https://x/jwks") = f.fetch(url: "https://x/jwks", options: JWKSEndpointOptions()) else { return XCTFail() }
        router.setHostFetch(nil)
        guard case .failure("builtin") = f.fetch(url: "https://x/jwks", options: JWKSEndpointOptions()) else { return XCTFail() }
    }
}

final class JWKSEndpointOptionsConfigTests: XCTestCase {
    private func options(_ json: String) -> Result<JWKSEndpointOptions, JWTGrantError> {
        Result { () throws(JWTGrantError) -> JWKSEndpointOptions in
            try JWKSEndpointOptions(config: JSONValue.parse(json, what: "config"))
        }
    }

    func testReadsFields() throws {
        let o = try options(#"{"connection_timeout":300,"read_timeout":700,"size_limit_bytes":1000,"ca_file":"/etc/ca.pem","min_cache_ttl":10,"max_cache_ttl":100,"default_cache_ttl":50,"unknown_kid_cooldown":5,"stale_if_error":7,"retry_after_failure":2,"refresh_ahead":0.5}"#).get()
        XCTAssertEqual(o.connectTimeoutMs, 300)
        XCTAssertEqual(o.readTimeoutMs, 700)
        XCTAssertEqual(o.sizeLimitBytes, 1000)
        XCTAssertEqual(o.caFile, "/etc/ca.pem")
        XCTAssertEqual(o.minTTL, 10)
        XCTAssertEqual(o.maxTTL, 100)
        XCTAssertEqual(o.defaultTTL, 50)
        XCTAssertEqual(o.unknownKidCooldown, 5)
        XCTAssertEqual(o.staleIfError, 7)
        XCTAssertEqual(o.retryAfterFailure, 2)
        XCTAssertEqual(o.refreshAhead, 0.5)
        XCTAssertEqual(try options("{}").get(), JWKSEndpointOptions())
    }

    func testRefusesBadConfig() {
        for bad in [#"[]"#, #"{"conection_timeout":5}"#, #"{"read_timeout":"1000"}"#, #"{"read_timeout":0}"#,
                    #"{"size_limit_bytes":-1}"#, #"{"connection_timeout":1.5}"#, #"{"ca_file":""}"#,
                    #"{"ca_file":5}"#, #"{"refresh_ahead":2}"#, #"{"min_cache_ttl":100,"max_cache_ttl":10}"#,
                    #"{"default_cache_ttl":5}"#, #"{"connection_timeout":99999999999999}"#] {
            guard case .failure(let e) = options(bad) else { XCTFail("accepted \(bad)"); continue }
            XCTAssertEqual(e.code, .invalidArgument, bad)
        }
    }
}
