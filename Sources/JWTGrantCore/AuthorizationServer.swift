import CJansson

/// One authorization server: what a `jwtgrant_ctx` is. Safe to use from many
/// threads at once.
public final class AuthorizationServer: @unchecked Sendable {
    public let config: ServerConfig
    public let clock: AdjustableClock
    public let issuers = IssuerRegistry()
    public let replay: any ReplayStore
    /// The SQLite or Redis store shared with other processes; nil for `memory`.
    public let shared: (any SharedStore)?
    /// The client cache on a shared store; nil for `memory`.
    let sharedClients: SharedClientStore?
    let sharedSync: SharedSync?
    public let validator: AssertionValidator
    /// The registered applications (OAuth clients).
    public let clients: ClientRegistry
    /// The token endpoint and the access tokens we issue.
    public let tokenEndpoint: TokenEndpoint
    /// Who fetches JWKS endpoints: libcurl, or the host's fetch function.
    public let jwksFetchers = JWKSFetcherRouter()
    /// The fork generation this context was created in (ForkGuard): a
    /// context is used only in the process that created it.
    public let forkGeneration: UInt64 = ForkGuard.register()
    /// The log callback and the counters (`jwtgrant_set_log_callback`,
    /// `jwtgrant_stats`).
    public let audit: AuditTrail

    public init(configJSON: String?, clock: AdjustableClock = AdjustableClock()) throws(JWTGrantError) {
        let config = try ServerConfig(json: configJSON)
        self.config = config
        self.clock = clock
        self.audit = AuditTrail(startedAt: clock.now())
        let shared = try Self.openSharedStore(config)
        self.shared = shared
        let replay: any ReplayStore = shared ?? MemoryReplayStore()
        self.replay = replay
        let validator = AssertionValidator(policy: ValidationPolicy(config), issuers: issuers,
                                           replay: replay, clock: clock)
        self.validator = validator
        let sharedClients = shared.map { SharedClientStore(shared: $0) }
        self.sharedClients = sharedClients
        self.sharedSync = shared.map { _ in SharedSync() }
        let clients = sharedClients.map { ClientRegistry(store: $0, clock: clock) } ?? ClientRegistry(clock: clock)
        self.clients = clients
        let signer: SigningKeySigner
        if let shared, config.accessTokenSigningKey == nil {
            signer = try Self.sharedSigner(config, shared)
        } else {
            signer = try SigningKeySigner(config)
        }
        self.tokenEndpoint = TokenEndpoint(
            config: AccessTokenConfig(issuer: config.issuer, lifetime: Int(config.accessTokenLifetime)),
            signer: signer,
            // The lean path: only what the access token needs leaves the
            // pipeline (the subject after subject_format, and the idp); the
            // audit facts keep the trusted issuer and the verified claims.
            observedVerifier: { (assertion, use, facts) throws(JWTGrantError) -> VerifiedGrant in
                let v = try validator.validate(assertion, consume: true, use: use, facts: &facts)
                return VerifiedGrant(subject: v.accessTokenSubjectBytes, idp: v.issuer.issuer)
            },
            clock: clock, clients: clients, maxAssertionBytes: config.maxAssertionBytes)
        if shared != nil {
            try reload(force: true)
            sharedSync?.nextCheckMs.store(SharedSync.nowMs() + 1000, ordering: .relaxed)
        }
    }

    deinit {
        // No event reaches the host's log function once its context is
        // being freed (a JWKS refresh thread may outlive the bounded wait
        // of closeAll; its user_data may not).
        audit.setSink(nil)
        issuers.closeAll()
    }

    /// The store `config.store` names, opened (and its schema prepared); nil for `memory`.
    static func openSharedStore(_ config: ServerConfig) throws(JWTGrantError) -> (any SharedStore)? {
        switch config.store {
        case .memory: return nil
        case .sqlite(let path): return try SQLiteStore(path: path, options: config.storeOptions)
        case .redis(let address): return try RedisStore(address: address, options: config.storeOptions)
        }
    }

    // MARK: trusted token issuers

    @_optimize(size)
    public func registerIssuer(json: String) throws(JWTGrantError) {
        if let shared, let sharedSync {
            return try registerSharedIssuer(json: json, shared: shared, sync: sharedSync)
        }
        let issuer = try IssuerRegistration.parse(json, now: clock.now()) { (url, name) throws(JWTGrantError) -> any KeySource in
            try self.makeRemoteKeySource(url: url, issuerName: name)
        }
        do {
            try issuers.add(issuer)
        } catch {
            issuer.keySource.close()
            throw error
        }
    }

    public func removeIssuer(name: String) throws(JWTGrantError) {
        if let shared, let sharedSync {
            return try removeSharedIssuer(name: name, shared: shared, sync: sharedSync)
        }
        try issuers.remove(name: name)
    }

    public func listIssuers() -> JSONValue {
        refreshIfDue()
        let a = JSONValue.array()
        let now = clock.now()
        for i in issuers.all() { a.append(i.listingJSON(now: now)) }
        return a
    }

    /// The key source of an issuer registered with `jwks_uri` (the URL is
    /// checked here, at registration; nothing is fetched until first use).
    func makeRemoteKeySource(url: String, issuerName: String) throws(JWTGrantError) -> any KeySource {
        try JWKSURIKeySource(set: RemoteKeySet<VerificationKey>(
            url: url, options: config.jwksEndpoint,
            fetcher: jwksFetchers.fetcher(forIssuer: issuerName),
            parse: { (doc) throws(JWTGrantError) -> [VerificationKey] in try KeyLoader.loadJWKS(doc) },
            kidOf: { $0.kid },
            ignoredKeys: { KeyLoader.ignoredKeys($0).map(\.json) },
            wallClock: clock,
            describe: { $0.listingJSON() },
            observer: { [audit, clock] report in audit.jwksFetch(report, issuerName: issuerName, now: clock.now()) }))
    }

    /// A JWKS document handed in by the host (`jwtgrant_issuer_set_jwks`):
    /// the fresh key set of a `jwks_uri` issuer, or the new inline set of a
    /// `jwks` issuer.
    @_optimize(size)
    public func supplyJWKS(issuerName: String, document: JSONValue, maxAge: Int?) throws(JWTGrantError) {
        guard let issuer = issuers.lookup(name: issuerName) else {
            throw JWTGrantError(.notFound, "no trusted issuer named \"\(printable(issuerName))\"")
        }
        switch issuer.keySource {
        case let remote as JWKSURIKeySource:
            try remote.set.supply(document: document, maxAge: maxAge)
        case let inline as StaticKeySource where inline.kind == "jwks":
            try JWKSDocument.checkShape(document, code: .invalidArgument)
            let set = try KeyLoader.loadJWKSReport(document)
            let source = try StaticKeySource(kind: "jwks", keys: set.keys, ignored: set.ignored)
            try issuers.replaceKeySource(of: issuer, with: source)
        default:
            throw JWTGrantError(.invalidArgument,
                "trusted issuer \"\(printable(issuerName))\" has no JWKS key source (it was registered with a certificate)")
        }
    }

    // MARK: applications and the token endpoint

    /// Registers an application (`client_json`). On a shared store, a
    /// registration identical to the stored one (the secret compared against
    /// the stored hash) succeeds.
    public func registerClient(json: String) throws(JWTGrantError) {
        guard let sharedClients else {
            try clients.register(json: json)
            return
        }
        let (client, secret) = try ClientRegistry.parseClientAndSecret(json: json)
        try sharedClients.register(client, secret: secret)
    }

    /// The applications as JSON (`ClientRegistry.list`); on a shared store
    /// after reading the generation when it is due, so that another
    /// process's registrations, removals and rotations show within a second.
    public func listClients() throws(JWTGrantError) -> JSONValue {
        refreshIfDue()
        return try clients.list()
    }


    // MARK: assertions

    /// Validates an assertion without consuming it, counting it and sending
    /// its audit event; `produce` turns the result into what the caller wants.
    public func observedVerification<T>(_ token: UnsafeRawBufferPointer,
                                        _ produce: (AssertionValidator.Verified) throws(JWTGrantError) -> T) throws(JWTGrantError) -> T {
        var facts = ValidationFacts()
        do {
            let result = try produce(try validator.validate(token, consume: false, facts: &facts))
            audit.verification(nil, facts: facts, now: clock.now())
            return result
        } catch {
            audit.verification(error, facts: facts, now: clock.now())
            throw error
        }
    }

    /// Validates an assertion without consuming it; the claims plus "_issuer_name".
    public func verifyAssertion(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> JSONValue {
        refreshIfDue()
        return try observedVerification(token) { (v) throws(JWTGrantError) in try v.claimsWithIssuerName() }
    }

    /// `verifyAssertion` with the claims as JSON text from malloc (C callers).
    public func verifyAssertionText(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> UnsafeMutablePointer<CChar> {
        refreshIfDue()
        return try observedVerification(token) { (v) throws(JWTGrantError) -> UnsafeMutablePointer<CChar> in
            guard let text = v.claimsText() else {
                throw JWTGrantError(.outOfMemory, "out of memory for the claims")
            }
            return text
        }
    }

    // MARK: the token endpoint

    /// One token request: the answer, counted, timed and sent as an audit
    /// event (with the detailed reason of a refusal).
    public func exchange(authorization: UnsafeRawBufferPointer?, body: UnsafeRawBufferPointer?) -> TokenResponse {
        let start = monotonicSeconds()
        var record = TokenEndpoint.ExchangeRecord()
        let response: TokenResponse
        if let failure = refreshIfDue(), failure.code == .unavailable {
            // The shared store is unavailable: 503 at once, counted and logged.
            record.error = failure
            response = TokenResponse(error: failure)
        } else {
            response = tokenEndpoint.handle(authorization: authorization, body: body, record: &record)
        }
        let micros = (monotonicSeconds() - start) * 1e6
        audit.exchange(record.error, reason: response.detail, httpStatus: response.httpStatus,
                       clientID: record.clientID, scope: record.scope, facts: record.facts, microseconds: micros,
                       now: audit.isListening ? clock.now() : 0)
        return response
    }

    // MARK: counters

    /// The `jwtgrant_stats` document.
    @_optimize(size)
    public func statsJSON() -> JSONValue {
        let o = JSONValue.object()
        let now = clock.now()
        o.set("since", .integer(Int64(audit.startedAt.isFinite ? max(0, min(audit.startedAt, 1e15)).rounded(.down) : 0)))
        o.set("uptime_seconds", .integer(Int64((now - audit.startedAt).isFinite ? max(0, min(now - audit.startedAt, 1e15)).rounded(.down) : 0)))
        o.set("exchanges", audit.exchangesJSON())
        o.set("verifications", audit.verificationsJSON())
        let jwks = JSONValue.object()
        for i in issuers.all() {
            guard let remote = i.keySource as? JWKSURIKeySource else { continue }
            let (fetches, failures) = remote.set.fetchCounts
            let entry = JSONValue.object()
            entry.set("fetches", .integer(Int64(fetches)))
            entry.set("failures", .integer(Int64(failures)))
            jwks.set(i.name, entry)
        }
        o.set("jwks", jwks)
        if let sized = replay as? any ReplayStoreSize {
            o.set("replay_store_size", .integer(Int64(sized.count)))
        } else {
            o.set("replay_store_size", JSONValue(taking: json_null()))
        }
        return o
    }
}
