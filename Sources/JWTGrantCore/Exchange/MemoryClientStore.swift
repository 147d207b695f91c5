/// The in-memory client store: a dictionary behind a read-write lock
/// (lookups on every token request, inserts rare).
public final class MemoryClientStore: ClientStore, @unchecked Sendable {
    private let lock = ReadWriteLock()
    private var clients: [Identifier: Client] = [:]

    public init() {}

    public func insert(_ client: Client) throws(JWTGrantError) {
        let inserted = lock.withWriteLock { () -> Bool in
            if clients[client.id] != nil { return false }
            clients[client.id] = client
            return true
        }
        guard inserted else { throw JWTGrantError(.alreadyExists, "a client with this client_id is already registered") }
    }

    public func client(id clientID: String) throws(JWTGrantError) -> Client? {
        let key = Identifier(clientID)
        return lock.withReadLock { clients[key] }
    }

    public func remove(id clientID: String) throws(JWTGrantError) -> Bool {
        let key = Identifier(clientID)
        return lock.withWriteLock { clients.removeValue(forKey: key) != nil }
    }

    public func update(id clientID: String,
                       _ transform: (Client) throws(JWTGrantError) -> Client) throws(JWTGrantError) -> Client? {
        let key = Identifier(clientID)
        return try lock.withWriteLock { () throws(JWTGrantError) -> Client? in
            guard let current = clients[key] else { return nil }
            let next = try transform(current)
            clients[key] = next
            return next
        }
    }

    public func all() throws(JWTGrantError) -> [Client] {
        lock.withReadLock { Array(clients.values) }
    }
}
