extension JWKSEndpointOptions {
    /// Reads the `jwks_endpoint` object of the context configuration with the
    /// same strict reader as every other document: `connection_timeout`,
    /// `read_timeout` (ms), `size_limit_bytes`, `ca_file` (path), and the
    /// cache bounds `min_cache_ttl`, `max_cache_ttl`, `default_cache_ttl`,
    /// `unknown_kid_cooldown`, `stale_if_error`, `retry_after_failure` (s),
    /// `refresh_ahead` (fraction 0...1). Absent members keep their defaults;
    /// unknown members, wrong types and out-of-range values are
    /// `.invalidArgument` naming the field.
    @_optimize(size)
    public init(config: JSONValue) throws(JWTGrantError) {
        self.init()
        var r = try StrictObjectReader(config, path: "jwks_endpoint")
        func int(_ key: String, _ range: ClosedRange<Int64>, _ into: inout Int) throws(JWTGrantError) {
            if let v = try r.integer(key, in: range) { into = Int(v) }
        }
        try int("connection_timeout", 1...600_000, &connectTimeoutMs)
        try int("read_timeout", 1...600_000, &readTimeoutMs)
        try int("size_limit_bytes", 1...(64 << 20), &sizeLimitBytes)
        try int("min_cache_ttl", 0...31_536_000, &minTTL)
        try int("max_cache_ttl", 0...31_536_000, &maxTTL)
        try int("default_cache_ttl", 0...31_536_000, &defaultTTL)
        try int("unknown_kid_cooldown", 0...86_400, &unknownKidCooldown)
        try int("stale_if_error", 0...31_536_000, &staleIfError)
        try int("retry_after_failure", 0...86_400, &retryAfterFailure)
        caFile = try r.string("ca_file")
        if let v = try r.number("refresh_ahead", in: 0...1) { refreshAhead = v }
        try r.finish()
        if minTTL > maxTTL {
            throw JWTGrantError(.invalidArgument, "jwks_endpoint.min_cache_ttl exceeds max_cache_ttl")
        }
        if defaultTTL < minTTL || defaultTTL > maxTTL {
            throw JWTGrantError(.invalidArgument,
                                "jwks_endpoint.default_cache_ttl must lie within min_cache_ttl...max_cache_ttl")
        }
    }
}
