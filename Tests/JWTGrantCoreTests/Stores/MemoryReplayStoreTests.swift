import XCTest
@testable import JWTGrantCore

final class MemoryReplayStoreTests: XCTestCase {
    func testRecordsOnceUntilExpiry() throws {
        let s = MemoryReplayStore()
        XCTAssertFalse(s.contains(ReplayKey("a"), now: 100))
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("a"), expiry: 200, now: 100))
        XCTAssertTrue(s.contains(ReplayKey("a"), now: 150))
        XCTAssertFalse(try s.insertIfAbsent(ReplayKey("a"), expiry: 300, now: 150))
        XCTAssertFalse(s.contains(ReplayKey("a"), now: 200), "expired at its expiry")
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("a"), expiry: 300, now: 201), "an expired record does not block")
    }

    func testExpiredEntriesAreSweptAndCapacityFailsClosed() throws {
        let s = MemoryReplayStore(capacity: 3000)
        for i in 0..<2000 { XCTAssertTrue(try s.insertIfAbsent(ReplayKey("k\(i)"), expiry: 10, now: 0)) }
        for i in 0..<2000 { XCTAssertTrue(try s.insertIfAbsent(ReplayKey("n\(i)"), expiry: 100, now: 20)) }
        XCTAssertLessThanOrEqual(s.count, 3000, "expired entries were swept")
        XCTAssertThrowsError(try {
            for i in 0..<2000 { _ = try s.insertIfAbsent(ReplayKey("m\(i)"), expiry: 100, now: 20) }
        }()) { XCTAssertEqual(($0 as? JWTGrantError)?.code, .storeFailure) }
        XCTAssertTrue(s.contains(ReplayKey("n1999"), now: 20), "unexpired entries are never forgotten")
    }

    func testConcurrentInsertsOfOneKeyExactlyOneWins() {
        let s = MemoryReplayStore()
        let wins = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 64) { _ in
            if (try? s.insertIfAbsent(ReplayKey("same"), expiry: 1000, now: 1)) == true { wins.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(wins.load(ordering: .relaxed), 1)
    }
}

import Dispatch
import Synchronization
