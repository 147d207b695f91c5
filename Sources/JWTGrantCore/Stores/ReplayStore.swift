/// Where the used assertions (by jti, or by signature hash) are remembered
/// until they expire. Memory now; sqlite and redis implement the same.
public protocol ReplayStore: Sendable {
    /// Whether `key` is recorded and not yet expired at `now`.
    func contains(_ key: String, now: Double) throws(JWTGrantError) -> Bool
    /// Records `key` until `expiry` unless an unexpired record exists.
    /// Atomic: of many concurrent calls with one key, exactly one returns true.
    func insertIfAbsent(_ key: String, expiry: Double, now: Double) throws(JWTGrantError) -> Bool
}
