#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import JWTGrantCore

/// Cache, rotation, single flight, stale-if-error and background refresh of
/// a JWKS endpoint key set, against a local endpoint, with a manual clock.
final class RemoteKeySetTests: XCTestCase {
    var server: JWKSTestServer!
    let clock = ManualClock()

    override func setUpWithError() throws { server = try JWKSTestServer() }
    override func tearDown() { server?.stop(); server = nil }

    private func noRefreshAhead() -> JWKSEndpointOptions {
        var o = JWKSEndpointOptions()
        o.refreshAhead = 0
        return o
    }

    func testFreshSetNeverTouchesTheNetwork() throws {
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/jwks?kids=a,b"), fetcher: f, clock: clock)
        XCTAssertEqual(try set.keys(kid: "a"), [TestKey(kid: "a")])
        XCTAssertEqual(try set.keys(kid: "b"), [TestKey(kid: "b")])
        XCTAssertEqual(try set.keys(kid: nil).count, 2)
        clock.advance(400)          // default TTL 600, refresh-ahead at 480
        XCTAssertEqual(try set.keys(kid: "a").count, 1)
        XCTAssertEqual(f.count, 1)
    }

    func testMaxAgeSetsLifetimeWithinBounds() throws {
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/jwks?kids=a&max_age=120"), options: noRefreshAhead(),
                                 fetcher: f, clock: clock)
        _ = try set.keys(kid: "a")
        clock.advance(119)
        _ = try set.keys(kid: "a")
        XCTAssertEqual(f.count, 1)
        clock.advance(2)            // expired: refetched on the request path
        _ = try set.keys(kid: "a")
        XCTAssertEqual(f.count, 2)

        // max-age=5 is raised to minTTL (60).
        let f2 = CountingFetcher()
        let short = try makeKeySet(server.url("/jwks?kids=a&max_age=5"), options: noRefreshAhead(),
                                   fetcher: f2, clock: clock)
        _ = try short.keys(kid: "a")
        clock.advance(30)
        _ = try short.keys(kid: "a")
        XCTAssertEqual(f2.count, 1)
        clock.advance(31)
        _ = try short.keys(kid: "a")
        XCTAssertEqual(f2.count, 2)
    }

    func testRotationPickedUpWithinCooldown() throws {
        server.set("rot", "kids=k1")
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/state/rot"), fetcher: f, clock: clock)
        XCTAssertEqual(try set.keys(kid: "k1"), [TestKey(kid: "k1")])
        XCTAssertEqual(caught { try set.keys(kid: "k2") }?.code, .keyNotFound)   // uses the one refetch
        XCTAssertEqual(f.count, 2)

        server.set("rot", "kids=k1,k2")       // the issuer rotates
        clock.advance(10)
        // Within the cooldown: no refetch yet.
        XCTAssertEqual(caught { try set.keys(kid: "k2") }?.code, .keyNotFound)
        XCTAssertEqual(f.count, 2)
        clock.advance(21)                     // cooldown (30 s) over
        XCTAssertEqual(try set.keys(kid: "k2"), [TestKey(kid: "k2")])
        XCTAssertEqual(f.count, 3)
        XCTAssertEqual(try set.keys(kid: "k1"), [TestKey(kid: "k1")])
    }

    func testNewKidPickedUpByTheNextToken() throws {
        server.set("rot2", "kids=k1")
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/state/rot2"), fetcher: f, clock: clock)
        _ = try set.keys(kid: "k1")
        server.set("rot2", "kids=k2")          // k1 retired, k2 added
        XCTAssertEqual(try set.keys(kid: "k2"), [TestKey(kid: "k2")])
        XCTAssertEqual(f.count, 2)
        XCTAssertEqual(set.status()["key_ids"]?.elements.compactMap(\.stringValue), ["k2"])
    }

    func testFiftyMadeUpKidsCauseAtMostTwoFetches() throws {
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/jwks?kids=a"), fetcher: f, clock: clock)
        for i in 0..<50 {
            let e = caught { try set.keys(kid: Identifier("made-up-\(i)")) }
            XCTAssertEqual(e?.code, .keyNotFound)
            clock.advance(0.1)
        }
        XCTAssertLessThanOrEqual(f.count, 2)
        XCTAssertGreaterThanOrEqual(f.count, 1)
        XCTAssertEqual(try set.keys(kid: "a").count, 1)
    }

    func testEightThreadsOnAColdSetShareOneFetch() throws {
        server.set("cold", "kids=a&delay=0.3")  // slow enough that all 8 overlap
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/state/cold"), fetcher: f)
        let ok = Locked<Int>(0)
        runOnThreads(8) { _ in
            if let k = try? set.keys(kid: "a"), k == [TestKey(kid: "a")] { ok.withLock { $0 += 1 } }
        }
        XCTAssertEqual(ok.withLock { $0 }, 8)
        XCTAssertEqual(f.count, 1)
    }

    func testEndpointDownCachedKidStillServed() throws {
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/jwks?kids=a,b"), fetcher: f, clock: clock)
        _ = try set.keys(kid: "a")
        server.stop()
        clock.advance(700)                    // expired (600 s)
        XCTAssertEqual(try set.keys(kid: "a"), [TestKey(kid: "a")])   // refetch fails, stale served
        XCTAssertEqual(f.count, 2)
        let st = set.status()
        XCTAssertTrue(st["last_error"]?.stringValue?.contains("unreachable") ?? false, st.serialized())
        XCTAssertNotNil(st["last_fetch"]?.integerValue)
        XCTAssertEqual(st["fetch_count"]?.integerValue, 2)
        XCTAssertEqual(st["stale"]?.boolValue, true)

        // While failing, requests are answered from the stale set without waiting.
        let t0 = monotonicSeconds()
        for _ in 0..<20 { XCTAssertEqual(try set.keys(kid: "b").count, 1) }
        XCTAssertLessThan(monotonicSeconds() - t0, 0.5)

        clock.advance(86400)                  // beyond stale-if-error
        let e = caught { try set.keys(kid: "a") }
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("unreachable") ?? false, e?.reason ?? "served")
    }

    func testColdFailureIsNotRetriedOnEveryRequest() throws {
        let url = server.url("/jwks?kids=a")
        server.stop()
        let f = CountingFetcher()
        let set = try makeKeySet(url, fetcher: f, clock: clock)
        for _ in 0..<10 { XCTAssertEqual(caught { try set.keys(kid: "a") }?.code, .keySourceUnavailable) }
        XCTAssertEqual(f.count, 1)
        clock.advance(6)                      // retryAfterFailure (5 s) over
        XCTAssertEqual(caught { try set.keys(kid: "a") }?.code, .keySourceUnavailable)
        XCTAssertEqual(f.count, 2)
    }

    func testRefreshAheadRunsInTheBackground() throws {
        server.set("bg", "kids=a")
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/state/bg"), fetcher: f, clock: clock)
        _ = try set.keys(kid: "a")
        server.set("bg", "kids=a,b&delay=0.6")  // the refresh will take 0.6 s
        clock.advance(500)                    // past refresh-ahead (480), before expiry (600)
        let t0 = monotonicSeconds()
        XCTAssertEqual(try set.keys(kid: "a").count, 1)
        XCTAssertLessThan(monotonicSeconds() - t0, 0.3)   // answered from the cache
        XCTAssertTrue(eventually(5) { set.status()["key_ids"]?.count == 2 })
        XCTAssertEqual(f.count, 2)
        XCTAssertEqual(try set.keys(kid: "b").count, 1)
        XCTAssertEqual(f.count, 2)
        set.close()
    }

    func testBackgroundRefreshFailureKeepsServing() throws {
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/jwks?kids=a"), fetcher: f, clock: clock)
        _ = try set.keys(kid: "a")
        server.stop()
        clock.advance(500)
        XCTAssertEqual(try set.keys(kid: "a").count, 1)
        XCTAssertTrue(eventually(3) { set.status()["last_error"]?.isString == true })
        XCTAssertEqual(try set.keys(kid: "a").count, 1)
        clock.advance(200)                    // expired; failure known: served stale, no wait
        XCTAssertEqual(try set.keys(kid: "a").count, 1)
    }

    func testSupplyWithoutNetwork() throws {
        let f = CountingFetcher(CallbackJWKSFetcher { _, _ in .deferred })
        let set = try makeKeySet("https://idp.example.com/jwks", fetcher: f, clock: clock)
        // Cold, and the host has not supplied anything yet: fails fast.
        let e = caught { try set.keys(kid: "a") }
        XCTAssertEqual(e?.code, .keySourceUnavailable)
        XCTAssertTrue(e?.reason.contains("host") ?? false, e?.reason ?? "")
        XCTAssertEqual(f.count, 1)

        try set.supply(document: JSONValue.parse(#"{"keys":[{"kid":"a"},{"kid":"b"}]}"#, what: "t"), maxAge: 300)
        XCTAssertEqual(try set.keys(kid: "b"), [TestKey(kid: "b")])
        XCTAssertEqual(set.status()["last_error"]?.isNull, true)
        XCTAssertEqual(f.count, 1)

        for bad in [#"{"foo":1}"#, #"[1]"#, #"{"keys":"x"}"#, #"{"keys":[1]}"#] {
            let e = caught { try set.supply(document: JSONValue.parse(bad, what: "t"), maxAge: nil) }
            XCTAssertEqual(e?.code, .invalidArgument, bad)
        }
        XCTAssertEqual(try set.keys(kid: "a").count, 1)   // the good set survives bad supplies
    }

    func testCallbackFetcherResult() throws {
        let doc = Array(#"{"keys":[{"kid":"cb"}]}"#.utf8)
        let set = try makeKeySet("https://idp.example.com/jwks",
                                 fetcher: CallbackJWKSFetcher { url, _ in
                                     url == "https://idp.example.com/jwks"
                                         ? .response(status: 200, body: doc, maxAge: 60) : .failure("wrong url")
                                 }, clock: clock)
        XCTAssertEqual(try set.keys(kid: "cb"), [TestKey(kid: "cb")])
    }

    func testKidlessKeysAreCandidates() throws {
        let doc = Array(#"{"keys":[{"kty":"oct"},{"kid":"x"}]}"#.utf8)
        let set = try makeKeySet("https://idp.example.com/jwks",
                                 fetcher: CallbackJWKSFetcher { _, _ in .response(status: 200, body: doc, maxAge: nil) },
                                 clock: clock)
        XCTAssertEqual(try set.keys(kid: "x"), [TestKey(kid: "x")])
        XCTAssertEqual(try set.keys(kid: "other"), [TestKey(kid: nil)])
        XCTAssertEqual(try set.keys(kid: nil).count, 2)
    }

    func testStatusFields() throws {
        let set = try makeKeySet(server.url("/jwks?kids=a,b"), fetcher: CountingFetcher(), clock: clock)
        let before = set.status()
        XCTAssertEqual(before["jwks_uri"]?.stringValue, server.url("/jwks?kids=a,b"))
        XCTAssertEqual(before["last_fetch"]?.isNull, true)
        XCTAssertEqual(before["last_error"]?.isNull, true)
        XCTAssertEqual(before["fetch_count"]?.integerValue, 0)
        XCTAssertEqual(before["key_ids"]?.count, 0)
        _ = try set.keys(kid: "a")
        let after = set.status()
        XCTAssertEqual(after["key_ids"]?.elements.compactMap(\.stringValue), ["a", "b"])
        let now = Int64(SystemClock().now())
        XCTAssertLessThanOrEqual(abs((after["last_fetch"]?.integerValue ?? 0) - now), 5)
        XCTAssertEqual(after["fetch_count"]?.integerValue, 1)
        XCTAssertEqual(after["expires_in"]?.integerValue, 600)
    }

    func testCloseStopsBackgroundWork() throws {
        server.set("close", "kids=a")
        let f = CountingFetcher()
        var set: RemoteKeySet<TestKey>? = try makeKeySet(server.url("/state/close"), fetcher: f, clock: clock)
        _ = try set?.keys(kid: "a")
        server.set("close", "kids=a&delay=0.5")
        clock.advance(500)
        _ = try set?.keys(kid: "a")          // starts a background refresh
        let t0 = monotonicSeconds()
        set?.close()                         // waits for it (bounded)
        XCTAssertLessThan(monotonicSeconds() - t0, 3.5)
        XCTAssertEqual(caught { try set?.keys(kid: "a") }?.code, .keySourceUnavailable)
        set?.close()                         // idempotent
        set = nil                            // freed; no thread may touch it now
        usleep(200_000)
        XCTAssertEqual(f.count, 2)
    }
}

final class RemoteKeySetCloseTests: XCTestCase {
    /// A fetch that overruns its bound: close() gives up waiting after
    /// timeout + 1 s, and the late thread finishes on the object it retained.
    func testCloseIsBoundedAndTheLateThreadIsHarmless() throws {
        let clock = ManualClock()
        let calls = Locked<Int>(0)
        let finished = Locked<Bool>(false)
        let doc = Array(#"{"keys":[{"kid":"a"}]}"#.utf8)
        var o = JWKSEndpointOptions()
        o.connectTimeoutMs = 100
        o.readTimeoutMs = 100
        var set: RemoteKeySet<TestKey>? = try makeKeySet(
            "https://idp.example.com/jwks", options: o,
            fetcher: CallbackJWKSFetcher { _, _ in
                let n = calls.withLock { $0 += 1; return $0 }
                if n > 1 { usleep(2_500_000); finished.withLock { $0 = true } }   // the refresh hangs
                return .response(status: 200, body: doc, maxAge: nil)
            }, clock: clock)
        _ = try set?.keys(kid: "a")
        clock.advance(500)
        _ = try set?.keys(kid: "a")                     // starts the hanging background refresh
        XCTAssertTrue(eventually(1) { calls.withLock { $0 } == 2 })
        let t0 = monotonicSeconds()
        set?.close()
        let waited = monotonicSeconds() - t0
        XCTAssertGreaterThan(waited, 1.0)
        XCTAssertLessThan(waited, 2.0)
        set = nil
        XCTAssertTrue(eventually(4) { finished.withLock { $0 } })
        usleep(100_000)                                 // let the thread release the set
        XCTAssertEqual(calls.withLock { $0 }, 2)
    }
}

final class RemoteKeySetStressTests: XCTestCase {
    /// Many threads verify while the set ages through refresh-ahead and
    /// expiry: every known kid is served, unknown kids never hammer the
    /// endpoint, and nothing crashes (run under TSan too).
    func testConcurrentUseWhileRefreshing() throws {
        let server = try JWKSTestServer()
        defer { server.stop() }
        server.set("stress", "kids=a,b&delay=0.05")
        let clock = ManualClock()
        let f = CountingFetcher()
        let set = try makeKeySet(server.url("/state/stress"), fetcher: f, clock: clock)
        let failures = Locked<Int>(0)
        let notFound = Locked<Int>(0)
        runOnThreads(8) { i in
            for j in 0..<150 {
                if i == 0 && j % 10 == 0 { clock.advance(50) }      // 1500 s in all
                let kid = j % 7 == 0 ? "nope-\(i)-\(j)" : (j % 2 == 0 ? "a" : "b")
                do {
                    let k = try set.keys(kid: Identifier(kid))
                    if k.count != 1 || k[0].kid != kid { failures.withLock { $0 += 1 } }
                } catch {
                    if kid.hasPrefix("nope"), let e = error as? JWTGrantError, e.code == .keyNotFound {
                        notFound.withLock { $0 += 1 }
                    } else {
                        failures.withLock { $0 += 1 }
                    }
                }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
        XCTAssertGreaterThan(notFound.withLock { $0 }, 0)
        // 1500 s of clock: 1 cold fetch, about one refresh per 480 s, and at
        // most one unknown-kid refetch per 30 s (50 of them).
        XCTAssertLessThanOrEqual(f.count, 1 + 4 + 51)
        set.close()
    }
}
