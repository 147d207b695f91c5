import XCTest
@testable import JWTGrantCore
#if canImport(Glibc)
import Glibc
#endif

final class RedisStoreTests: XCTestCase {
    func testReplayContract() throws {
        let server = try RedisTestServer(self)
        let s = try RedisStore(address: server.address)
        XCTAssertFalse(try s.contains(ReplayKey("a"), now: 100))
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("a"), expiry: 100.2, now: 100))
        XCTAssertTrue(try s.contains(ReplayKey("a"), now: 100))
        XCTAssertFalse(try s.insertIfAbsent(ReplayKey("a"), expiry: 300, now: 100))
        usleep(400_000)
        XCTAssertFalse(try s.contains(ReplayKey("a"), now: 100.4), "expired on the server")
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("a"), expiry: 300, now: 100.4), "an expired record does not block")
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("b"), expiry: 100, now: 100), "nothing is live at its expiry")
        XCTAssertFalse(try s.contains(ReplayKey("b"), now: 100))
    }

    func testKeysArePrefixedHexOfTheBytes() throws {
        let server = try RedisTestServer(self)
        var o = StoreOptions()
        o.keyPrefix = "app1:"
        let s = try RedisStore(address: server.address, options: o)
        XCTAssertEqual(s.replayKey(ReplayKey(bytes: [0, 0xff, 0x41])), Array("app1:replay:00ff41".utf8))
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey(bytes: [0x65, 0xCC, 0x81]), expiry: 10, now: 1))
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey(bytes: [0xC3, 0xA9]), expiry: 10, now: 1), "bytes, not Unicode equality")
        guard case .integer(let n) = try s.run([Array("EXISTS".utf8), Array("app1:replay:c3a9".utf8)], "t") else {
            return XCTFail("EXISTS")
        }
        XCTAssertEqual(n, 1)
        let other = try RedisStore(address: server.address)
        XCTAssertTrue(try other.insertIfAbsent(ReplayKey(bytes: [0xC3, 0xA9]), expiry: 10, now: 1), "another prefix is another namespace")
    }

    func testConcurrentInsertsOfOneKeyExactlyOneWins() throws {
        let server = try RedisTestServer(self)
        let stores = try (0..<4).map { _ in try RedisStore(address: server.address) }
        assertConcurrentInsertsOfOneKeyExactlyOneWins(stores)
    }

    func testDocumentsAndGeneration() throws {
        let server = try RedisTestServer(self)
        let a = try RedisStore(address: server.address), b = try RedisStore(address: server.address)
        let g0 = try a.generation()
        XCTAssertNil(try a.insertDocument(.issuer, name: [0x61, 0], document: Array("doc1".utf8)))
        XCTAssertGreaterThan(try b.generation(), g0)
        XCTAssertEqual(try b.insertDocument(.issuer, name: [0x61, 0], document: Array("doc2".utf8)), Array("doc1".utf8))
        XCTAssertNil(try b.insertDocument(.issuer, name: [0x61], document: Array("doc3".utf8)), "names are bytes")
        XCTAssertEqual(try a.documents(.issuer).count, 2)
        let g1 = try a.generation()
        XCTAssertTrue(try b.removeDocument(.issuer, name: [0x61, 0]))
        XCTAssertFalse(try b.removeDocument(.issuer, name: [0x61, 0]))
        XCTAssertGreaterThan(try a.generation(), g1)
        XCTAssertEqual(try a.documents(.issuer).map { $0.name }, [[0x61]])
        XCTAssertNil(try a.insertDocument(.signingKey, name: [], document: Array("k1".utf8)))
        XCTAssertEqual(try b.insertDocument(.signingKey, name: [], document: Array("k2".utf8)), Array("k1".utf8))
    }

    func testUnreachableAndRestartedServers() throws {
        let server = try RedisTestServer(self)
        var o = StoreOptions()
        o.commandTimeoutMs = 200
        let s = try RedisStore(address: server.address, options: o)
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("k1"), expiry: 1000, now: 1))
        server.stop()
        XCTAssertThrowsError(try s.insertIfAbsent(ReplayKey("k2"), expiry: 1000, now: 1)) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, .unavailable)
            XCTAssertTrue(e?.reason.contains("redis store 127.0.0.1:\(server.port)/0") ?? false, e?.reason ?? "")
        }
        try server.start()
        XCTAssertFalse(try s.insertIfAbsent(ReplayKey("k1"), expiry: 1000, now: 1), "the record survived the restart (AOF)")
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("k2"), expiry: 1000, now: 1), "service resumed by itself")
        server.stop()
        XCTAssertThrowsError(try RedisStore(address: server.address)) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, .unavailable)
            XCTAssertTrue(e?.reason.contains("cannot connect") ?? false, e?.reason ?? "")
        }
    }

    func testAStalledServerFailsWithinTheCommandTimeout() throws {
        let server = try RedisTestServer(self)
        var o = StoreOptions()
        o.commandTimeoutMs = 150
        let s = try RedisStore(address: server.address, options: o)
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("k1"), expiry: 1000, now: 1))
        server.pause()
        let start = monotonicSeconds()
        XCTAssertThrowsError(try s.insertIfAbsent(ReplayKey("k2"), expiry: 1000, now: 1)) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, .unavailable)
            XCTAssertTrue(e?.reason.contains("no answer within 150 ms") ?? false, e?.reason ?? "")
        }
        let elapsed = monotonicSeconds() - start
        XCTAssertLessThan(elapsed, 0.5)
        server.resume()
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("k3"), expiry: 1000, now: 1), "a new connection after the timeout")
    }

    func testPasswordsAreUsedAndNeverShown() throws {
        let server = try RedisTestServer(self, password: "s3cret-pw")
        let s = try RedisStore(address: server.address)
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("k"), expiry: 1000, now: 1))
        let wrong = try RedisAddress(url: "redis://:wrong-pw@127.0.0.1:\(server.port)")
        XCTAssertThrowsError(try RedisStore(address: wrong)) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, .storeFailure)
            XCTAssertFalse(e?.reason.contains("wrong-pw") ?? true)
            XCTAssertTrue(e?.reason.contains("refused the password") ?? false, e?.reason ?? "")
        }
    }
}
