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

    private static let fields: Set<String> = ["client_id", "client_secret", "grant_types", "scopes"]

    static func parseClient(json: String) throws(JWTGrantError) -> Client {
        // JSONValue.parse never quotes the input, so a secret cannot leak here.
        let doc = try JSONValue.parseObject(json, what: "client_json")
        for key in doc.keys where !fields.contains(key) {
            throw JWTGrantError(.invalidArgument, "client_json: unknown field \"\(printable(key))\"")
        }
        guard let idValue = doc["client_id"] else {
            throw JWTGrantError(.invalidArgument, "client_json: client_id is required")
        }
        guard let clientID = idValue.stringValue else {
            throw JWTGrantError(.invalidArgument, "client_json: client_id must be a string")
        }
        guard !clientID.isEmpty else {
            throw JWTGrantError(.invalidArgument, "client_json: client_id must not be empty")
        }
        guard !clientID.utf8.contains(0) else {
            throw JWTGrantError(.invalidArgument, "client_json: client_id must not contain NUL")
        }
        var secretHash: ClientSecretHash? = nil
        if let secretValue = doc["client_secret"] {
            guard let secret = secretValue.stringValue else {
                throw JWTGrantError(.invalidArgument, "client_json: client_secret must be a string")
            }
            guard !secret.isEmpty else {
                throw JWTGrantError(.invalidArgument, "client_json: client_secret must not be empty")
            }
            secretHash = ClientSecretHash(hashing: secret)
        }
        let grantTypes = try stringArray(doc["grant_types"], field: "grant_types") ?? []
        let scopes = try stringArray(doc["scopes"], field: "scopes")
        if let scopes {
            for s in scopes where !ScopeSyntax.isValidToken(s) {
                throw JWTGrantError(.invalidArgument,
                                    "client_json: scopes: \"\(printable(s))\" is not a scope token (RFC 6749 3.3)")
            }
        }
        return Client(clientID: clientID, secretHash: secretHash, grantTypes: grantTypes, scopes: scopes)
    }

    private static func stringArray(_ value: JSONValue?, field: String) throws(JWTGrantError) -> [String]? {
        guard let value else { return nil }
        guard value.isArray else {
            throw JWTGrantError(.invalidArgument, "client_json: \(field) must be an array of strings")
        }
        var out: [String] = []
        for e in value.elements {
            guard let s = e.stringValue else {
                throw JWTGrantError(.invalidArgument, "client_json: \(field) must be an array of strings")
            }
            if !out.contains(s) { out.append(s) }
        }
        return out
    }

    /// A field name or value for a message: at most 64 characters, no controls.
    private static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.prefix(64).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }
}
