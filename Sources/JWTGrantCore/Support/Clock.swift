#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Where the engine reads the time. Injected, never read ad hoc, so tests and
/// hosts control it (`jwtgrant_ctx_set_time`).
public protocol Clock: Sendable {
    /// Seconds since the Unix epoch.
    func now() -> Double
}

/// The system's real-time clock.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A clock that can be pinned to a fixed instant and released again.
public final class AdjustableClock: Clock {
    private let fixed = Atomic<Int64>(0)
    private let base: any Clock

    public init(base: any Clock = SystemClock()) { self.base = base }

    /// Pins the clock to `unixTime` seconds; 0 returns to the base clock.
    public func set(_ unixTime: Int64) { fixed.store(unixTime, ordering: .relaxed) }

    public func now() -> Double {
        let pinned = fixed.load(ordering: .relaxed)
        return pinned != 0 ? Double(pinned) : base.now()
    }
}

/// A monotonic clock in seconds, for timeouts and cache ages (never for claims).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
