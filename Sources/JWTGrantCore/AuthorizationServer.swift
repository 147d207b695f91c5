/// One authorization server: what a `jwtgrant_ctx` is. Safe to use from many
/// threads at once.
public final class AuthorizationServer: @unchecked Sendable {
    public let clock: AdjustableClock
    /// The registered applications (OAuth clients).
    public let clients: ClientRegistry
    /// The token endpoint; nil until the JOSE signer and the assertion
    /// pipeline exist. The lead wires it in init:
    /// `TokenEndpoint(config:signer:verifier:clock:clients:)`.
    public let tokenEndpoint: TokenEndpoint?

    public init(configJSON: String?, clock: AdjustableClock = AdjustableClock()) throws(JWTGrantError) {
        self.clock = clock
        self.clients = ClientRegistry()
        self.tokenEndpoint = nil
    }
}
