/// Where the used assertions are remembered until they expire. Memory,
/// SQLite and Redis implement the same contract.
///
/// A record is live while `now < expiry`; at `expiry` it is gone. The
/// caller (`ReplayRule`) chooses `expiry` so that the record outlives the
/// last instant at which the assertion passes the time rules.
public protocol ReplayStore: Sendable {
    /// Whether `key` is recorded and not yet expired at `now`.
    func contains(_ key: ReplayKey, now: Double) throws(JWTGrantError) -> Bool
    /// Records `key` until `expiry` unless a live record exists.
    /// Atomic: of many concurrent calls with one key, exactly one returns true.
    func insertIfAbsent(_ key: ReplayKey, expiry: Double, now: Double) throws(JWTGrantError) -> Bool
}
