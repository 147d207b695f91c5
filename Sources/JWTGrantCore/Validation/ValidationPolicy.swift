/// The settings of the RFC 7523 rules, taken once from the server
/// configuration.
public struct ValidationPolicy: Sendable {
    /// This server's issuer value: an accepted `aud`.
    public var serverIssuer: String
    /// The token endpoint URL: another accepted `aud`.
    public var tokenEndpoint: String?
    /// Leeway on exp, nbf and iat, seconds.
    public var clockSkew: Double
    public var iatValidation: Bool
    /// Oldest accepted iat, seconds.
    public var iatValidityPeriod: Double
    /// Largest accepted `exp - now`, seconds; 0: no limit.
    public var maxAssertionLifetime: Double
    /// Single-use assertions.
    public var replayProtection: Bool
    /// Largest assertion accepted, bytes.
    public var maxAssertionBytes: Int

    public init(_ config: ServerConfig) {
        serverIssuer = config.issuer
        tokenEndpoint = config.tokenEndpoint
        clockSkew = Double(config.clockSkew)
        iatValidation = config.enableIatValidation
        iatValidityPeriod = Double(config.iatValidityPeriod) * 60
        maxAssertionLifetime = Double(config.maxAssertionLifetime)
        replayProtection = config.enableJWTCache
        maxAssertionBytes = config.maxAssertionBytes
    }
}
