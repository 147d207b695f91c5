import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// A value bound to or read from a SQLite statement.
enum SQLiteValue {
    case integer(Int64)
    case real(Double)
    case blob([UInt8])
    case text(String)
    case null

    var integerValue: Int64? { if case .integer(let v) = self { return v } else { return nil } }
    var realValue: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }
    var bytes: [UInt8]? {
        switch self {
        case .blob(let b): return b
        case .text(let t): return Array(t.utf8)
        default: return nil
        }
    }
}

/// `SQLITE_TRANSIENT`: SQLite copies bound blobs and texts.
private let transient = unsafeBitCast(Int(-1), to: sqlite3_destructor_type.self)

/// One SQLite connection (`sqlite3 *`) with its prepared statements. Used by
/// one thread at a time (the store's pool hands it out); closed in deinit.
final class SQLiteConnection {
    /// What the busy handler needs: the timeout and when this wait began.
    final class BusyWait {
        /// The connection's busy timeout, lowered while it checkpoints.
        var timeoutMs: Int
        var start = 0.0
        init(timeoutMs: Int) { self.timeoutMs = timeoutMs }
    }

    /// When this process checkpoints the WAL: shared by the connections of
    /// one store.
    ///
    /// SQLite's automatic checkpoint (PASSIVE, after any commit that leaves
    /// the WAL over its limit) never waits for readers. With several
    /// processes writing one file, another process is nearly always inside
    /// a transaction, so the WAL is never restarted: it grows without bound
    /// (measured here: 236 MB after 40,000 exchanges from two processes) and,
    /// once over the limit, every commit runs a checkpoint with its two
    /// fsyncs. Instead, a commit that leaves the WAL at `pages` or more runs a
    /// RESTART checkpoint, which waits (through the busy handler) for the
    /// readers of the moment to finish and makes the next writer start the
    /// WAL over, and one that crosses each quarter of `pages` below that runs
    /// a PASSIVE one, which holds no writer: the RESTART, which holds them,
    /// then has little left to copy (measured with two nginx workers: p99
    /// 5-6 ms against 11-13 ms with RESTART alone). A RESTART is tried at most every `interval` seconds per
    /// store after the last one ended (four after one a reader kept from
    /// restarting the WAL), one at a time, waiting for readers at most
    /// `maxWaitMs` (a reader that stays, such as an open `sqlite3` shell or
    /// a backup, costs the writers of a process that much every 200 ms, not
    /// the busy timeout).
    final class Checkpoint {
        let pages: Int32
        let interval: Double
        static let maxWaitMs = 20
        private let lock = Lock()
        private var next = 0.0
        private var running = false
        private var count = 0
        /// WAL pages at the last PASSIVE checkpoint.
        private var passiveAt: Int32 = 0

        init(pages: Int32, interval: Double = 0.05) {
            self.pages = pages
            self.interval = interval
        }

        /// RESTART checkpoints started (tests).
        var runs: Int { lock.withLock { count } }

        /// The checkpoint a commit that left `walPages` pages should run now,
        /// if any; the caller runs it and then calls `end(restarted:)`. Below
        /// the limit, a PASSIVE one every quarter of it copies pages into the
        /// database without holding any writer, so that the RESTART at the
        /// limit has little left to copy while it holds them.
        func begin(_ walPages: Int32) -> Int32? {
            let quarter = max(pages / 4, 1)
            guard walPages >= quarter else { return nil }
            let now = monotonicSeconds()
            return lock.withLock { () -> Int32? in
                if walPages < passiveAt { passiveAt = 0 }          // the WAL was restarted
                guard !running else { return nil }
                if walPages >= pages {
                    guard now >= next else { return nil }
                    running = true
                    count += 1
                    return SQLITE_CHECKPOINT_RESTART
                }
                guard walPages >= passiveAt + quarter else { return nil }
                passiveAt = walPages
                running = true
                return SQLITE_CHECKPOINT_PASSIVE
            }
        }

        /// After a checkpoint that could not restart the WAL (a reader
        /// stayed), the next waits four intervals.
        func end(mode: Int32, restarted: Bool) {
            let now = monotonicSeconds()
            lock.withLock {
                running = false
                if mode == SQLITE_CHECKPOINT_RESTART { next = now + (restarted ? interval : 4 * interval) }
            }
        }
    }

    private let db: OpaquePointer
    private let busy: BusyWait
    /// Whether the last failure was SQLITE_BUSY or SQLITE_LOCKED (another
    /// connection held a lock SQLite would not wait for).
    var lastFailureWasBusy = false
    private let checkpoint: Checkpoint
    /// Prepared statements by their SQL text (the library's own constants).
    private var statements: [Identifier: OpaquePointer] = [:]
    let label: String

    /// Creates the file with mode 0600 when it does not exist (SQLite gives
    /// its -wal and -shm files the same mode), then opens it.
    init(path: String, busyTimeoutMs: Int, checkpoint: Checkpoint, label: String) throws(JWTGrantError) {
        self.label = label
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 {
            let why = String(cString: strerror(errno))
            throw JWTGrantError(.storeFailure, "\(label): cannot create or open the file: \(why)")
        }
        close(fd)
        var handle: OpaquePointer? = nil
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let why = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let handle { sqlite3_close_v2(handle) }
            throw JWTGrantError(.storeFailure, "\(label): cannot open: \(why)")
        }
        db = handle
        busy = BusyWait(timeoutMs: busyTimeoutMs)
        // SQLite's own busy timeout sleeps in steps of 1 ms and more; this
        // handler retries after 20 us and backs off to 1 ms, up to the timeout.
        sqlite3_busy_handler(db, { context, count in
            guard let context else { return 0 }
            let wait = Unmanaged<BusyWait>.fromOpaque(context).takeUnretainedValue()
            let now = monotonicSeconds()
            if count == 0 { wait.start = now }
            guard (now - wait.start) * 1000 < Double(wait.timeoutMs) else { return 0 }
            usleep(UInt32(min(20 << min(Int(count), 6), 1000)))
            return 1
        }, Unmanaged.passUnretained(busy).toOpaque())
        sqlite3_extended_result_codes(db, 1)
        // Replaces SQLite's automatic checkpoint (see Checkpoint). The hook
        // runs after the commit; the commit stands whatever it returns, and
        // it returns SQLITE_OK so that the statement reports no error.
        self.checkpoint = checkpoint
        sqlite3_wal_hook(db, { context, _, name, pages in
            guard let context else { return SQLITE_OK }
            Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue().committed(walPages: pages, name)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// The WAL hook's work (on the thread that committed, which owns this
    /// connection): a RESTART checkpoint when one is due, waiting for
    /// readers at most Checkpoint.maxWaitMs.
    private func committed(walPages: Int32, _ name: UnsafePointer<CChar>?) {
        guard let mode = checkpoint.begin(walPages) else { return }
        let timeout = busy.timeoutMs
        busy.timeoutMs = min(timeout, Checkpoint.maxWaitMs)
        let rc = sqlite3_wal_checkpoint_v2(db, name, mode, nil, nil)
        busy.timeoutMs = timeout
        checkpoint.end(mode: mode, restarted: rc == SQLITE_OK)
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close_v2(db)
    }

    /// The error for result code `rc`: `.unavailable` for a lock held too
    /// long, I/O and a full disk (the store answers late or not at all),
    /// `.storeFailure` otherwise (not a database, corrupt, read-only...).
    func failure(_ rc: Int32, _ doing: String) -> JWTGrantError {
        let primary = rc & 0xff
        lastFailureWasBusy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED
        let why = String(cString: sqlite3_errmsg(db))
        switch primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return JWTGrantError(.unavailable, "\(label): \(doing): the database stayed locked by another connection beyond the busy timeout")
        case SQLITE_IOERR, SQLITE_FULL, SQLITE_PROTOCOL, SQLITE_NOMEM:
            return JWTGrantError(.unavailable, "\(label): \(doing): \(why)")
        case SQLITE_NOTADB:
            return JWTGrantError(.storeFailure, "\(label): the file is not a SQLite database")
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM:
            return JWTGrantError(.storeFailure,
                "\(label): \(doing): \(why) (the file and its directory must be writable: WAL mode keeps -wal and -shm files beside it)")
        default:
            return JWTGrantError(.storeFailure, "\(label): \(doing): \(why)")
        }
    }

    /// Runs statements without parameters or results (schema, BEGIN, COMMIT).
    func execute(_ sql: String, _ doing: String) throws(JWTGrantError) {
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw failure(rc, doing) }
    }

    /// Runs one statement (prepared once per connection) with `params` and
    /// returns its rows.
    @discardableResult
    func query(_ sql: String, _ params: [SQLiteValue] = [], _ doing: String) throws(JWTGrantError) -> [[SQLiteValue]] {
        let stmt: OpaquePointer
        if let s = statements[Identifier(sql)] {
            stmt = s
        } else {
            var s: OpaquePointer? = nil
            let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
            guard rc == SQLITE_OK, let s else { throw failure(rc, doing) }
            statements[Identifier(sql)] = s
            stmt = s
        }
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        for (i, p) in params.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch p {
            case .integer(let v): rc = sqlite3_bind_int64(stmt, index, v)
            case .real(let v): rc = sqlite3_bind_double(stmt, index, v)
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob64(stmt, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64($0.count), transient) }
            case .text(let t): rc = sqlite3_bind_text64(stmt, index, t, UInt64(t.utf8.count), transient, UInt8(SQLITE_UTF8))
            case .null: rc = sqlite3_bind_null(stmt, index)
            }
            guard rc == SQLITE_OK else { throw failure(rc, doing) }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure(rc, doing) }
            var row: [SQLiteValue] = []
            let n = sqlite3_column_count(stmt)
            for c in 0..<n {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(stmt, c)))
                case SQLITE_TEXT:
                    let p = sqlite3_column_text(stmt, c)
                    let len = Int(sqlite3_column_bytes(stmt, c))
                    row.append(.text(p.map { String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self) } ?? ""))
                case SQLITE_BLOB:
                    let p = sqlite3_column_blob(stmt, c)
                    let len = Int(sqlite3_column_bytes(stmt, c))
                    row.append(.blob(p.map { Array(UnsafeRawBufferPointer(start: $0, count: len)) } ?? []))
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes64(db)) }

    /// Whether a transaction is open (after a failure, to roll it back).
    var inTransaction: Bool { sqlite3_get_autocommit(db) == 0 }
}
