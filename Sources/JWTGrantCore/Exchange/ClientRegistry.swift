/// The registered applications (OAuth clients) of one server, and client
/// authentication at the token endpoint. Thread-safe (the store is).
public final class ClientRegistry: Sendable {
    private let store: any ClientStore

    /// A hash compared against when the client is unknown or public, so that
    /// a failed authentication costs the same whichever way it failed.
    private let decoy = ClientSecretHash(hashing: "decoy")

    public init(store: any ClientStore = MemoryClientStore()) {
        self.store = store
    }

    /// Registers a client from `client_json` (API.md):
    /// `{"client_id", "client_secret"?, "grant_types"?, "scopes"?}`.
    /// Unknown fields and wrong types are `.invalidArgument`; a taken id is
    /// `.alreadyExists`.
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

    /// The client with `clientID`, or nil.
    public func client(id clientID: String) throws(JWTGrantError) -> Client? {
        try store.client(id: clientID)
    }

    /// Authenticates a confidential client by its secret. Every failure (no
    /// such client, a public client, a wrong secret) is the same
    /// `.invalidClient` error, so that a caller learns nothing about which
    /// client ids exist.
    public func authenticate(clientID: String, secret: String) throws(JWTGrantError) -> Client {
        let client = try store.client(id: clientID)
        guard let client, let hash = client.secretHash else {
            _ = decoy.matches(secret)
            throw Self.authenticationFailed
        }
        guard hash.matches(secret) else { throw Self.authenticationFailed }
        return client
    }

    static let authenticationFailed = JWTGrantError(.invalidClient, "client authentication failed")

    // MARK: client_json

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
        var grantTypes: [String] = []
        for g in try r.stringArray("grant_types") ?? [] where !grantTypes.contains(g) { grantTypes.append(g) }
        let scopes = try r.stringArray("scopes")
        try r.finish()
        if let scopes {
            for s in scopes where !ScopeSyntax.isValidToken(s) {
                throw JWTGrantError(.invalidArgument,
                                    "client_json.scopes: \"\(printable(s))\" is not a scope token (RFC 6749 3.3)")
            }
        }
        let client = Client(clientID: clientID, secretHash: secret.map { ClientSecretHash(hashing: $0) },
                      grantTypes: grantTypes, scopes: scopes.map { s in s.reduce(into: []) { if !$0.contains($1) { $0.append($1) } } })
        return (client, secret)
    }

    /// A field name or value for a message: at most 64 characters, no controls.
}
