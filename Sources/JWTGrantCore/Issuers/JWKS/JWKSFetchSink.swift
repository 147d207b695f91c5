/// Collects the result of one host-side fetch (the C shell hands it to a
/// `jwtgrant_jwks_fetch_fn` as the opaque `jwtgrant_jwks_sink *`). The host
/// calls `deliver` or `fail` at most once, during the callback; later calls
/// are ignored. The body is copied, so the host keeps ownership of its
/// buffer and frees it with its own allocator.
public final class JWKSFetchSink: @unchecked Sendable {
    private let sizeLimit: Int
    private let lock = ReadWriteLock()
    private var result: JWKSFetchResult? = nil
    private var sealed = false

    public init(sizeLimit: Int) { self.sizeLimit = max(1, sizeLimit) }

    /// Records an HTTP answer. `maxAge` < 0 means "no max-age".
    /// Returns false when a result was already recorded.
    @discardableResult
    public func deliver(status: Int, body: UnsafeRawBufferPointer, maxAge: Int) -> Bool {
        lock.withWriteLock {
            guard result == nil, !sealed else { return false }
            if body.count > sizeLimit {
                result = .failure("oversized: the document exceeds \(sizeLimit) bytes")
            } else {
                result = .response(status: status, body: Array(body), maxAge: maxAge < 0 ? nil : maxAge)
            }
            return true
        }
    }

    /// Records a failure with the host's reason.
    @discardableResult
    public func fail(_ reason: String) -> Bool {
        lock.withWriteLock {
            guard result == nil, !sealed else { return false }
            let r = reason.isEmpty ? "host fetch failed" : "host fetch failed: \(reason.prefix(200))"
            result = .failure(r)
            return true
        }
    }

    /// Refuses every later `deliver`/`fail` (the fetch function has returned).
    public func seal() { lock.withWriteLock { sealed = true } }

    /// Seals the sink and turns the fetch function's return value into the
    /// result: 0 (JWTGRANT_OK) with the delivered answer, 1
    /// (JWTGRANT_JWKS_FETCH_PENDING) as `.deferred`, anything else as a
    /// failure (with the host's reason when it gave one).
    public func finish(returnCode rc: Int32) -> JWKSFetchResult {
        seal()
        let r = recorded
        switch rc {
        case 0:
            return r ?? .failure("host fetch function returned without delivering an answer")
        case 1:
            return .deferred
        default:
            if let r, case .failure = r { return r }
            return .failure("host fetch failed (returned \(rc))")
        }
    }

    /// The recorded result, or nil when the host recorded nothing.
    public var recorded: JWKSFetchResult? { lock.withReadLock { result } }
}
