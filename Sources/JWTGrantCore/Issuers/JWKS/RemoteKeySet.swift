import CJansson

/// The keys published at one JWKS endpoint, cached, refreshed and shared by
/// every thread that verifies tokens of that issuer.
///
/// Generic over the key type: `parse` turns a JWKS document into keys (the
/// JOSE engine's `KeyLoader.loadJWKS`) and `kidOf` names a key.
///
/// Behaviour:
/// - The set lives `Cache-Control: max-age` seconds, clamped to
///   [`minTTL`, `maxTTL`]; `defaultTTL` when absent.
/// - A fresh set never touches the network. Once `refreshAhead` of its
///   lifetime remains, one background thread refetches it while requests
///   keep being answered from the cache.
/// - With no usable set (cold, or expired without a known failure) the
///   request fetches now; concurrent requests share that one fetch (single
///   flight) and wait for it on a condition variable.
/// - A kid that is not in the set triggers at most one refetch per
///   `unknownKidCooldown`; otherwise `.keyNotFound`.
/// - When fetching fails, the last good set keeps serving until
///   `staleIfError` past its expiry, retried in the background at most once
///   per `retryAfterFailure`; the failure is recorded for `status()`.
/// - Every fetch failure is `.keySourceUnavailable` with a reason that says
///   which: unreachable, timeout, HTTP status, redirect, oversized, not JSON,
///   not a JWKS.
///
/// Thread-safe. `close()` stops background work; afterwards `keys` fails.
/// A background refresh thread holds a reference to the key set, so the
/// object outlives any thread that uses it.
public final class RemoteKeySet<Key>: @unchecked Sendable {
    public typealias Parse = @Sendable (JSONValue) throws(JWTGrantError) -> [Key]

    public let url: String
    public let options: JWKSEndpointOptions
    private let fetcher: any JWKSFetcher
    private let parse: Parse
    private let kidOf: @Sendable (Key) -> Identifier?
    private let ignoredKeys: @Sendable (JSONValue) -> [JSONValue]
    private let now: @Sendable () -> Double
    private let wallClock: any Clock

    private struct Cached {
        var keys: [Key]
        var kids: [Identifier]
        var ignored: [JSONValue]
        var fetchedAt: Double
        var refreshAt: Double
        var expiresAt: Double
        var staleUntil: Double
    }

    private enum Outcome {
        case keys([Key], kids: [Identifier], ignored: [JSONValue], ttl: Int)
        case failed(String)
        case deferred
    }

    // Everything below is guarded by `lock`.
    private let lock = ConditionLock()
    private var cached: Cached? = nil
    private var inFlight = false
    private var backgroundRunning = false
    private var generation: UInt64 = 0          // completed fetches and supplies
    private var lastError: String? = nil
    private var lastFailureAt: Double? = nil    // monotonic
    private var lastFetchWall: Double? = nil    // unix seconds of the last good set
    private var lastUnknownKidFetchAt: Double? = nil
    private var fetchCount = 0
    private var closed = false

    /// - Parameters:
    ///   - url: the endpoint; checked with `JWKSURLPolicy` (throws `.invalidArgument`).
    ///   - fetcher: `CurlJWKSFetcher()` unless the host fetches.
    ///   - now: a monotonic clock in seconds, for lifetimes and cooldowns.
    ///   - wallClock: for the `last_fetch` time reported by `status()`.
    public init(url: String,
                options: JWKSEndpointOptions = JWKSEndpointOptions(),
                fetcher: any JWKSFetcher = CurlJWKSFetcher(),
                parse: @escaping Parse,
                kidOf: @escaping @Sendable (Key) -> Identifier?,
                ignoredKeys: @escaping @Sendable (JSONValue) -> [JSONValue] = { _ in [] },
                now: @escaping @Sendable () -> Double = { monotonicSeconds() },
                wallClock: any Clock = SystemClock()) throws(JWTGrantError) {
        try JWKSURLPolicy.validate(url)
        self.url = url
        self.options = options.normalized()
        self.fetcher = fetcher
        self.parse = parse
        self.kidOf = kidOf
        self.ignoredKeys = ignoredKeys
        self.now = now
        self.wallClock = wallClock
    }

    // MARK: - the request path

    /// The candidate keys for a token's `kid`: the keys with that kid, or,
    /// when none has it, the keys that carry no kid (the signature decides).
    /// With `kid` nil, every key.
    ///
    /// Throws `.keyNotFound` when the set is fine but has no candidate, and
    /// `.keySourceUnavailable` when no usable set can be had.
    public func keys(kid: Identifier?) throws(JWTGrantError) -> [Key] {
        lock.lock()
        defer { lock.unlock() }
        var waited = false          // a fetch completed while this call waited for it
        while true {
            if closed { throw JWTGrantError(.keySourceUnavailable, "JWKS key source \(url) is closed") }
            let t = now()
            // A set just fetched for this call serves it even when its
            // lifetime is 0 (Cache-Control: no-store with min_cache_ttl 0).
            let justFetched = waited && lastFailureAt == nil
            if let c = cached, t < c.staleUntil || justFetched {
                let fresh = t < c.expiresAt
                let failing = lastFailureAt != nil
                if fresh || failing || waited {
                    // Usable without waiting: fresh, or stale while the endpoint fails.
                    if !fresh || t >= c.refreshAt { startBackgroundRefresh(at: t) }
                    let found = select(c, kid: kid)
                    if !found.isEmpty { return found }
                    if waited { throw notFound(kid, c) }
                    // An unknown kid: join a fetch in flight (single flight:
                    // the threads that race the first one after a rotation
                    // share its refetch), else refetch at most once per
                    // cooldown and not right after a failure.
                    if !inFlight {
                        if let last = lastUnknownKidFetchAt, t - last < Double(options.unknownKidCooldown) {
                            throw notFound(kid, c)
                        }
                        if let f = lastFailureAt, t - f < Double(options.retryAfterFailure) {
                            throw notFound(kid, c)
                        }
                        lastUnknownKidFetchAt = t
                    }
                }
                // else: expired and no failure known yet: refetch on the request path.
            } else {
                if waited {
                    throw JWTGrantError(.keySourceUnavailable,
                                        "JWKS \(url): \(lastError ?? "no key set available")")
                }
                if let f = lastFailureAt, t - f < Double(options.retryAfterFailure), !inFlight {
                    throw JWTGrantError(.keySourceUnavailable,
                                        "JWKS \(url): \(lastError ?? "fetch failed") (retried after \(options.retryAfterFailure) s)")
                }
            }
            try fetchOrJoin(at: t)
            waited = true
        }
    }

    /// With the lock held: runs the fetch on this thread, or waits for the
    /// one in flight. Returns with the lock held once a fetch has completed.
    private func fetchOrJoin(at t: Double) throws(JWTGrantError) {
        if inFlight {
            let g = generation
            let deadline = monotonicSeconds() + Double(options.totalTimeoutMs) / 1000 + 5
            while generation == g && !closed {
                if !lock.wait(until: deadline) && generation == g {
                    throw JWTGrantError(.keySourceUnavailable,
                                        "JWKS \(url): timed out waiting for the fetch in progress")
                }
            }
            return
        }
        inFlight = true
        lock.unlock()
        let outcome = fetchAndInterpret()
        lock.lock()
        apply(outcome)
        inFlight = false
    }

    /// With the lock held: starts one background refresh unless one is in
    /// flight, the source is closed, or the last failure is too recent.
    private func startBackgroundRefresh(at t: Double) {
        guard !inFlight, !closed else { return }
        if let f = lastFailureAt, t - f < Double(options.retryAfterFailure) { return }
        inFlight = true
        backgroundRunning = true
        let started = startDetachedThread { [self] in       // the thread retains self
            let outcome = fetchAndInterpret()
            lock.withLock {
                if !closed { apply(outcome) } else { generation &+= 1 }
                inFlight = false
                backgroundRunning = false
                lock.broadcast()
            }
        }
        if !started {
            inFlight = false
            backgroundRunning = false
        }
    }

    // MARK: - fetching

    /// Fetches and judges the document; runs without the lock.
    private func fetchAndInterpret() -> Outcome {
        switch fetcher.fetch(url: url, options: options) {
        case .deferred:
            return .deferred
        case .failure(let reason):
            return .failed(reason)
        case .response(let status, let body, let maxAge):
            if (300...399).contains(status) { return .failed("redirect not followed (HTTP \(status))") }
            guard (200...299).contains(status) else { return .failed("HTTP status \(status)") }
            if body.count > options.sizeLimitBytes {
                return .failed("oversized: the document exceeds \(options.sizeLimitBytes) bytes")
            }
            let parsed: Result<JSONValue, JWTGrantError> = body.withUnsafeBytes { b in
                Result { () throws(JWTGrantError) -> JSONValue in
                    try JSONValue.parse(b, what: "JWKS document", code: .keySourceUnavailable)
                }
            }
            let doc: JSONValue
            switch parsed {
            case .success(let d): doc = d
            case .failure(let e): return .failed("not JSON: \(e.reason)")
            }
            do {
                let (keys, kids, ignored) = try interpret(doc)
                return .keys(keys, kids: kids, ignored: ignored, ttl: options.ttl(maxAge: maxAge))
            } catch {
                return .failed(error.reason)
            }
        }
    }

    /// Checks the JWKS shape (RFC 7517 5: an object with a "keys" array of
    /// objects) and parses the keys. A fetched document that fails is
    /// `.keySourceUnavailable`; a supplied one keeps the parser's code
    /// (`.badKey` for unusable key material), or `.invalidArgument` for the shape.
    private func interpret(_ doc: JSONValue, supplied: Bool = false) throws(JWTGrantError) -> ([Key], [Identifier], [JSONValue]) {
        let shapeCode: ErrorCode = supplied ? .invalidArgument : .keySourceUnavailable
        try JWKSDocument.checkShape(doc, code: shapeCode)
        let keys: [Key]
        do { keys = try parse(doc) } catch {
            throw JWTGrantError(supplied ? error.code : .keySourceUnavailable, "not a usable JWKS: \(error.reason)")
        }
        return (keys, keys.compactMap(kidOf), ignoredKeys(doc))
    }

    /// With the lock held: records what a fetch produced and wakes waiters.
    private func apply(_ outcome: Outcome) {
        let t = now()
        fetchCount += 1
        switch outcome {
        case .keys(let keys, let kids, let ignored, let ttl):
            install(keys, kids: kids, ignored: ignored, ttl: ttl, at: t)
        case .failed(let reason):
            lastError = reason
            lastFailureAt = t
        case .deferred:
            lastError = "fetch handed to the host; no key set supplied yet"
            lastFailureAt = t
        }
        generation &+= 1
        lock.broadcast()
    }

    private func install(_ keys: [Key], kids: [Identifier], ignored: [JSONValue], ttl: Int, at t: Double) {
        let lifetime = Double(ttl)
        let ahead = options.refreshAhead
        let expires = t + lifetime
        cached = Cached(keys: keys, kids: kids, ignored: ignored, fetchedAt: t,
                        refreshAt: ahead > 0 ? t + lifetime * (1 - ahead) : expires,
                        expiresAt: expires,
                        staleUntil: expires + Double(options.staleIfError))
        lastError = nil
        lastFailureAt = nil
        lastFetchWall = wallClock.now()
    }

    private func select(_ c: Cached, kid: Identifier?) -> [Key] {
        guard let kid else { return c.keys }
        let exact = c.keys.filter { kidOf($0) == kid }
        return exact.isEmpty ? c.keys.filter { kidOf($0) == nil } : exact
    }

    private func notFound(_ kid: Identifier?, _ c: Cached) -> JWTGrantError {
        // Names the rule, never the token's kid.
        var why = kid.map { _ in "no key with the token's kid in the JWKS of \(url)" }
            ?? "the JWKS of \(url) has no keys"
        if let e = lastError { why += " (last refresh failed: \(e))" }
        return JWTGrantError(.keyNotFound, why)
    }

    /// A kid comes from an unverified token: keep it short and printable in messages.

    // MARK: - host supply, status, close

    /// Installs a JWKS document the host fetched itself (or was configured
    /// with). `maxAge` nil uses `defaultTTL`; the value is clamped like a
    /// `max-age`. Throws `.invalidArgument` when it is not a JWKS, or the
    /// parser's error (`.badKey`) when a key is unusable; the cached set is
    /// then left as it was.
    public func supply(document: JSONValue, maxAge: Int?) throws(JWTGrantError) {
        let (keys, kids, ignored) = try interpret(document, supplied: true)
        lock.withLock {
            guard !closed else { return }
            install(keys, kids: kids, ignored: ignored, ttl: options.ttl(maxAge: maxAge), at: now())
            generation &+= 1
            lock.broadcast()
        }
    }

    /// `{"jwks_uri", "key_ids", "last_fetch", "last_error", "fetch_count",
    /// "expires_in", "stale"}` for `jwtgrant_list_issuers`. `last_fetch` is
    /// the unix time of the last good set (null: none yet); `expires_in` is
    /// seconds until the cached set expires (negative when stale, null when none).
    public func status() -> JSONValue {
        let (c, err, wall, count, t) = lock.withLock { (cached, lastError, lastFetchWall, fetchCount, now()) }
        let o = JSONValue.object()
        o.set("jwks_uri", .string(url))
        let ids = JSONValue.array()
        for k in c?.kids ?? [] { ids.append(.string(k.text)) }
        o.set("key_ids", ids)
        let ignored = JSONValue.array()
        for i in c?.ignored ?? [] { ignored.append(i) }
        o.set("ignored_keys", ignored)
        o.set("last_fetch", wall.map { JSONValue.integer(Int64($0.isFinite ? max(0, min($0, 1e15)) : 0)) } ?? jsonNull())
        o.set("last_error", err.map { JSONValue.string($0) } ?? jsonNull())
        o.set("fetch_count", .integer(Int64(count)))
        if let c {
            let left = c.expiresAt - t
            o.set("expires_in", .integer(Int64(left.isFinite ? max(-1e15, min(1e15, left)).rounded(.down) : 0)))
            o.set("stale", .bool(left <= 0))
        } else {
            o.set("expires_in", jsonNull())
            o.set("stale", .bool(false))
        }
        return o
    }

    /// The number of fetches made (successful or not).
    public var fetchCountValue: Int { lock.withLock { fetchCount } }

    /// Stops background work: no new refresh starts, waiters are woken, and
    /// this call waits (bounded by the transfer timeout) for a background
    /// refresh in progress to finish. Idempotent. A background thread holds a
    /// reference to this object, so none can touch freed memory even if the
    /// bound is exceeded.
    public func close() {
        lock.withLock {
            closed = true
            lock.broadcast()
            let deadline = monotonicSeconds() + Double(options.totalTimeoutMs) / 1000 + 1
            while backgroundRunning {
                if !lock.wait(until: deadline) { break }
            }
        }
    }
}

private func jsonNull() -> JSONValue { JSONValue(taking: json_null()) }
