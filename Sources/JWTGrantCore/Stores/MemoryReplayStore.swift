
/// The in-memory replay store: a dictionary of key -> expiry behind a mutex,
/// bounded by sweeping expired entries as it grows and by a hard cap.
public final class MemoryReplayStore: ReplayStore {
    private struct State {
        var entries: [ReplayKey: Double] = [:]
        var nextSweepAt = 1024
    }

    private let state = Locked(State())
    /// Most unexpired entries kept. When full, new assertions are refused
    /// (fail closed) rather than forgetting unexpired ones (fail open).
    public let capacity: Int

    public init(capacity: Int = 1_000_000) { self.capacity = max(capacity, 1) }

    public var count: Int { state.withLock { $0.entries.count } }

    public func contains(_ key: ReplayKey, now: Double) -> Bool {
        state.withLock { s in
            guard let expiry = s.entries[key] else { return false }
            return expiry > now
        }
    }

    public func insertIfAbsent(_ key: ReplayKey, expiry: Double, now: Double) throws(JWTGrantError) -> Bool {
        let result: Bool? = state.withLock { s in
            // The common case (room left, no sweep due) hashes the key once:
            // insert, and put a live record that was there back (a replay).
            if s.entries.count < s.nextSweepAt, s.entries.count < capacity {
                if let old = s.entries.updateValue(expiry, forKey: key), old > now {
                    s.entries[key] = old
                    return false
                }
                return true
            }
            if let old = s.entries[key], old > now { return false }
            if s.entries.count >= s.nextSweepAt {
                s.entries = s.entries.filter { $0.value > now }
                s.nextSweepAt = max(1024, s.entries.count * 2)
            }
            if s.entries.count >= capacity { return nil }
            s.entries[key] = expiry
            return true
        }
        guard let result else {
            throw JWTGrantError(.storeFailure, "the replay cache is full (\(capacity) unexpired assertions)")
        }
        return result
    }
}
