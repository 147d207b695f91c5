#if canImport(Glibc)
import Glibc
#endif

/// The SQLite store (`store: "sqlite:PATH"`): one database file shared by
/// every process of a machine. WAL mode (readers never wait for the writer),
/// `synchronous=NORMAL` (a commit survives the death of the process that
/// made it; a power failure may lose the last commits), a busy timeout, the
/// file created with mode 0600, the schema created or migrated on open and
/// recorded in a version row.
///
/// Connections are pooled (a connection is used by one thread at a time);
/// replay records are inserted with one `INSERT ... ON CONFLICT DO UPDATE
/// ... WHERE expiry <= now` statement, and expired ones purged at most once
/// a minute per process. The WAL is checkpointed and restarted every 4000
/// pages by whichever process crosses that (see SQLiteConnection.Checkpoint),
/// so it stays bounded however many processes write. Writes of one process are serialized by a mutex
/// before they reach SQLite, so its threads never wait in SQLite's busy
/// handler for each other; other processes are waited for by a busy handler
/// that retries after 20 us and backs off to 1 ms, up to the busy timeout.
///
/// The replay table has no index on the expiry: an index doubles the pages
/// each insert writes (measured 46 us instead of 23 us per insert), while a
/// purge scans the table once a minute.
public final class SQLiteStore: SharedStore, @unchecked Sendable {
    /// The schema this version writes. A file with a newer one is refused.
    public static let schemaVersion: Int64 = 1
    static let maxIdleConnections = 8
    /// Seconds between purges of expired replay records (per process).
    public static let defaultPurgeInterval = 60.0
    let purgeInterval: Double

    public let path: String
    public let label: String
    let busyTimeoutMs: Int
    /// WAL pages after which a commit checkpoints (see SQLiteConnection.Checkpoint).
    public static let defaultCheckpointPages: Int32 = 4000
    let checkpoint: SQLiteConnection.Checkpoint
    /// RESTART checkpoints this store has run (tests).
    var checkpointRuns: Int { checkpoint.runs }
    private let idle = Locked<[SQLiteConnection]>([])
    /// Serializes this process's write transactions (see above).
    private let writeLock = Lock()
    private let nextPurge = Locked<Double>(0)

    public init(path: String, options: StoreOptions = StoreOptions(),
                purgeInterval: Double = SQLiteStore.defaultPurgeInterval,
                checkpointPages: Int32 = SQLiteStore.defaultCheckpointPages,
                checkpointInterval: Double = 0.05) throws(JWTGrantError) {
        self.path = path
        self.purgeInterval = purgeInterval
        self.label = StoreLocation.sqlite(path: path).label
        self.busyTimeoutMs = options.busyTimeoutMs
        self.checkpoint = SQLiteConnection.Checkpoint(pages: checkpointPages, interval: checkpointInterval)
        let first = try SQLiteConnection(path: path, busyTimeoutMs: busyTimeoutMs, checkpoint: checkpoint, label: label)
        try Self.prepareSchema(first, busyTimeoutMs: busyTimeoutMs)
        nextPurge.withLock { $0 = monotonicSeconds() + purgeInterval }
        idle.withLock { $0.append(first) }
    }

    /// Per-connection settings: commits durable across the death of the
    /// process (synchronous=NORMAL in WAL mode). The connection checkpoints
    /// every `checkpointPages` WAL pages (4000 by default, about 16 MB:
    /// measured here, 10000 made each checkpoint long enough to raise the
    /// p99 latency of two nginx workers to 20 ms, and 1000 cost 5-10% of
    /// the exchange rate) with its own hook
    /// (SQLiteConnection.Checkpoint); `PRAGMA wal_autocheckpoint` would
    /// replace that hook, so it is never set.
    static func configure(_ c: SQLiteConnection) throws(JWTGrantError) {
        try c.execute("PRAGMA synchronous=NORMAL", "configuring the connection")
    }

    /// Switches the file to WAL mode and creates or checks the schema. When
    /// several processes open a new file at once, switching it to WAL mode
    /// needs an exclusive lock that SQLite does not wait for (it answers
    /// SQLITE_BUSY at once rather than risk a deadlock): the whole step is
    /// retried, 1 ms apart and backing off to 50 ms, up to the busy timeout.
    static func prepareSchema(_ c: SQLiteConnection, busyTimeoutMs: Int) throws(JWTGrantError) {
        let deadline = monotonicSeconds() + Double(busyTimeoutMs) / 1000
        var delay: UInt32 = 1000
        while true {
            c.lastFailureWasBusy = false
            do throws(JWTGrantError) {
                try prepareSchemaOnce(c)
                return
            } catch {
                guard c.lastFailureWasBusy, monotonicSeconds() + Double(delay) / 1e6 < deadline else { throw error }
                usleep(delay)
                delay = min(delay * 2, 50_000)
            }
        }
    }

    static func prepareSchemaOnce(_ c: SQLiteConnection) throws(JWTGrantError) {
        let mode = try c.query("PRAGMA journal_mode=WAL", [], "switching to WAL mode")
        guard let m = mode.first?.first?.bytes, String(decoding: m, as: UTF8.self).lowercased() == "wal" else {
            throw JWTGrantError(.storeFailure, "\(c.label): the database cannot use WAL mode")
        }
        try configure(c)
        try c.execute("BEGIN IMMEDIATE", "opening the schema transaction")
        do throws(JWTGrantError) {
            let hasMeta = try c.query(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='jwtgrant_meta'", [], "reading the schema")
            if hasMeta.first?.first?.integerValue ?? 0 > 0 {
                let v = try c.query("SELECT value FROM jwtgrant_meta WHERE name='schema_version'", [], "reading the schema version")
                guard let version = v.first?.first?.integerValue else {
                    throw JWTGrantError(.storeFailure, "\(c.label): the jwtgrant_meta table has no schema_version row")
                }
                if version > schemaVersion {
                    throw JWTGrantError(.storeFailure,
                        "\(c.label): the database has schema version \(version), newer than this library's \(schemaVersion); use a newer libjwtgrant or another file")
                }
                // Migrations from older versions go here (none yet: version 1 is the first).
            } else {
                try c.execute("""
                    CREATE TABLE jwtgrant_meta(name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE TABLE jwtgrant_replay(key BLOB PRIMARY KEY NOT NULL, expiry REAL NOT NULL) WITHOUT ROWID;
                    CREATE TABLE jwtgrant_document(kind TEXT NOT NULL, name BLOB NOT NULL, document BLOB NOT NULL,
                                                   PRIMARY KEY(kind, name)) WITHOUT ROWID;
                    INSERT INTO jwtgrant_meta(name, value) VALUES('schema_version', 1), ('generation', 0);
                    """, "creating the schema")
            }
            try c.execute("COMMIT", "committing the schema")
        } catch {
            if c.inTransaction { try? c.execute("ROLLBACK", "rolling back") }
            throw error
        }
    }

    // MARK: the pool

    private func withConnection<T>(_ body: (SQLiteConnection) throws(JWTGrantError) -> T) throws(JWTGrantError) -> T {
        let c: SQLiteConnection
        if let pooled = idle.withLock({ $0.popLast() }) {
            c = pooled
        } else {
            c = try SQLiteConnection(path: path, busyTimeoutMs: busyTimeoutMs, checkpoint: checkpoint, label: label)
            try Self.configure(c)
        }
        do {
            let result = try body(c)
            release(c)
            return result
        } catch {
            if c.inTransaction { try? c.execute("ROLLBACK", "rolling back") }
            release(c)
            throw error
        }
    }

    private func release(_ c: SQLiteConnection) {
        idle.withLock { if $0.count < Self.maxIdleConnections { $0.append(c) } }
    }

    /// `body` inside BEGIN IMMEDIATE ... COMMIT (rolled back on failure).
    private func transaction<T>(_ c: SQLiteConnection, _ body: () throws(JWTGrantError) -> T) throws(JWTGrantError) -> T {
        try writeLock.withLock { () throws(JWTGrantError) -> T in
            try c.query("BEGIN IMMEDIATE", [], "beginning a transaction")
            let result = try body()
            try c.query("COMMIT", [], "committing")
            return result
        }
    }

    // MARK: ReplayStore

    public func contains(_ key: ReplayKey, now: Double) throws(JWTGrantError) -> Bool {
        try withConnection { (c) throws(JWTGrantError) -> Bool in
            let rows = try c.query("SELECT expiry FROM jwtgrant_replay WHERE key = ?1", [.blob(key.bytes)],
                                   "looking up a replay record")
            guard let expiry = rows.first?.first?.realValue else { return false }
            return now < expiry
        }
    }

    public func insertIfAbsent(_ key: ReplayKey, expiry: Double, now: Double) throws(JWTGrantError) -> Bool {
        let interval = purgeInterval
        let purge = nextPurge.withLock { (next: inout Double) -> Bool in
            let t = monotonicSeconds()
            guard t >= next else { return false }
            next = t + interval
            return true
        }
        return try withConnection { (c) throws(JWTGrantError) -> Bool in
            try writeLock.withLock { () throws(JWTGrantError) -> Bool in
            try c.query("""
                INSERT INTO jwtgrant_replay(key, expiry) VALUES(?1, ?2)
                ON CONFLICT(key) DO UPDATE SET expiry = excluded.expiry WHERE jwtgrant_replay.expiry <= ?3
                """, [.blob(key.bytes), .real(expiry), .real(now)], "recording a used assertion")
            let inserted = c.changes == 1
            if purge {
                // Best effort: a purge that meets a lock is retried a minute later.
                _ = try? c.query("DELETE FROM jwtgrant_replay WHERE expiry <= ?1", [.real(now)], "purging")
            }
            return inserted
            }
        }
    }

    /// Deletes every replay record expired at `now`; how many.
    @discardableResult
    public func purge(now: Double) throws(JWTGrantError) -> Int {
        try withConnection { (c) throws(JWTGrantError) -> Int in
            try c.query("DELETE FROM jwtgrant_replay WHERE expiry <= ?1", [.real(now)], "purging expired replay records")
            return c.changes
        }
    }

    /// Replay records in the file, expired ones included (tests).
    public func replayRecordCount() throws(JWTGrantError) -> Int {
        try withConnection { (c) throws(JWTGrantError) -> Int in
            Int(try c.query("SELECT count(*) FROM jwtgrant_replay", [], "counting").first?.first?.integerValue ?? 0)
        }
    }

    // MARK: documents

    public func generation() throws(JWTGrantError) -> Int64 {
        try withConnection { (c) throws(JWTGrantError) -> Int64 in
            let rows = try c.query("SELECT value FROM jwtgrant_meta WHERE name = 'generation'", [], "reading the generation")
            return rows.first?.first?.integerValue ?? 0
        }
    }

    public func documents(_ kind: DocumentKind) throws(JWTGrantError) -> [(name: [UInt8], document: [UInt8])] {
        try withConnection { (c) throws(JWTGrantError) -> [(name: [UInt8], document: [UInt8])] in
            let rows = try c.query("SELECT name, document FROM jwtgrant_document WHERE kind = ?1 ORDER BY name",
                                   [.text(kind.rawValue)], "reading the \(kind.rawValue) registrations")
            return rows.compactMap { r in
                guard r.count == 2, let n = r[0].bytes, let d = r[1].bytes else { return nil }
                return (n, d)
            }
        }
    }

    public func insertDocument(_ kind: DocumentKind, name: [UInt8], document: [UInt8]) throws(JWTGrantError) -> [UInt8]? {
        try withConnection { (c) throws(JWTGrantError) -> [UInt8]? in
            try transaction(c) { () throws(JWTGrantError) -> [UInt8]? in
                try c.query("INSERT INTO jwtgrant_document(kind, name, document) VALUES(?1, ?2, ?3) ON CONFLICT DO NOTHING",
                            [.text(kind.rawValue), .blob(name), .blob(document)], "storing a \(kind.rawValue) registration")
                if c.changes == 1 {
                    try c.query("UPDATE jwtgrant_meta SET value = value + 1 WHERE name = 'generation'", [],
                                "advancing the generation")
                    return nil
                }
                let rows = try c.query("SELECT document FROM jwtgrant_document WHERE kind = ?1 AND name = ?2",
                                       [.text(kind.rawValue), .blob(name)], "reading a \(kind.rawValue) registration")
                return rows.first?.first?.bytes ?? []
            }
        }
    }

    public func removeDocument(_ kind: DocumentKind, name: [UInt8]) throws(JWTGrantError) -> Bool {
        try withConnection { (c) throws(JWTGrantError) -> Bool in
            try transaction(c) { () throws(JWTGrantError) -> Bool in
                try c.query("DELETE FROM jwtgrant_document WHERE kind = ?1 AND name = ?2",
                            [.text(kind.rawValue), .blob(name)], "removing a \(kind.rawValue) registration")
                guard c.changes == 1 else { return false }
                try c.query("UPDATE jwtgrant_meta SET value = value + 1 WHERE name = 'generation'", [],
                            "advancing the generation")
                return true
            }
        }
    }

    public func document(_ kind: DocumentKind, name: [UInt8]) throws(JWTGrantError) -> [UInt8]? {
        try withConnection { (c) throws(JWTGrantError) -> [UInt8]? in
            let rows = try c.query("SELECT document FROM jwtgrant_document WHERE kind = ?1 AND name = ?2",
                                   [.text(kind.rawValue), .blob(name)], "reading a \(kind.rawValue) registration")
            guard let row = rows.first else { return nil }
            return row.first?.bytes ?? []
        }
    }

    public func replaceDocument(_ kind: DocumentKind, name: [UInt8], expected: [UInt8],
                                document: [UInt8]) throws(JWTGrantError) -> Bool {
        try withConnection { (c) throws(JWTGrantError) -> Bool in
            try transaction(c) { () throws(JWTGrantError) -> Bool in
                try c.query("UPDATE jwtgrant_document SET document = ?4 WHERE kind = ?1 AND name = ?2 AND document = ?3",
                            [.text(kind.rawValue), .blob(name), .blob(expected), .blob(document)],
                            "updating a \(kind.rawValue) registration")
                guard c.changes == 1 else { return false }
                try c.query("UPDATE jwtgrant_meta SET value = value + 1 WHERE name = 'generation'", [],
                            "advancing the generation")
                return true
            }
        }
    }
}
