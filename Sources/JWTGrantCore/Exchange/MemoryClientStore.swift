/// The in-memory client store: a dictionary behind a read-write lock
/// (lookups on every token request, inserts rare).
public final class MemoryClientStore: ClientStore, @unchecked Sendable {
    private let lock = ReadWriteLock()
    private var clients: [String: Client] = [:]

    public init() {}

    public func insert(_ client: Client) throws(JWTGrantError) {
        let inserted = lock.withWriteLock { () -> Bool in
            if clients[client.clientID] != nil { return false }
            clients[client.clientID] = client
            return true
        }
        guard inserted else { throw JWTGrantError(.alreadyExists, "a client with this client_id is already registered") }
    }

    public func client(id clientID: String) throws(JWTGrantError) -> Client? {
        lock.withReadLock { clients[clientID] }
    }
}
