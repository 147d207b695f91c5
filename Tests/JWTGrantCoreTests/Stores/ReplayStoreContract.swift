import Dispatch
import Synchronization
import XCTest
@testable import JWTGrantCore

/// The part of the replay-store contract that the shared stores (SQLite,
/// Redis) check the same way: `stores` are handles on one shared store; in
/// each of 20 rounds, 16 threads insert one new key through them (thread i
/// through handle i % stores.count), and exactly one insert wins, none fails.
func assertConcurrentInsertsOfOneKeyExactlyOneWins(_ stores: [any ReplayStore],
                                                   file: StaticString = #filePath, line: UInt = #line) {
    for round in 0..<20 {
        let wins = Atomic<Int>(0), failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            do {
                if try stores[i % stores.count].insertIfAbsent(ReplayKey("same\(round)"), expiry: 1000, now: 1) {
                    wins.add(1, ordering: .relaxed)
                }
            } catch { failures.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(wins.load(ordering: .relaxed), 1, "round \(round)", file: file, line: line)
        XCTAssertEqual(failures.load(ordering: .relaxed), 0, file: file, line: line)
    }
}
