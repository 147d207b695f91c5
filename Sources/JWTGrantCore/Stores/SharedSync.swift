import Synchronization

/// The state a server keeps about its shared store: when it last read the
/// generation counter, the generation its registries reflect, and the
/// stored document of each issuer it installed.
final class SharedSync: @unchecked Sendable {
    /// Monotonic milliseconds before which nobody reads the generation.
    let nextCheckMs = Atomic<Int64>(0)
    /// Serializes reloads and registrations' local installs; holds the
    /// generation the registries reflect (-1 before the first load) and the
    /// issuers' documents by name.
    let state = Locked(State())

    struct State {
        var generation: Int64 = -1
        var issuerDocuments: [Identifier: [UInt8]] = [:]
        /// Counts this process's issuer registrations and removals, so that
        /// a reload whose documents predate one of them leaves the issuers
        /// alone (the next check reloads).
        var localWrites: UInt64 = 0
    }

    static func nowMs() -> Int64 { Int64(monotonicSeconds() * 1000) }

    /// Whether this thread should read the generation now: at most one
    /// thread per second wins.
    func claimCheck() -> Bool {
        let now = Self.nowMs()
        let next = nextCheckMs.load(ordering: .relaxed)
        guard now >= next else { return false }
        return nextCheckMs.compareExchange(expected: next, desired: now + 1000, ordering: .relaxed).exchanged
    }
}
