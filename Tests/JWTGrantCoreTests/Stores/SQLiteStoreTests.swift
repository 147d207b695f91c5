import XCTest
@testable import JWTGrantCore
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) -> String {
    var template = Array("/tmp/jwtgrant-store-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    test.addTeardownBlock {
        if let d = opendir(dir) {
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink("\(dir)/\(name)") }
            }
            closedir(d)
        }
        rmdir(dir)
    }
    return dir
}

final class SQLiteStoreTests: XCTestCase {
    func testReplayContract() throws {
        let s = try SQLiteStore(path: temporaryDirectory(self) + "/a.db")
        XCTAssertFalse(try s.contains(ReplayKey("a"), now: 100))
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("a"), expiry: 200, now: 100))
        XCTAssertTrue(try s.contains(ReplayKey("a"), now: 150))
        XCTAssertFalse(try s.insertIfAbsent(ReplayKey("a"), expiry: 300, now: 150))
        XCTAssertFalse(try s.contains(ReplayKey("a"), now: 200), "expired at its expiry")
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("a"), expiry: 300, now: 200), "an expired record does not block")
        XCTAssertFalse(try s.insertIfAbsent(ReplayKey("a"), expiry: 300, now: 250))
    }

    func testKeysAreBytes() throws {
        let s = try SQLiteStore(path: temporaryDirectory(self) + "/a.db")
        // "é" precomposed and decomposed are equal as Swift Strings, not as bytes.
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey(bytes: [0x65, 0xCC, 0x81]), expiry: 10, now: 1))
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey(bytes: [0xC3, 0xA9]), expiry: 10, now: 1))
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey(bytes: [0, 1, 0]), expiry: 10, now: 1))
        XCTAssertFalse(try s.insertIfAbsent(ReplayKey(bytes: [0, 1, 0]), expiry: 10, now: 1))
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey(bytes: [0, 1]), expiry: 10, now: 1))
    }

    func testTwoHandlesOnOneFileShareRecords() throws {
        let path = temporaryDirectory(self) + "/a.db"
        let a = try SQLiteStore(path: path), b = try SQLiteStore(path: path)
        XCTAssertTrue(try a.insertIfAbsent(ReplayKey("k"), expiry: 100, now: 1))
        XCTAssertTrue(try b.contains(ReplayKey("k"), now: 2))
        XCTAssertFalse(try b.insertIfAbsent(ReplayKey("k"), expiry: 100, now: 2))
    }

    func testConcurrentInsertsOfOneKeyExactlyOneWins() throws {
        let path = temporaryDirectory(self) + "/a.db"
        let stores = try (0..<4).map { _ in try SQLiteStore(path: path) }
        assertConcurrentInsertsOfOneKeyExactlyOneWins(stores)
    }

    /// Two handles on one file writing at once, as two processes do: SQLite's
    /// own checkpoint never restarts the WAL then (the other handle is nearly
    /// always inside a transaction) and it grows by every insert; the store's
    /// RESTART checkpoint keeps it near its limit.
    func testTheWALStaysBoundedWhileTwoHandlesWriteAtOnce() throws {
        let path = temporaryDirectory(self) + "/a.db"
        let pages: Int32 = 64
        let stores = try (0..<2).map { _ in
            try SQLiteStore(path: path, checkpointPages: pages, checkpointInterval: 0)
        }
        let perThread = 3000
        let largest = Locked<Int>(0), failures = Locked<Int>(0)
        runOnThreads(2) { t in
            for i in 0..<perThread {
                do {
                    if try !stores[t].insertIfAbsent(ReplayKey("t\(t)-\(i)"), expiry: 1e12, now: 1) {
                        failures.withLock { $0 += 1 }
                    }
                } catch {
                    failures.withLock { $0 += 1 }
                }
                var st = stat()
                if i % 50 == 0, stat(path + "-wal", &st) == 0 {
                    largest.withLock { $0 = max($0, Int(st.st_size)) }
                }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
        XCTAssertEqual(try stores[0].replayRecordCount(), 2 * perThread)
        XCTAssertGreaterThan(stores[0].checkpointRuns + stores[1].checkpointRuns, 0)
        // Frames are 4096 + 24 bytes; an insert writes one or two. Without the
        // restart the WAL passes 20 MB here; with it, a few times the limit
        // (a checkpoint that meets the other handle mid-transaction waits for
        // it at most 20 ms and leaves the restart to the next one).
        let bound = 8 * Int(pages) * 4120
        XCTAssertLessThan(largest.withLock { $0 }, bound, "the WAL grew past eight times its limit")
    }

    /// A reader that stays inside a transaction (an open `sqlite3` shell, a
    /// backup) keeps every checkpoint from finishing: each attempt waits for
    /// it at most Checkpoint.maxWaitMs, never the busy timeout (1 s here).
    func testAReaderThatStaysDelaysAnInsertByTheCheckpointWaitAtMost() throws {
        let path = temporaryDirectory(self) + "/a.db"
        let s = try SQLiteStore(path: path, checkpointPages: 16, checkpointInterval: 0)
        let reader = try SQLiteConnection(path: path, busyTimeoutMs: 1000, checkpoint: .init(pages: 10000), label: "t")
        try reader.execute("BEGIN", "beginning")
        _ = try reader.query("SELECT count(*) FROM jwtgrant_replay", [], "reading")
        var slowest = 0.0
        for i in 0..<100 {
            let t0 = monotonicSeconds()
            XCTAssertTrue(try s.insertIfAbsent(ReplayKey("k\(i)"), expiry: 1e12, now: 1))
            slowest = max(slowest, monotonicSeconds() - t0)
        }
        try reader.execute("COMMIT", "ending")
        XCTAssertGreaterThan(s.checkpointRuns, 10, "a checkpoint was tried again and again")
        XCTAssertLessThan(slowest, 0.5, "an insert waited for the reader about as long as the busy timeout")
        XCTAssertEqual(try s.replayRecordCount(), 100)
    }

    /// Processes that start together (Apache children, nginx workers, a
    /// pool of programs) open a new file at once: each must get the store,
    /// none a "locked" error from switching the file to WAL mode.
    func testManyHandlesOpeningANewFileAtOnceAllSucceed() throws {
        let dir = temporaryDirectory(self)
        for round in 0..<10 {
            let path = dir + "/r\(round).db"
            let failures = Locked<[String]>([])
            runOnThreads(6) { _ in
                do {
                    let s = try SQLiteStore(path: path)
                    _ = try s.insertIfAbsent(ReplayKey("k"), expiry: 100, now: 1)
                } catch {
                    failures.withLock { $0.append((error as? JWTGrantError)?.reason ?? "\(error)") }
                }
            }
            XCTAssertEqual(failures.withLock { $0 }, [], "round \(round)")
            XCTAssertEqual(try SQLiteStore(path: path).replayRecordCount(), 1)
        }
    }

    func testPurgeDeletesOnlyExpiredRecords() throws {
        let s = try SQLiteStore(path: temporaryDirectory(self) + "/a.db")
        for i in 0..<50 { XCTAssertTrue(try s.insertIfAbsent(ReplayKey("old\(i)"), expiry: 10, now: 1)) }
        for i in 0..<5 { XCTAssertTrue(try s.insertIfAbsent(ReplayKey("new\(i)"), expiry: 100, now: 1)) }
        XCTAssertEqual(try s.purge(now: 10), 50)
        XCTAssertEqual(try s.replayRecordCount(), 5)
        XCTAssertTrue(try s.contains(ReplayKey("new4"), now: 50))
    }

    func testInsertsPurgeExpiredRecordsOncePerInterval() throws {
        let s = try SQLiteStore(path: temporaryDirectory(self) + "/a.db", purgeInterval: 0.3)
        for i in 0..<20 { XCTAssertTrue(try s.insertIfAbsent(ReplayKey("old\(i)"), expiry: 10, now: 1)) }
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("live"), expiry: 100, now: 20))
        XCTAssertEqual(try s.replayRecordCount(), 21, "no purge before the interval")
        usleep(350_000)
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("next"), expiry: 100, now: 20))
        XCTAssertEqual(try s.replayRecordCount(), 2, "the expired records went with the first insert after the interval")
        XCTAssertFalse(try s.insertIfAbsent(ReplayKey("live"), expiry: 100, now: 20))
    }

    func testFileIsCreatedOwnerOnlyInWALModeWithAVersionRow() throws {
        let path = temporaryDirectory(self) + "/a.db"
        let s = try SQLiteStore(path: path)
        _ = try s.insertIfAbsent(ReplayKey("k"), expiry: 100, now: 1)
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertEqual(stat(path + "-wal", &st), 0, "WAL mode keeps a -wal file")
        XCTAssertEqual(st.st_mode & 0o077, 0, "the -wal file is not readable by others")
        let c = try SQLiteConnection(path: path, busyTimeoutMs: 100, checkpoint: .init(pages: 10000), label: "t")
        XCTAssertEqual(try c.query("SELECT value FROM jwtgrant_meta WHERE name='schema_version'", [], "t").first?.first?.integerValue, 1)
        XCTAssertEqual(try c.query("PRAGMA journal_mode", [], "t").first?.first?.bytes.map { String(decoding: $0, as: UTF8.self) }, "wal")
    }

    func testANewerSchemaIsRefused() throws {
        let path = temporaryDirectory(self) + "/a.db"
        _ = try SQLiteStore(path: path)
        let c = try SQLiteConnection(path: path, busyTimeoutMs: 100, checkpoint: .init(pages: 10000), label: "t")
        try c.execute("UPDATE jwtgrant_meta SET value = 2 WHERE name = 'schema_version'", "t")
        XCTAssertThrowsError(try SQLiteStore(path: path)) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, .storeFailure)
            XCTAssertTrue(e?.reason.contains("schema version 2, newer than this library's 1") ?? false, e?.reason ?? "")
        }
    }

    func testAFileThatIsNotADatabaseIsRefused() throws {
        let path = temporaryDirectory(self) + "/a.db"
        let fd = open(path, O_WRONLY | O_CREAT, 0o600)
        let junk = Array(repeating: UInt8(ascii: "x"), count: 4096)
        XCTAssertEqual(write(fd, junk, junk.count), junk.count)
        close(fd)
        XCTAssertThrowsError(try SQLiteStore(path: path)) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, .storeFailure)
            XCTAssertTrue(e?.reason.contains("not a SQLite database") ?? false, e?.reason ?? "")
            XCTAssertTrue(e?.reason.contains(path) ?? false, "the message names the file")
        }
    }

    func testAMissingDirectoryIsAClearError() {
        XCTAssertThrowsError(try SQLiteStore(path: "/nonexistent-dir/a.db")) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, .storeFailure)
            XCTAssertTrue(e?.reason.contains("cannot create or open the file: No such file or directory") ?? false,
                          e?.reason ?? "")
        }
    }

    func testALockHeldBeyondTheBusyTimeoutIsUnavailable() throws {
        let path = temporaryDirectory(self) + "/a.db"
        var options = StoreOptions()
        options.busyTimeoutMs = 50
        let s = try SQLiteStore(path: path, options: options)
        let holder = try SQLiteConnection(path: path, busyTimeoutMs: 50, checkpoint: .init(pages: 10000), label: "t")
        try holder.execute("BEGIN IMMEDIATE", "t")
        let start = monotonicSeconds()
        XCTAssertThrowsError(try s.insertIfAbsent(ReplayKey("k"), expiry: 100, now: 1)) { error in
            XCTAssertEqual((error as? JWTGrantError)?.code, .unavailable)
        }
        XCTAssertLessThan(monotonicSeconds() - start, 1.0)
        try holder.execute("ROLLBACK", "t")
        XCTAssertTrue(try s.insertIfAbsent(ReplayKey("k"), expiry: 100, now: 1), "usable again once the lock is gone")
    }

    func testDocumentsAndGeneration() throws {
        let path = temporaryDirectory(self) + "/a.db"
        let a = try SQLiteStore(path: path), b = try SQLiteStore(path: path)
        let g0 = try a.generation()
        XCTAssertNil(try a.insertDocument(.issuer, name: [0x61], document: Array("doc1".utf8)))
        XCTAssertGreaterThan(try b.generation(), g0)
        XCTAssertEqual(try b.insertDocument(.issuer, name: [0x61], document: Array("doc2".utf8)), Array("doc1".utf8))
        XCTAssertNil(try b.insertDocument(.client, name: [0x61], document: Array("c".utf8)), "kinds are separate")
        XCTAssertEqual(try a.documents(.issuer).map { $0.document }, [Array("doc1".utf8)])
        let g1 = try a.generation()
        XCTAssertTrue(try b.removeDocument(.issuer, name: [0x61]))
        XCTAssertFalse(try b.removeDocument(.issuer, name: [0x61]))
        XCTAssertGreaterThan(try a.generation(), g1)
        XCTAssertTrue(try a.documents(.issuer).isEmpty)
    }
}
