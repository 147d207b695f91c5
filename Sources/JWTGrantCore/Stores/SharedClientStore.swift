import CJansson
#if canImport(Glibc)
import Glibc
#endif

extension JSONValue {
    /// Canonical JSON text (compact, object members sorted by name at every
    /// level), so that documents with the same content compare equal as bytes.
    public func canonicalBytes() -> [UInt8] {
        let flags = Int(JSON_COMPACT) | Int(JSON_SORT_KEYS) | Int(JSON_ENCODE_ANY)
        guard let p = json_dumps(raw, flags) else { return [] }
        defer { free(p) }
        return Array(UnsafeRawBufferPointer(start: p, count: strlen(p)))
    }
}

/// The clients of a server on a shared store: every registration is written
/// to the store (the secret only as its salted hash), and the clients the
/// store holds are cached here, refreshed when the store's generation
/// changes. Lookups read the cache (a read lock); ids compare as bytes.
public final class SharedClientStore: ClientStore, @unchecked Sendable {
    let shared: any SharedStore
    private let lock = ReadWriteLock()
    private var clients: [[UInt8]: Client] = [:]

    public init(shared: any SharedStore) { self.shared = shared }

    public func client(id clientID: String) throws(JWTGrantError) -> Client? {
        let key = Array(clientID.utf8)
        return lock.withReadLock { clients[key] }
    }

    /// Registers an already hashed client: identical only with the very same hash.
    public func insert(_ client: Client) throws(JWTGrantError) {
        try register(client, secret: nil)
    }

    /// Writes `client` to the store unless its id is taken. A stored client
    /// with the same grant types and scopes whose hash matches `secret` (or,
    /// without `secret`, equals the new hash) is the same registration: OK.
    public func register(_ client: Client, secret: String?) throws(JWTGrantError) {
        let id = Array(client.clientID.utf8)
        if let existing = try shared.insertDocument(.client, name: id, document: Self.encode(client)) {
            guard let stored = Self.decode(existing), Self.same(stored, client, secret: secret) else {
                throw JWTGrantError(.alreadyExists, "a client with this client_id is already registered (with other content)")
            }
            lock.withWriteLock { clients[id] = stored }
        } else {
            lock.withWriteLock { clients[id] = client }
        }
    }

    /// Replaces the cache with the store's documents (a generation change).
    func replaceAll(_ documents: [(name: [UInt8], document: [UInt8])]) {
        var fresh: [[UInt8]: Client] = [:]
        for d in documents {
            if let c = Self.decode(d.document), Array(c.clientID.utf8) == d.name { fresh[d.name] = c }
        }
        lock.withWriteLock { clients = fresh }
    }

    static func same(_ stored: Client, _ new: Client, secret: String?) -> Bool {
        func bytes(_ a: [String]?) -> [[UInt8]]? { a.map { $0.map { Array($0.utf8) } } }
        guard Array(stored.clientID.utf8) == Array(new.clientID.utf8),
              bytes(stored.grantTypes) == bytes(new.grantTypes),
              bytes(stored.scopes) == bytes(new.scopes) else { return false }
        switch (stored.secretHash, new.secretHash) {
        case (nil, nil): return true
        case (let s?, let n?):
            if let secret { return s.matches(secret) }
            return s == n
        default: return false
        }
    }

    /// `{"client_id","grant_types","scopes"?,"secret_salt"?,"secret_digest"?}`, canonical.
    static func encode(_ c: Client) -> [UInt8] {
        let o = JSONValue.object()
        o.set("client_id", .string(c.clientID))
        let g = JSONValue.array()
        for t in c.grantTypes { g.append(.string(t)) }
        o.set("grant_types", g)
        if let scopes = c.scopes {
            let s = JSONValue.array()
            for t in scopes { s.append(.string(t)) }
            o.set("scopes", s)
        }
        if let h = c.secretHash {
            o.set("secret_salt", .string(Hex.encode(h.salt)))
            o.set("secret_digest", .string(Hex.encode(h.digest)))
        }
        return o.canonicalBytes()
    }

    static func decode(_ document: [UInt8]) -> Client? {
        guard let o = try? document.withUnsafeBytes({ (b) throws(JWTGrantError) -> JSONValue in
            try JSONValue.parseObject(b, what: "stored client", code: .storeFailure)
        }), let id = o["client_id"]?.stringValue else { return nil }
        let grantTypes = (o["grant_types"]?.elements ?? []).compactMap { $0.stringValue }
        let scopes = o["scopes"].map { $0.elements.compactMap { $0.stringValue } }
        var hash: ClientSecretHash? = nil
        if let salt = o["secret_salt"]?.stringValue, let digest = o["secret_digest"]?.stringValue {
            guard let s = Hex.decode(salt), let d = Hex.decode(digest), let h = ClientSecretHash(salt: s, digest: d) else {
                return nil
            }
            hash = h
        }
        return Client(clientID: id, secretHash: hash, grantTypes: grantTypes, scopes: scopes)
    }
}
