extension JWKSEndpointOptions {
    /// The members of the `jwks_endpoint` configuration object and the
    /// option each sets. The first four are those of API.md; the others
    /// expose the cache bounds of issue 4.
    static let configFields: [(name: String, range: ClosedRange<Int64>)] = [
        ("connection_timeout", 1...600_000),        // ms
        ("read_timeout", 1...600_000),              // ms
        ("size_limit_bytes", 1...(64 << 20)),
        ("min_cache_ttl", 0...31_536_000),          // s
        ("max_cache_ttl", 0...31_536_000),
        ("default_cache_ttl", 0...31_536_000),
        ("unknown_kid_cooldown", 0...86_400),
        ("stale_if_error", 0...31_536_000),
        ("retry_after_failure", 0...86_400),
    ]

    /// Reads the `jwks_endpoint` object of the context configuration:
    /// `connection_timeout`, `read_timeout` (ms), `size_limit_bytes`,
    /// `ca_file` (path), and the cache bounds `min_cache_ttl`,
    /// `max_cache_ttl`, `default_cache_ttl`, `unknown_kid_cooldown`,
    /// `stale_if_error`, `retry_after_failure` (s), `refresh_ahead`
    /// (fraction 0...1). Absent members keep their defaults; unknown members,
    /// wrong types and out-of-range values are `.invalidArgument`.
    public init(config: JSONValue) throws(JWTGrantError) {
        self.init()
        guard config.isObject else {
            throw JWTGrantError(.invalidArgument, "jwks_endpoint must be a JSON object")
        }
        let known = Set(Self.configFields.map(\.name) + ["ca_file", "refresh_ahead"])
        for key in config.keys where !known.contains(key) {
            throw JWTGrantError(.invalidArgument, "jwks_endpoint has an unknown field \"\(key.prefix(64))\"")
        }
        for (name, range) in Self.configFields {
            guard let v = config[name] else { continue }
            guard let i = v.integerValue, range.contains(i) else {
                throw JWTGrantError(.invalidArgument,
                                    "jwks_endpoint.\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            let n = Int(i)
            switch name {
            case "connection_timeout": connectTimeoutMs = n
            case "read_timeout": readTimeoutMs = n
            case "size_limit_bytes": sizeLimitBytes = n
            case "min_cache_ttl": minTTL = n
            case "max_cache_ttl": maxTTL = n
            case "default_cache_ttl": defaultTTL = n
            case "unknown_kid_cooldown": unknownKidCooldown = n
            case "stale_if_error": staleIfError = n
            case "retry_after_failure": retryAfterFailure = n
            default: break
            }
        }
        if let v = config["ca_file"] {
            guard let s = v.stringValue, !s.isEmpty, !s.utf8.contains(0) else {
                throw JWTGrantError(.invalidArgument, "jwks_endpoint.ca_file must be a non-empty string (a path)")
            }
            caFile = s
        }
        if let v = config["refresh_ahead"] {
            guard let d = v.numberValue, d >= 0, d <= 1 else {
                throw JWTGrantError(.invalidArgument, "jwks_endpoint.refresh_ahead must be a number in 0...1")
            }
            refreshAhead = d
        }
        if minTTL > maxTTL {
            throw JWTGrantError(.invalidArgument, "jwks_endpoint.min_cache_ttl exceeds max_cache_ttl")
        }
        if defaultTTL < minTTL || defaultTTL > maxTTL {
            throw JWTGrantError(.invalidArgument,
                                "jwks_endpoint.default_cache_ttl must lie within min_cache_ttl...max_cache_ttl")
        }
    }
}
