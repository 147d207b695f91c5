/// One authorization server: what a `jwtgrant_ctx` is. Safe to use from many
/// threads at once.
public final class AuthorizationServer: @unchecked Sendable {
    public let config: ServerConfig
    public let clock: AdjustableClock
    public let issuers = IssuerRegistry()
    public let replay: any ReplayStore
    public let validator: AssertionValidator
    /// The registered applications (OAuth clients).
    public let clients: ClientRegistry
    /// The token endpoint and the access tokens we issue.
    public let tokenEndpoint: TokenEndpoint

    public init(configJSON: String?, clock: AdjustableClock = AdjustableClock()) throws(JWTGrantError) {
        let config = try ServerConfig(json: configJSON)
        self.config = config
        self.clock = clock
        let replay = MemoryReplayStore()
        self.replay = replay
        let validator = AssertionValidator(policy: ValidationPolicy(config), issuers: issuers,
                                           replay: replay, clock: clock)
        self.validator = validator
        let clients = ClientRegistry()
        self.clients = clients
        self.tokenEndpoint = TokenEndpoint(
            config: AccessTokenConfig(issuer: config.issuer, lifetime: Int(config.accessTokenLifetime)),
            signer: try SigningKeySigner(config),
            verifier: { (assertion, consume) throws(JWTGrantError) -> JSONValue in
                try validator.validate(assertion, consume: consume).claims
            },
            clock: clock, clients: clients)
    }

    deinit { issuers.closeAll() }

    // MARK: trusted token issuers

    public func registerIssuer(json: String) throws(JWTGrantError) {
        let issuer = try IssuerRegistration.parse(json) { (url) throws(JWTGrantError) -> any KeySource in
            try self.makeRemoteKeySource(url: url)
        }
        do {
            try issuers.add(issuer)
        } catch {
            issuer.keySource.close()
            throw error
        }
    }

    public func removeIssuer(name: String) throws(JWTGrantError) {
        try issuers.remove(name: name)
    }

    public func listIssuers() -> JSONValue {
        let a = JSONValue.array()
        for i in issuers.all() { a.append(i.listingJSON()) }
        return a
    }

    func makeRemoteKeySource(url: String) throws(JWTGrantError) -> any KeySource {
        throw JWTGrantError(.invalidArgument, "jwks_uri is not wired yet")
    }

    // MARK: assertions

    /// Validates an assertion without consuming it; the claims plus "_issuer_name".
    public func verifyAssertion(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> JSONValue {
        try validator.validate(token, consume: false).claims
    }
}
