/// How a JWKS endpoint is fetched and cached (`jwks_endpoint.*` of the
/// context configuration). Defaults are those of the product this library is
/// modelled on.
///
/// All values are sanitised by `normalized()` before use, so a caller can
/// pass anything (negative, zero, huge) without making the engine trap.
public struct JWKSEndpointOptions: Sendable, Equatable {
    /// Milliseconds to establish the TCP (and TLS) connection.
    public var connectTimeoutMs: Int = 1000
    /// Milliseconds for the rest of the transfer. The whole request is bounded
    /// by `connectTimeoutMs + readTimeoutMs`, so a server that sends one byte
    /// at a time cannot hold a request; in addition a transfer that receives
    /// nothing for `readTimeoutMs` (rounded up to whole seconds, libcurl's
    /// low-speed granularity) is abandoned.
    public var readTimeoutMs: Int = 1000
    /// The largest JWKS document accepted, in bytes.
    public var sizeLimitBytes: Int = 51200
    /// A PEM file of CA certificates that replaces the system trust store
    /// (a private CA). TLS verification is always on.
    public var caFile: String? = nil
    /// Bounds on the lifetime taken from `Cache-Control: max-age`, in seconds.
    public var minTTL: Int = 60
    public var maxTTL: Int = 86400
    /// Lifetime when the response carries no `max-age`, in seconds.
    public var defaultTTL: Int = 600
    /// At most one refetch per this many seconds is triggered by unknown kids.
    public var unknownKidCooldown: Int = 30
    /// How long past its expiry the last good key set keeps serving while
    /// refreshes fail, in seconds.
    public var staleIfError: Int = 86400
    /// The fraction of the lifetime, before expiry, at which a background
    /// refresh starts (0.2: a 600 s set is refreshed after 480 s). 0 disables
    /// refresh-ahead (the set is then refetched on the request path at expiry).
    public var refreshAhead: Double = 0.2
    /// After a failed fetch, no new fetch is started for this many seconds;
    /// requests meanwhile are answered from the stale set or fail fast with
    /// the recorded error, so a dead endpoint cannot stall every request.
    public var retryAfterFailure: Int = 5

    public init() {}

    /// The options with every value forced into a sane range.
    public func normalized() -> JWKSEndpointOptions {
        var o = self
        o.connectTimeoutMs = Self.clamp(connectTimeoutMs, 1, 600_000)
        o.readTimeoutMs = Self.clamp(readTimeoutMs, 1, 600_000)
        o.sizeLimitBytes = Self.clamp(sizeLimitBytes, 1, 64 << 20)
        o.minTTL = Self.clamp(minTTL, 0, 365 * 86400)
        o.maxTTL = Self.clamp(maxTTL, o.minTTL, 365 * 86400)
        o.defaultTTL = Self.clamp(defaultTTL, o.minTTL, o.maxTTL)
        o.unknownKidCooldown = Self.clamp(unknownKidCooldown, 0, 86400)
        o.staleIfError = Self.clamp(staleIfError, 0, 365 * 86400)
        o.retryAfterFailure = Self.clamp(retryAfterFailure, 0, 86400)
        if !(refreshAhead >= 0) { o.refreshAhead = 0 }          // also catches NaN
        if refreshAhead > 1 { o.refreshAhead = 1 }
        return o
    }

    /// `connectTimeoutMs + readTimeoutMs`: the bound on one whole transfer.
    public var totalTimeoutMs: Int {
        let o = normalized()
        return o.connectTimeoutMs + o.readTimeoutMs
    }

    /// The cache lifetime for a response's `max-age` (nil: absent).
    public func ttl(maxAge: Int?) -> Int {
        let o = normalized()
        guard let m = maxAge else { return o.defaultTTL }
        return Self.clamp(m, o.minTTL, o.maxTTL)
    }

    static func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { v < lo ? lo : (v > hi ? hi : v) }
}
