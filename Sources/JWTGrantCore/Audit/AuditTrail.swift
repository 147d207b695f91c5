import Synchronization
import CJansson

/// The host's log and audit function (`jwtgrant_set_log_callback`): called
/// with a level and one event as JSON text (valid only during the call).
public final class LogSink: Sendable {
    public let deliver: @Sendable (_ level: Int32, _ eventJSON: UnsafePointer<CChar>) -> Void
    public init(_ deliver: @escaping @Sendable (_ level: Int32, _ eventJSON: UnsafePointer<CChar>) -> Void) {
        self.deliver = deliver
    }
}

/// Log levels of events, the syslog severities (and Apache's APLOG_*).
public enum LogLevel: Int32, Sendable {
    case error = 3
    case warning = 4
    case info = 6
}

/// What one assertion validation established, for its audit event. Filled
/// as the pipeline advances: the trusted issuer once `iss` matched one, the
/// claims only once the signature verified (so `sub` and `jti` in an event
/// are always values the issuer signed, never unverified token text).
public struct ValidationFacts {
    public var issuer: TrustedIssuer? = nil
    public var verifiedClaims: JOSEObject? = nil
    public init() {}
}

/// The audit trail of one server: the log callback and the counters of
/// `jwtgrant_stats`. Recording a counter is a relaxed atomic increment; the
/// callback is looked up under a lock only when one is set (one atomic load
/// otherwise) and is called with no lock held.
public final class AuditTrail: @unchecked Sendable {
    /// Status slots: index -code for codes 0...-(statusSlots - 2), the last
    /// slot for any other code.
    static let statusSlots = 64
    private let listening = Atomic<Bool>(false)
    private let sink = Locked<LogSink?>(nil)

    private let exchangeByStatus: UnsafeMutablePointer<Atomic<Int>>
    private let verificationByStatus: UnsafeMutablePointer<Atomic<Int>>
    public let exchangeLatency = LatencyHistogram()
    public let startedAt: Double

    public init(startedAt: Double) {
        self.startedAt = startedAt
        exchangeByStatus = .allocate(capacity: Self.statusSlots)
        verificationByStatus = .allocate(capacity: Self.statusSlots)
        for i in 0..<Self.statusSlots {
            (exchangeByStatus + i).initialize(to: Atomic<Int>(0))
            (verificationByStatus + i).initialize(to: Atomic<Int>(0))
        }
    }

    deinit {
        exchangeByStatus.deinitialize(count: Self.statusSlots)
        exchangeByStatus.deallocate()
        verificationByStatus.deinitialize(count: Self.statusSlots)
        verificationByStatus.deallocate()
    }

    // MARK: the callback

    /// Sets (or with nil removes) the log function. Calls already running
    /// finish; none starts after this returns with nil.
    public func setSink(_ s: LogSink?) {
        sink.withLock { $0 = s }
        listening.store(s != nil, ordering: .releasing)
    }

    /// Whether a log function is set (worth building an event for).
    @inline(__always)
    public var isListening: Bool { listening.load(ordering: .acquiring) }

    /// Sends `event` to the log function, if any, with no lock held.
    public func emit(_ level: LogLevel, _ event: JSONValue) {
        guard isListening, let s = sink.withLock({ $0 }) else { return }
        guard let text = event.serializedCString() else { return }
        defer { free(text) }
        s.deliver(level.rawValue, text)
    }

    // MARK: counters

    static func slot(_ code: ErrorCode?) -> Int {
        guard let code else { return 0 }
        let i = -Int(code.rawValue)
        return i > 0 && i < statusSlots - 1 ? i : statusSlots - 1
    }

    public func countExchange(_ code: ErrorCode?, microseconds: Double) {
        exchangeByStatus[Self.slot(code)].wrappingAdd(1, ordering: .relaxed)
        exchangeLatency.record(microseconds: microseconds)
    }

    public func countVerification(_ code: ErrorCode?) {
        verificationByStatus[Self.slot(code)].wrappingAdd(1, ordering: .relaxed)
    }

    /// `{"success", "refused", "error", "by_status": {"JWTGRANT_OK": n, ...}}`
    /// of one counter table (names of statuses never seen are left out).
    @_optimize(size)
    func countsJSON(_ table: UnsafeMutablePointer<Atomic<Int>>) -> JSONValue {
        let byStatus = JSONValue.object()
        var success = 0, refused = 0, failed = 0
        for i in 0..<Self.statusSlots {
            let n = table[i].load(ordering: .relaxed)
            guard n > 0 else { continue }
            if i == 0 {
                success += n
                byStatus.set("JWTGRANT_OK", .integer(Int64(n)))
                continue
            }
            let code = i < Self.statusSlots - 1 ? ErrorCode(rawValue: Int32(-i)) : nil
            if let code, code.httpStatus < 500 { refused += n } else { failed += n }
            byStatus.set(code.map { "\($0.statusName)" } ?? "JWTGRANT_UNKNOWN", .integer(Int64(n)))
        }
        let o = JSONValue.object()
        o.set("total", .integer(Int64(success + refused + failed)))
        o.set("success", .integer(Int64(success)))
        o.set("refused", .integer(Int64(refused)))
        o.set("error", .integer(Int64(failed)))
        o.set("by_status", byStatus)
        return o
    }

    @_optimize(size)
    public func exchangesJSON() -> JSONValue {
        let o = countsJSON(exchangeByStatus)
        let snap = exchangeLatency.snapshot()
        let latency = JSONValue.object()
        for (name, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
            latency.set(name, LatencyHistogram.quantile(q, of: snap).map { .integer(Int64($0.rounded(.up))) }
                        ?? JSONValue(taking: json_null()))
        }
        o.set("latency_us", latency)
        return o
    }

    public func verificationsJSON() -> JSONValue { countsJSON(verificationByStatus) }
}

/// A replay store that can say how many records it holds (for `jwtgrant_stats`).
public protocol ReplayStoreSize {
    var count: Int { get }
}

extension MemoryReplayStore: ReplayStoreSize {}
