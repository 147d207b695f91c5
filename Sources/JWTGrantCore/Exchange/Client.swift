/// A registered application (OAuth client).
public struct Client: Sendable {
    /// The grant type of RFC 7523 section 2.1.
    public static let jwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    public let clientID: String
    /// nil for a public client, which can never authenticate at the token
    /// endpoint and so is always refused the JWT bearer grant.
    public let secretHash: ClientSecretHash?
    public let grantTypes: [String]
    /// The scopes the client may be granted; nil means unrestricted.
    public let scopes: [String]?

    public init(clientID: String, secretHash: ClientSecretHash?, grantTypes: [String], scopes: [String]?) {
        self.clientID = clientID
        self.secretHash = secretHash
        self.grantTypes = grantTypes
        self.scopes = scopes
    }

    public var isConfidential: Bool { secretHash != nil }

    public func allowsGrant(_ grantType: String) -> Bool { grantTypes.contains(grantType) }

    /// Whether every scope in `requested` may be granted to this client.
    public func allowsScopes(_ requested: [String]) -> Bool {
        guard let scopes else { return true }
        return requested.allSatisfy { scopes.contains($0) }
    }
}
