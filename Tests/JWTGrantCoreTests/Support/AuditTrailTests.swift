import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import JWTGrantCore

/// The counters and the latency histogram behind `jwtgrant_stats`, and the
/// callback switch of `jwtgrant_set_log_callback`.
final class AuditTrailTests: XCTestCase {
    func testHistogramBucketsAndQuantiles() {
        XCTAssertEqual(LatencyHistogram.bucket(0.5), 0)
        XCTAssertEqual(LatencyHistogram.bucket(.nan), 0)
        // Every value lies at or under its bucket's upper bound and above the previous one.
        for v in [1.0, 1.1, 1.3, 2, 3, 7.9, 100, 1234.5, 65_000, 1e6, 5e7] {
            let b = LatencyHistogram.bucket(v)
            XCTAssertLessThanOrEqual(v, LatencyHistogram.upperBounds[b] * (1 + 1e-12), "\(v)")
            if b > 0 { XCTAssertGreaterThan(v, LatencyHistogram.upperBounds[b - 1] * (1 - 1e-12), "\(v)") }
        }
        XCTAssertEqual(LatencyHistogram.bucket(1e12), LatencyHistogram.bucketCount - 1)
        XCTAssertEqual(LatencyHistogram.bucket(.infinity), 0)

        let h = LatencyHistogram()
        XCTAssertNil(LatencyHistogram.quantile(0.5, of: h.snapshot()))
        for _ in 0..<90 { h.record(microseconds: 10) }
        for _ in 0..<9 { h.record(microseconds: 1000) }
        h.record(microseconds: 100_000)
        let snap = h.snapshot()
        let p50 = try! XCTUnwrap(LatencyHistogram.quantile(0.5, of: snap))
        let p90 = try! XCTUnwrap(LatencyHistogram.quantile(0.9, of: snap))
        let p99 = try! XCTUnwrap(LatencyHistogram.quantile(0.99, of: snap))
        let p999 = try! XCTUnwrap(LatencyHistogram.quantile(0.999, of: snap))
        XCTAssert(p50 >= 10 && p50 < 10 * 1.19, "\(p50)")
        XCTAssert(p90 >= 10 && p90 < 10 * 1.19, "\(p90)")
        XCTAssert(p99 >= 1000 && p99 < 1000 * 1.19, "\(p99)")
        XCTAssert(p999 >= 100_000 && p999 < 100_000 * 1.19, "\(p999)")
    }

    func testCountsPerOutcomeAndStatus() {
        let a = AuditTrail(startedAt: 0)
        a.countExchange(nil, microseconds: 50)
        a.countExchange(.replay, microseconds: 20)
        a.countExchange(.replay, microseconds: 20)
        a.countExchange(.internalError, microseconds: 20)
        let e = a.exchangesJSON()
        XCTAssertEqual(e["total"]?.serialized(), "4")
        XCTAssertEqual(e["success"]?.serialized(), "1")
        XCTAssertEqual(e["refused"]?.serialized(), "2")
        XCTAssertEqual(e["error"]?.serialized(), "1")
        XCTAssertEqual(e["by_status"]?["JWTGRANT_EREPLAY"]?.serialized(), "2")
        XCTAssertEqual(e["by_status"]?["JWTGRANT_OK"]?.serialized(), "1")
        XCTAssertNil(e["by_status"]?["JWTGRANT_EEXPIRED"])
        XCTAssertNotNil(e["latency_us"]?["p99"]?.numberValue)
        XCTAssertEqual(a.verificationsJSON()["total"]?.serialized(), "0")
    }

    /// Many threads count at once; no increment is lost (TSan-clean: atomics).
    func testConcurrentCounting() {
        let a = AuditTrail(startedAt: 0)
        DispatchQueueFree.concurrentPerform(iterations: 8) { _ in
            for i in 0..<2000 { a.countVerification(i % 2 == 0 ? nil : .expired) }
        }
        let v = a.verificationsJSON()
        XCTAssertEqual(v["total"]?.serialized(), "16000")
        XCTAssertEqual(v["by_status"]?["JWTGRANT_EEXPIRED"]?.serialized(), "8000")
    }

    func testEventsOnlyWithASinkAndNoLockHeld() throws {
        let a = AuditTrail(startedAt: 0)
        let seen = Locked<[String]>([])
        XCTAssertFalse(a.isListening)
        a.verification(nil, facts: ValidationFacts(), now: 1)
        a.setSink(LogSink { level, text in
            // Re-entrant: setting the sink from inside the callback does not deadlock.
            a.setSink(a.isListening ? nil : nil)
            seen.withLock { $0.append("\(level) " + String(cString: text)) }
        })
        XCTAssertTrue(a.isListening)
        a.verification(JWTGrantError(.expired, "the assertion has expired (exp)"), facts: ValidationFacts(), now: 1_800_000_000)
        XCTAssertFalse(a.isListening, "the callback removed itself")
        a.verification(nil, facts: ValidationFacts(), now: 1)
        let events = seen.withLock { $0 }
        XCTAssertEqual(events.count, 1)
        XCTAssertTrue(events[0].hasPrefix("4 "), events[0])
        let json = try JSONValue.parse(String(events[0].dropFirst(2)), what: "event")
        XCTAssertEqual(json["status_name"]?.stringValue, "JWTGRANT_EEXPIRED")
        XCTAssertEqual(json["reason"]?.stringValue, "the assertion has expired (exp)")
        XCTAssertEqual(json["time"]?.serialized(), "1800000000")
        XCTAssertEqual(json["sub"]?.serialized(), "null")
        XCTAssertEqual(a.verificationsJSON()["total"]?.serialized(), "3")
    }

    func testJTIHash() throws {
        let claims = try JOSEObject.parseObject(#"{"jti":"abc"}"#, what: "claims")
        // SHA-256("abc") = ba7816bf8f01cfea...
        XCTAssertEqual(AuditTrail.jtiHash(claims), "ba7816bf8f01cfea")
        XCTAssertNil(AuditTrail.jtiHash(try JOSEObject.parseObject(#"{"jti":5}"#, what: "claims")))
    }
}

/// A tiny concurrentPerform on pthreads (no Foundation/Dispatch needed).
enum DispatchQueueFree {
    static func concurrentPerform(iterations: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var threads: [pthread_t] = []
        final class Box: @unchecked Sendable { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        for i in 0..<iterations {
            var t = pthread_t()
            let box = Unmanaged.passRetained(Box { body(i) }).toOpaque()
            pthread_create(&t, nil, { p in
                guard let p else { return nil }
            let b = Unmanaged<Box>.fromOpaque(p).takeRetainedValue()
                b.body()
                return nil
            }, box)
            threads.append(t)
        }
        for t in threads { pthread_join(t, nil) }
    }
}
