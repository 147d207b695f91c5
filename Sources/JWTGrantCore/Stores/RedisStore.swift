/// The Redis store (`store: "redis://[:PASSWORD@]HOST:PORT[/DB]"`): shared
/// by every process on every machine. Every operation touches one key, so
/// the layout works on a Redis Cluster too:
///
/// - `PREFIX replay:HEX(key)`: one string per replay record, written with
///   `SET ... NX PX ttl`, so it expires by itself;
/// - `PREFIX issuers`, `PREFIX clients`: one hash each, field = name,
///   value = the registration document;
/// - `PREFIX generation`: the counter `INCR`ed after each registration change;
/// - `PREFIX signing_key`: the generated access-token signing key.
///
/// Connections are pooled (a hiredis context serves one thread at a time);
/// a connection whose command failed or timed out is dropped, and the next
/// operation connects again, so service resumes by itself after a restart.
public final class RedisStore: SharedStore, @unchecked Sendable {
    static let maxIdleConnections = 8

    public let address: RedisAddress
    public let options: StoreOptions
    public let label: String
    private let prefix: [UInt8]
    private let idle = Locked<[RedisConnection]>([])

    /// Connects once (an unreachable server fails here, with `.unavailable`).
    public init(address: RedisAddress, options: StoreOptions = StoreOptions()) throws(JWTGrantError) {
        self.address = address
        self.options = options
        self.label = StoreLocation.redis(address).label
        self.prefix = Array(options.keyPrefix.utf8)
        let first = try RedisConnection(address: address, options: options, label: label)
        guard case .status(let pong) = try first.command([Array("PING".utf8)], "PING"), pong == "PONG" else {
            throw JWTGrantError(.storeFailure, "\(label): the server did not answer PING with PONG")
        }
        idle.withLock { $0.append(first) }
    }

    func key(_ parts: String...) -> [UInt8] {
        var k = prefix
        for p in parts { k += Array(p.utf8) }
        return k
    }

    func replayKey(_ key: ReplayKey) -> [UInt8] { self.key("replay:", Hex.encode(key.bytes)) }

    private func hashKey(_ kind: DocumentKind) -> [UInt8] {
        switch kind {
        case .issuer: return key("issuers")
        case .client: return key("clients")
        case .signingKey: return key("signing_key")
        }
    }

    // MARK: the pool

    /// Runs one command on a pooled connection. A pooled connection that
    /// fails at once (the server restarted and closed it) is dropped with
    /// the rest of the idle ones, and the command is tried once more on a
    /// new connection; a timeout is never retried.
    func run(_ args: [[UInt8]], _ doing: String) throws(JWTGrantError) -> RedisReply {
        var attempt = 0
        while true {
            attempt += 1
            var pooled = idle.withLock { $0.popLast() }
            while let p = pooled, p.peerClosed {
                _ = p
                pooled = idle.withLock { $0.popLast() }
            }
            let c: RedisConnection
            if let pooled { c = pooled } else { c = try RedisConnection(address: address, options: options, label: label) }
            let start = monotonicSeconds()
            let reply: RedisReply
            do throws(JWTGrantError) {
                reply = try c.command(args, doing)
            } catch {
                let quick = (monotonicSeconds() - start) * 1000 < Double(options.commandTimeoutMs) / 2
                guard error.code == .unavailable, pooled != nil, quick, attempt == 1 else { throw error }
                idle.withLock { $0.removeAll() }
                continue
            }
            idle.withLock { if $0.count < Self.maxIdleConnections { $0.append(c) } }
            if case .error(let e) = reply {
                // LOADING, READONLY, MISCONF...: the server cannot serve now
                // (an answer, so never retried).
                throw JWTGrantError(.unavailable, "\(label): \(doing): the server answered \(printable(e, limit: 120))")
            }
            return reply
        }
    }

    // MARK: ReplayStore

    /// Whether a live record exists; Redis expires records by its own clock.
    public func contains(_ key: ReplayKey, now: Double) throws(JWTGrantError) -> Bool {
        guard case .integer(let n) = try run([Array("EXISTS".utf8), replayKey(key)], "looking up a replay record") else {
            throw JWTGrantError(.storeFailure, "\(label): EXISTS did not answer with an integer")
        }
        return n > 0
    }

    /// `SET key 1 NX PX ttl` with ttl = expiry - now: the record lives as
    /// long on the server as the caller's clock says it must (relative, so
    /// `jwtgrant_ctx_set_time` and clock differences between the machines
    /// and Redis do not shorten it).
    public func insertIfAbsent(_ key: ReplayKey, expiry: Double, now: Double) throws(JWTGrantError) -> Bool {
        let ttl = ((expiry - now) * 1000).rounded(.up)
        guard ttl >= 1 else { return !(try contains(key, now: now)) }
        let ms = ttl < 1e15 ? Int64(ttl) : Int64(1e15)
        let reply = try run([Array("SET".utf8), replayKey(key), [0x31], Array("NX".utf8), Array("PX".utf8),
                             Array(String(ms).utf8)], "recording a used assertion")
        switch reply {
        case .status: return true
        case .null: return false
        default: throw JWTGrantError(.storeFailure, "\(label): SET NX answered neither OK nor nil")
        }
    }

    // MARK: documents

    public func generation() throws(JWTGrantError) -> Int64 {
        switch try run([Array("GET".utf8), key("generation")], "reading the generation") {
        case .null: return 0
        case .string(let s): return Int64(String(decoding: s, as: UTF8.self)) ?? 0
        default: throw JWTGrantError(.storeFailure, "\(label): the generation key does not hold a number")
        }
    }

    private func advanceGeneration() throws(JWTGrantError) {
        _ = try run([Array("INCR".utf8), key("generation")], "advancing the generation")
    }

    public func documents(_ kind: DocumentKind) throws(JWTGrantError) -> [(name: [UInt8], document: [UInt8])] {
        if kind == .signingKey {
            switch try run([Array("GET".utf8), hashKey(kind)], "reading the signing key") {
            case .string(let d): return [(Array("access_token".utf8), d)]
            default: return []
            }
        }
        guard case .array(let items) = try run([Array("HGETALL".utf8), hashKey(kind)], "reading the \(kind.rawValue) registrations") else {
            throw JWTGrantError(.storeFailure, "\(label): HGETALL did not answer with an array")
        }
        var out: [(name: [UInt8], document: [UInt8])] = []
        var i = 0
        while i + 1 < items.count {
            if case .string(let n) = items[i], case .string(let d) = items[i + 1] { out.append((n, d)) }
            i += 2
        }
        return out
    }

    public func insertDocument(_ kind: DocumentKind, name: [UInt8], document: [UInt8]) throws(JWTGrantError) -> [UInt8]? {
        if kind == .signingKey {
            switch try run([Array("SET".utf8), hashKey(kind), document, Array("NX".utf8)], "storing the signing key") {
            case .status: return nil
            default:
                guard case .string(let d) = try run([Array("GET".utf8), hashKey(kind)], "reading the signing key") else {
                    throw JWTGrantError(.storeFailure, "\(label): the signing key vanished while being read")
                }
                return d
            }
        }
        for _ in 0..<3 {
            guard case .integer(let set) = try run([Array("HSETNX".utf8), hashKey(kind), name, document],
                                                   "storing a \(kind.rawValue) registration") else {
                throw JWTGrantError(.storeFailure, "\(label): HSETNX did not answer with an integer")
            }
            if set == 1 {
                try advanceGeneration()
                return nil
            }
            if case .string(let d) = try run([Array("HGET".utf8), hashKey(kind), name], "reading a \(kind.rawValue) registration") {
                return d
            }
            // Removed between HSETNX and HGET: try again.
        }
        throw JWTGrantError(.unavailable, "\(label): a \(kind.rawValue) registration kept changing while being stored")
    }

    public func removeDocument(_ kind: DocumentKind, name: [UInt8]) throws(JWTGrantError) -> Bool {
        guard case .integer(let n) = try run([Array("HDEL".utf8), hashKey(kind), name], "removing a \(kind.rawValue) registration") else {
            throw JWTGrantError(.storeFailure, "\(label): HDEL did not answer with an integer")
        }
        if n > 0 { try advanceGeneration() }
        return n > 0
    }

    public func document(_ kind: DocumentKind, name: [UInt8]) throws(JWTGrantError) -> [UInt8]? {
        if kind == .signingKey {
            guard case .string(let d) = try run([Array("GET".utf8), hashKey(kind)], "reading the signing key") else { return nil }
            return d
        }
        switch try run([Array("HGET".utf8), hashKey(kind), name], "reading a \(kind.rawValue) registration") {
        case .string(let d): return d
        case .null: return nil
        default: throw JWTGrantError(.storeFailure, "\(label): HGET answered neither a string nor nil")
        }
    }

    /// Compare-and-set of one hash field, as a script on the one hash key
    /// (atomic on the server; the layout stays one key per operation).
    static let replaceScript = Array("""
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
          return 1
        end
        return 0
        """.utf8)

    public func replaceDocument(_ kind: DocumentKind, name: [UInt8], expected: [UInt8],
                                document: [UInt8]) throws(JWTGrantError) -> Bool {
        guard kind != .signingKey else {
            throw JWTGrantError(.internalError, "\(label): the signing key is never replaced")
        }
        guard case .integer(let n) = try run([Array("EVAL".utf8), Self.replaceScript, [0x31], hashKey(kind),
                                              name, expected, document],
                                             "updating a \(kind.rawValue) registration") else {
            throw JWTGrantError(.storeFailure, "\(label): the update script did not answer with an integer")
        }
        if n == 1 { try advanceGeneration() }
        return n == 1
    }
}
