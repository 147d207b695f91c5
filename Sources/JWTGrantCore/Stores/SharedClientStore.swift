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

/// The clients of a server on a shared store: every registration, removal
/// and secret rotation is written to the store (secrets only as salted
/// hashes), and the clients the store holds are cached here, refreshed when
/// the store's generation changes. Lookups read the cache (a read lock); ids
/// compare as bytes.
public final class SharedClientStore: ClientStore, @unchecked Sendable {
    let shared: any SharedStore
    private let lock = ReadWriteLock()
    private var clients: [Identifier: Client] = [:]
    /// Counts this process's writes to the cache (register, remove, update),
    /// so that a reload whose documents were read before one of them does
    /// not put the older state back (`replaceAll(_:ifNoWritesSince:)`).
    private var localWrites: UInt64 = 0
    /// Attempts of one `update` against concurrent changes of the same client
    /// by other processes before it gives up with `.unavailable`.
    static let updateAttempts = 64

    public init(shared: any SharedStore) { self.shared = shared }

    public func client(id clientID: String) throws(JWTGrantError) -> Client? {
        let key = Identifier(clientID)
        return lock.withReadLock { clients[key] }
    }

    /// Registers an already hashed client: identical only with the very same hash.
    public func insert(_ client: Client) throws(JWTGrantError) {
        try register(client, secret: nil)
    }

    /// Writes `client` to the store unless its id is taken. A stored client
    /// with the same content whose current hash matches `secret` (or,
    /// without `secret`, equals the new hash) is the same registration: OK.
    public func register(_ client: Client, secret: String?) throws(JWTGrantError) {
        let id = client.id
        if let existing = try shared.insertDocument(.client, name: id.bytes, document: Self.encode(client)) {
            guard let stored = Self.decode(existing), Self.same(stored, client, secret: secret) else {
                throw JWTGrantError(.alreadyExists, "a client with this client_id is already registered (with other content)")
            }
            lock.withWriteLock { clients[id] = stored; localWrites &+= 1 }
        } else {
            lock.withWriteLock { clients[id] = client; localWrites &+= 1 }
        }
    }

    /// Removes the client from the store (and the cache); whether the store
    /// held it.
    public func remove(id clientID: String) throws(JWTGrantError) -> Bool {
        let key = Identifier(clientID)
        let existed = try shared.removeDocument(.client, name: key.bytes)
        lock.withWriteLock { clients[key] = nil; localWrites &+= 1 }
        return existed
    }

    /// Reads the stored client, transforms it and writes it back only if the
    /// stored document is still the one read (compare-and-set), retrying
    /// otherwise: concurrent updates of one client, from any process, apply
    /// one after the other.
    public func update(id clientID: String,
                       _ transform: (Client) throws(JWTGrantError) -> Client) throws(JWTGrantError) -> Client? {
        let key = Identifier(clientID)
        for _ in 0..<Self.updateAttempts {
            guard let current = try shared.document(.client, name: key.bytes) else {
                lock.withWriteLock { clients[key] = nil; localWrites &+= 1 }
                return nil
            }
            guard let stored = Self.decode(current), stored.id == key else {
                throw JWTGrantError(.storeFailure, "\(shared.label): a stored client registration is unreadable")
            }
            let next = try transform(stored)
            if try shared.replaceDocument(.client, name: key.bytes, expected: current, document: Self.encode(next)) {
                lock.withWriteLock { clients[key] = next; localWrites &+= 1 }
                return next
            }
        }
        throw JWTGrantError(.unavailable, "\(shared.label): a client registration kept changing while being updated")
    }

    /// The cached clients (refreshed with the store's generation).
    public func all() throws(JWTGrantError) -> [Client] {
        lock.withReadLock { Array(clients.values) }
    }

    /// The count of this process's cache writes (read before a reload
    /// reads the store).
    var writeEpoch: UInt64 { lock.withReadLock { localWrites } }

    /// Replaces the cache with the store's documents (a generation change),
    /// unless this process wrote to the cache since `epoch`: the documents
    /// may then predate that write (a removal or a rotation would be undone
    /// until the next reload). Whether it replaced the cache.
    @discardableResult
    func replaceAll(_ documents: [(name: [UInt8], document: [UInt8])], ifNoWritesSince epoch: UInt64) -> Bool {
        var fresh: [Identifier: Client] = [:]
        for d in documents {
            if let c = Self.decode(d.document), c.id.bytes == d.name { fresh[c.id] = c }
        }
        return lock.withWriteLock { () -> Bool in
            guard localWrites == epoch else { return false }
            clients = fresh
            return true
        }
    }

    /// Whether `new` registers what `stored` holds: the same id, grant
    /// types, scopes, authentication method and access-token lifetime, and
    /// a secret matching the current stored one. Grace secrets are state of
    /// a rotation, not registration content: they do not count.
    static func same(_ stored: Client, _ new: Client, secret: String?) -> Bool {
        func ids(_ a: [String]?) -> [Identifier]? { a.map { $0.map(Identifier.init) } }
        guard stored.id == new.id,
              ids(stored.grantTypes) == ids(new.grantTypes),
              ids(stored.scopes) == ids(new.scopes),
              stored.authMethod == new.authMethod,
              stored.accessTokenLifetime == new.accessTokenLifetime else { return false }
        switch (stored.secretHash, new.secretHash) {
        case (nil, nil): return true
        case (let s?, let n?):
            if let secret { return s.matches(secret) }
            return s == n
        default: return false
        }
    }

    /// `{"client_id", "grant_types", "scopes"?, "token_endpoint_auth_method"?,
    /// "access_token_lifetime"?, "secret_salt"?, "secret_digest"?,
    /// "grace_secrets"?: [{"salt", "digest", "valid_until"}]}`, canonical.
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
        if let m = c.authMethod { o.set("token_endpoint_auth_method", .string(m.name.description)) }
        if let l = c.accessTokenLifetime { o.set("access_token_lifetime", .integer(Int64(l))) }
        if let h = c.secretHash {
            o.set("secret_salt", .string(Hex.encode(h.salt)))
            o.set("secret_digest", .string(Hex.encode(h.digest)))
        }
        if !c.graceSecrets.isEmpty {
            let a = JSONValue.array()
            for gs in c.graceSecrets {
                let e = JSONValue.object()
                e.set("salt", .string(Hex.encode(gs.hash.salt)))
                e.set("digest", .string(Hex.encode(gs.hash.digest)))
                e.set("valid_until", .integer(gs.validUntil))
                a.append(e)
            }
            o.set("grace_secrets", a)
        }
        return o.canonicalBytes()
    }

    /// The client of a stored document; nil when any part is unreadable.
    static func decode(_ document: [UInt8]) -> Client? {
        guard let o = try? document.withUnsafeBytes({ (b) throws(JWTGrantError) -> JSONValue in
            try JSONValue.parseObject(b, what: "stored client", code: .storeFailure)
        }), let id = o["client_id"]?.stringValue else { return nil }
        func hash(_ salt: JSONValue?, _ digest: JSONValue?) -> ClientSecretHash? {
            guard let salt = salt?.stringValue, let digest = digest?.stringValue,
                  let s = Hex.decode(salt), let d = Hex.decode(digest) else { return nil }
            return ClientSecretHash(salt: s, digest: d)
        }
        let grantTypes = (o["grant_types"]?.elements ?? []).compactMap { $0.stringValue }
        let scopes = o["scopes"].map { $0.elements.compactMap { $0.stringValue } }
        var secretHash: ClientSecretHash? = nil
        if o["secret_salt"] != nil || o["secret_digest"] != nil {
            guard let h = hash(o["secret_salt"], o["secret_digest"]) else { return nil }
            secretHash = h
        }
        var method: ClientAuthMethod? = nil
        if let m = o["token_endpoint_auth_method"] {
            guard let name = m.stringValue, let parsed = ClientAuthMethod(name: name) else { return nil }
            method = parsed
        }
        var lifetime: Int? = nil
        if let l = o["access_token_lifetime"] {
            guard let v = l.integerValue, v >= 1, v <= 31_536_000 else { return nil }
            lifetime = Int(v)
        }
        var grace: [GraceSecret] = []
        if let a = o["grace_secrets"] {
            for e in a.elements {
                guard let h = hash(e["salt"], e["digest"]), let until = e["valid_until"]?.integerValue else { return nil }
                grace.append(GraceSecret(hash: h, validUntil: until))
            }
        }
        return Client(clientID: id, secretHash: secretHash, grantTypes: grantTypes, scopes: scopes,
                      accessTokenLifetime: lifetime, authMethod: method, graceSecrets: grace)
    }
}
