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
}
