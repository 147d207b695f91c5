/// How the access tokens we issue look.
public struct AccessTokenConfig: Sendable {
    public static let defaultIssuer = "https://localhost:9443/oauth2/token"

    /// The `iss` of issued tokens (configuration `issuer`).
    public var issuer: String
    /// Seconds from `iat` to `exp` (configuration `access_token.lifetime`); must be
    /// positive (the endpoint answers 500 otherwise).
    public var lifetime: Int
    /// The `aud` of issued tokens. nil (the default) means the client_id of
    /// the client the token is issued to, as WSO2 Identity Server does: RFC
    /// 9068 wants the resource server here, but this grant has no `resource`
    /// parameter (RFC 8707) and the API has no audience setting, so the
    /// client is the only audience known per request. A host that fronts one
    /// resource server sets it here.
    public var audience: String?

    public init(issuer: String = AccessTokenConfig.defaultIssuer, lifetime: Int = 3600, audience: String? = nil) {
        self.issuer = issuer
        self.lifetime = lifetime
        self.audience = audience
    }
}
