/// The configuration of one authorization server (`jwtgrant_ctx_new`).
/// Field names follow WSO2 Identity Server's deployment.toml; every field is
/// optional and the defaults are the product's.
public struct ServerConfig: Sendable {
    /// This server's issuer: the `iss` of the tokens it issues and an accepted
    /// `aud` of assertions.
    public var issuer = "https://localhost:9443/oauth2/token"
    /// Another accepted `aud` value.
    public var tokenEndpoint: String?
    /// Seconds of leeway on exp, nbf and iat.
    public var clockSkew: Int64 = 0
    /// `[oauth.jwks_endpoint]`: fetching and caching of JWKS endpoints.
    public var jwksEndpoint = JWKSEndpointOptions()
    /// `[oauth.grant_type.jwt]`: reject assertions whose iat is older than the period.
    public var enableIatValidation = true
    /// Minutes.
    public var iatValidityPeriod: Int64 = 30
    /// Seconds: the largest accepted distance from now to an assertion's
    /// `exp` (`grant_type.jwt.max_assertion_lifetime`); 0 means no limit.
    public var maxAssertionLifetime: Int64 = 0
    /// Reject a replayed jti.
    public var enableJWTCache = true
    /// Seconds.
    public var accessTokenLifetime: Int64 = 3600
    /// PEM private key for issued tokens; generated at start when nil.
    public var accessTokenSigningKey: String?
    /// "ES256", "RS256" or "EdDSA": the algorithm of issued tokens; nil means
    /// the one the signing key implies, or ES256 for a generated key.
    public var accessTokenAlgorithm: String?
    /// `memory`, `sqlite:PATH` or `redis://[:PASSWORD@]HOST:PORT[/DB]`.
    public var store: StoreLocation = .memory
    /// `store_options`: timeouts and the Redis key prefix.
    public var storeOptions = StoreOptions()
    /// Largest assertion accepted, in bytes.
    public var maxAssertionBytes = 32 * 1024

    public init() {}

    /// Parses `config_json`; nil or "{}" gives the defaults.
    @_optimize(size)
    public init(json: String?) throws(JWTGrantError) {
        self.init()
        guard let json else { return }
        var r = try StrictObjectReader(JSONValue.parse(json, what: "config_json"))
        if let v = try r.string("issuer") { issuer = v }
        tokenEndpoint = try r.string("token_endpoint")
        if let v = try r.integer("clock_skew", in: 0...86_400) { clockSkew = v }
        if let j = r.raw("jwks_endpoint") { jwksEndpoint = try JWKSEndpointOptions(config: j) }
        if var g = try r.object("grant_type") {
            if var jwt = try g.object("jwt") {
                if let v = try jwt.bool("enable_iat_validation") { enableIatValidation = v }
                if let v = try jwt.integer("iat_validity_period", in: 1...525_600) { iatValidityPeriod = v }
                if let v = try jwt.bool("enable_jwt_cache") { enableJWTCache = v }
                if let v = try jwt.integer("max_assertion_lifetime", in: 0...315_360_000) { maxAssertionLifetime = v }
                try jwt.finish()
            }
            try g.finish()
        }
        if var a = try r.object("access_token") {
            if let v = try a.integer("lifetime", in: 1...31_536_000) { accessTokenLifetime = v }
            accessTokenSigningKey = try a.string("signing_key")
            if let v = try a.string("algorithm") {
                guard ([.init("ES256"), "RS256", "EdDSA"] as Set<Identifier>).contains(Identifier(v)) else {
                    throw JWTGrantError(.invalidArgument, "access_token.algorithm must be ES256, RS256 or EdDSA")
                }
                accessTokenAlgorithm = v
            }
            try a.finish()
        }
        if let v = try r.string("store") { store = try StoreLocation.parse(v) }
        if let o = r.raw("store_options") { storeOptions = try StoreOptions(config: o) }
        if let v = try r.integer("max_assertion_size", in: 1024...1_048_576) { maxAssertionBytes = Int(v) }
        try r.finish()
    }
}
