/// Where a server keeps its shared state (the `store` configuration field):
/// its own memory, a SQLite file shared by the processes of one machine, or a
/// Redis server shared by every machine.
public enum StoreLocation: Sendable, Equatable {
    case memory
    /// `sqlite:PATH`
    case sqlite(path: String)
    /// `redis://[:PASSWORD@]HOST:PORT[/DB]`
    case redis(RedisAddress)

    /// Parses the `store` field. Messages never quote a Redis URL (it may
    /// hold a password); they say which part is wrong.
    public static func parse(_ text: String) throws(JWTGrantError) -> StoreLocation {
        if Identifier(text) == "memory" { return .memory }
        if text.utf8.starts(with: "sqlite:".utf8) {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw JWTGrantError(.invalidArgument, "store: \"sqlite:\" needs a file path (sqlite:PATH)")
            }
            guard !path.utf8.contains(0) else {
                throw JWTGrantError(.invalidArgument, "store: the SQLite path contains a NUL byte")
            }
            return .sqlite(path: path)
        }
        if text.utf8.starts(with: "redis://".utf8) {
            return .redis(try RedisAddress(url: text))
        }
        throw JWTGrantError(.invalidArgument,
            "store must be \"memory\", \"sqlite:PATH\" or \"redis://[:PASSWORD@]HOST:PORT[/DB]\"")
    }

    /// How the store is named in messages: never with a password.
    public var label: String {
        switch self {
        case .memory: return "memory store"
        case .sqlite(let path): return "sqlite store \(printable(path, limit: 200))"
        case .redis(let a): return "redis store \(a.label)"
        }
    }
}

/// A Redis server from a `redis://` URL.
public struct RedisAddress: Sendable, Equatable {
    public var host: String
    public var port: Int32
    public var password: String?
    public var database: Int

    /// `redis://[:PASSWORD@]HOST:PORT[/DB]`; HOST is a name, an IPv4 address
    /// or a bracketed IPv6 address.
    public init(url: String) throws(JWTGrantError) {
        func bad(_ why: String) -> JWTGrantError {
            JWTGrantError(.invalidArgument, "store: the redis URL is malformed (\(why)); the form is redis://[:PASSWORD@]HOST:PORT[/DB]")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        password = nil
        // The password ends at the last '@' (a password may contain '@').
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            guard userinfo.first == ":" else { throw bad("only a password is supported before '@', written :PASSWORD") }
            let pw = userinfo.dropFirst()
            guard !pw.isEmpty else { throw bad("the password is empty") }
            password = String(pw)
            rest = rest[rest.index(after: at)...]
        }
        var dbText: Substring? = nil
        if let slash = rest.firstIndex(of: "/") {
            dbText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        let hostText: Substring, portText: Substring
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { throw bad("an IPv6 address needs a closing ']'") }
            hostText = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.first == ":" else { throw bad("the port is missing") }
            portText = after.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else { throw bad("the port is missing") }
            hostText = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard !hostText.isEmpty else { throw bad("the host is missing") }
        guard hostText.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "@") && $0 != UInt8(ascii: "/") }) else {
            throw bad("the host has characters a host name cannot have")
        }
        guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let port = Int32(portText), (1...65535).contains(port) else {
            throw bad("the port must be a number from 1 to 65535")
        }
        var database = 0
        if let dbText, !dbText.isEmpty {
            guard dbText.utf8.count <= 5, dbText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let d = Int(dbText) else {
                throw bad("the database must be a number")
            }
            database = d
        }
        self.host = String(hostText)
        self.port = port
        self.database = database
    }

    /// host:port/db, never the password.
    public var label: String {
        let h = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return "\(printable(h)):\(port)/\(database)"
    }
}

/// `store_options`: tuning of the shared stores.
public struct StoreOptions: Sendable, Equatable {
    /// Redis: milliseconds to establish a connection.
    public var connectTimeoutMs: Int = 250
    /// Redis: milliseconds to wait for the answer to a command.
    public var commandTimeoutMs: Int = 250
    /// Redis: prefix of every key the library writes.
    public var keyPrefix: String = "jwtgrant:"
    /// SQLite: milliseconds a statement waits for another process's lock.
    public var busyTimeoutMs: Int = 1000

    public init() {}

    init(config: JSONValue) throws(JWTGrantError) {
        self.init()
        var r = try StrictObjectReader(config, path: "store_options")
        if let v = try r.integer("connect_timeout", in: 1...60_000) { connectTimeoutMs = Int(v) }
        if let v = try r.integer("command_timeout", in: 1...60_000) { commandTimeoutMs = Int(v) }
        if let v = try r.string("key_prefix", allowEmpty: true) {
            guard v.utf8.count <= 256 else {
                throw JWTGrantError(.invalidArgument, "store_options.key_prefix is longer than 256 bytes")
            }
            keyPrefix = v
        }
        if let v = try r.integer("busy_timeout", in: 1...60_000) { busyTimeoutMs = Int(v) }
        try r.finish()
    }
}
