/// The registered applications (OAuth clients) of one server, and client
/// authentication at the token endpoint. Thread-safe (the store is).
///
/// State changes go through four methods only: `register`, `remove`,
/// `rotateSecret` (and `register(_:)` for an already built client); every
/// other method reads.
public final class ClientRegistry: Sendable {
    private let store: any ClientStore
    private let clock: any Clock

    /// A hash compared against when the client is unknown or does not use the
    /// method, so that a failed authentication costs about the same whichever
    /// way it failed.
    private let decoy = ClientSecretHash(hashing: "decoy")

    /// The longest grace period a rotation may name: one year, in seconds.
    public static let maxGraceSeconds: Int64 = 31_536_000

    public init(store: any ClientStore = MemoryClientStore(), clock: any Clock = SystemClock()) {
        self.store = store
        self.clock = clock
    }

    /// Registers a client from `client_json` (docs/abi.md, jwtgrant_register_client):
    /// `{"client_id", "client_secret"?, "token_endpoint_auth_method"?,
    /// "grant_types"?, "scopes"?, "access_token_lifetime"?}`. Unknown fields,
    /// wrong types and a client that could never authenticate (no secret and
    /// not `none`) are `.invalidArgument`; a taken id is `.alreadyExists`.
    @discardableResult
    public func register(json: String) throws(JWTGrantError) -> Client {
        let client = try Self.parseClient(json: json)
        try store.insert(client)
        return client
    }

    /// Registers an already built client.
    public func register(_ client: Client) throws(JWTGrantError) {
        try store.insert(client)
    }

    /// Removes the client with `clientID`: `.notFound` when there is none.
    /// Requests already past authentication finish; later ones fail.
    public func remove(id clientID: String) throws(JWTGrantError) {
        guard try store.remove(id: clientID) else {
            throw JWTGrantError(.notFound, "no client with this client_id is registered")
        }
    }

    /// Gives a confidential client a new secret. With `graceSeconds` 0 the
    /// new secret replaces every earlier one at once; with N > 0 the secret
    /// current until now stays valid N more seconds (by the registry's
    /// clock), as do earlier grace secrets until their own end. `.notFound`
    /// for an unknown client; `.invalidArgument` for a public client, an
    /// empty secret or a grace period outside 0...`maxGraceSeconds`.
    public func rotateSecret(id clientID: String, newSecret: String, graceSeconds: Int64) throws(JWTGrantError) {
        guard !newSecret.isEmpty else { throw JWTGrantError(.invalidArgument, "new_secret is empty") }
        guard graceSeconds >= 0, graceSeconds <= Self.maxGraceSeconds else {
            throw JWTGrantError(.invalidArgument, "grace_seconds must be between 0 and 31536000")
        }
        let now = clock.now()
        guard now.isFinite, now >= 0, now < 1e15 else { throw JWTGrantError(.internalError, "the clock is out of range") }
        let nowSeconds = Int64(now.rounded(.down))
        let hash = ClientSecretHash(hashing: newSecret)
        let updated = try store.update(id: clientID) { (c) throws(JWTGrantError) -> Client in
            guard !c.isPublic, let current = c.secretHash else {
                throw JWTGrantError(.invalidArgument,
                                    "the client is public (token_endpoint_auth_method none): it has no secret to rotate")
            }
            guard graceSeconds > 0 else { return c.withSecrets(hash, grace: []) }
            let kept = c.graceSecrets.filter { now < Double($0.validUntil) }
            return c.withSecrets(hash, grace: [GraceSecret(hash: current, validUntil: nowSeconds + graceSeconds)] + kept)
        }
        guard updated != nil else { throw JWTGrantError(.notFound, "no client with this client_id is registered") }
    }

    /// The client with `clientID`, or nil.
    public func client(id clientID: String) throws(JWTGrantError) -> Client? {
        try store.client(id: clientID)
    }

    /// Every client as a JSON array sorted by `client_id` (bytes), never with
    /// a secret or its hash: `client_id`, `token_endpoint_auth_method` (the
    /// registered one, or absent), `auth_methods` (those accepted),
    /// `grant_types`, `scopes`, `secrets` (how many secrets authenticate now)
    /// and, during a rotation's grace period, `grace_until` (Unix seconds when
    /// the last previous secret stops working).
    @_optimize(size)
    public func list() throws(JWTGrantError) -> JSONValue {
        let now = clock.now()
        let out = JSONValue.array()
        for c in try store.all().sorted(by: { $0.id < $1.id }) {
            let o = JSONValue.object()
            o.set("client_id", .string(c.clientID))
            if let m = c.authMethod { o.set("token_endpoint_auth_method", .string(m.name.description)) }
            let methods = JSONValue.array()
            for m in [ClientAuthMethod.clientSecretBasic, .clientSecretPost, .none] where c.accepts(m) {
                methods.append(.string(m.name.description))
            }
            o.set("auth_methods", methods)
            let grants = JSONValue.array()
            for g in c.grantTypes { grants.append(.string(g)) }
            o.set("grant_types", grants)
            let scopes = JSONValue.array()
            for sc in c.scopes ?? [] { scopes.append(.string(sc)) }
            o.set("scopes", scopes)
            let live = c.graceSecrets.filter { now < Double($0.validUntil) }
            o.set("secrets", .integer(Int64((c.secretHash == nil ? 0 : 1) + live.count)))
            if let last = live.map(\.validUntil).max() { o.set("grace_until", .integer(last)) }
            out.append(o)
        }
        return out
    }

    /// Authenticates a client at the token endpoint by `method`: with its
    /// secret (`client_secret_basic`, `client_secret_post`; the current secret
    /// or a grace secret still valid) or, for a public client, by its id alone
    /// (`none`, `secret` nil). Every failure (no such client, a client
    /// registered for another method, a wrong secret) is the same
    /// `.invalidClient` error, so that a caller learns nothing about which
    /// client ids exist.
    public func authenticate(clientID: String, secret: String?,
                             method: ClientAuthMethod) throws(JWTGrantError) -> Client {
        let client = try store.client(id: clientID)
        guard let client, client.accepts(method) else {
            if let secret { _ = decoy.matches(secret) }
            throw Self.authenticationFailed
        }
        if method == .none {
            guard secret == nil else { throw Self.authenticationFailed }
            return client
        }
        guard let secret, client.secretMatches(secret, now: clock.now()) else { throw Self.authenticationFailed }
        return client
    }

    /// `authenticate` with a secret sent either way (tests and hosts that
    /// check a secret outside the token endpoint).
    public func authenticate(clientID: String, secret: String) throws(JWTGrantError) -> Client {
        let client = try store.client(id: clientID)
        guard let client, !client.isPublic, client.secretHash != nil else {
            _ = decoy.matches(secret)
            throw Self.authenticationFailed
        }
        guard client.secretMatches(secret, now: clock.now()) else { throw Self.authenticationFailed }
        return client
    }

    static let authenticationFailed = JWTGrantError(.invalidClient, "client authentication failed")

    // MARK: client_json

    @_optimize(size)
    static func parseClient(json: String) throws(JWTGrantError) -> Client {
        try parseClientAndSecret(json: json).client
    }

    /// The client and its secret in clear (a shared store compares a
    /// re-registration's secret against the stored hash; never kept).
    static func parseClientAndSecret(json: String) throws(JWTGrantError) -> (client: Client, secret: String?) {
        // JSONValue.parse never quotes the input, so a secret cannot leak here.
        var r = try StrictObjectReader(JSONValue.parseObject(json, what: "client_json"), path: "client_json")
        let clientID = try r.requiredString("client_id")
        let secret = try r.string("client_secret")
        let methodName = try r.string("token_endpoint_auth_method")
        var grantTypes: [String] = [], seenGrants: Set<Identifier> = []
        for g in try r.stringArray("grant_types") ?? [] where seenGrants.insert(Identifier(g)).inserted {
            grantTypes.append(g)
        }
        let scopes = try r.stringArray("scopes")
        let lifetime = try r.integer("access_token_lifetime", in: 1...31_536_000)
        try r.finish()
        if let scopes {
            for s in scopes where !ScopeSyntax.isValidToken(s) {
                throw JWTGrantError(.invalidArgument,
                                    "client_json.scopes: \"\(printable(s))\" is not a scope token (RFC 6749 3.3)")
            }
        }
        var method: ClientAuthMethod? = nil
        if let methodName {
            guard let m = ClientAuthMethod(name: methodName) else {
                throw JWTGrantError(.invalidArgument,
                    "client_json.token_endpoint_auth_method must be client_secret_basic, client_secret_post or none")
            }
            method = m
        }
        if method == ClientAuthMethod.none {
            guard secret == nil else {
                throw JWTGrantError(.invalidArgument,
                    "client_json.client_secret: a public client (token_endpoint_auth_method none) has no secret")
            }
        } else if secret == nil {
            throw JWTGrantError(.invalidArgument,
                "client_json.client_secret is required unless token_endpoint_auth_method is \"none\" (a public client)")
        }
        let client = Client(clientID: clientID, secretHash: secret.map { ClientSecretHash(hashing: $0) },
                            grantTypes: grantTypes, scopes: scopes.map(Self.distinct),
                            accessTokenLifetime: lifetime.map { Int($0) }, authMethod: method)
        return (client, secret)
    }

    /// `values` without repeats (compared byte for byte), in order.
    static func distinct(_ values: [String]) -> [String] {
        var seen: Set<Identifier> = []
        return values.filter { seen.insert(Identifier($0)).inserted }
    }

    /// A field name or value for a message: at most 64 characters, no controls.
}
