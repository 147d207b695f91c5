/// A registered application (OAuth client).
public struct Client: Sendable {
    /// The grant type of RFC 7523 section 2.1.
    public static let jwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    public static let jwtBearerGrantTypeID = Identifier(jwtBearerGrantType)

    public let clientID: String
    /// nil for a public client, which can never authenticate at the token
    /// endpoint and so is always refused the JWT bearer grant.
    public let secretHash: ClientSecretHash?
    public let grantTypes: [String]
    /// The scopes the client may be granted; nil means unrestricted.
    public let scopes: [String]?
    /// Seconds from `iat` to `exp` of the access tokens issued to it
    /// (`access_token_lifetime`); nil: the server's `access_token.lifetime`.
    public let accessTokenLifetime: Int?
    /// `clientID`, `grantTypes` and `scopes` as identifiers: what every
    /// comparison and store key uses (byte for byte).
    public let id: Identifier
    public let grantTypeIDs: Set<Identifier>
    public let scopeIDs: Set<Identifier>?

    public init(clientID: String, secretHash: ClientSecretHash?, grantTypes: [String], scopes: [String]?,
                accessTokenLifetime: Int? = nil) {
        self.clientID = clientID
        self.accessTokenLifetime = accessTokenLifetime
        self.secretHash = secretHash
        self.grantTypes = grantTypes
        self.scopes = scopes
        self.id = Identifier(clientID)
        self.grantTypeIDs = Set(grantTypes.map(Identifier.init))
        self.scopeIDs = scopes.map { Set($0.map(Identifier.init)) }
    }

    public var isConfidential: Bool { secretHash != nil }

    public func allowsGrant(_ grantType: Identifier) -> Bool { grantTypeIDs.contains(grantType) }

    /// Whether every scope in `requested` may be granted to this client.
    public func allowsScopes(_ requested: [Identifier]) -> Bool {
        guard let scopeIDs else { return true }
        return requested.allSatisfy { scopeIDs.contains($0) }
    }
}
