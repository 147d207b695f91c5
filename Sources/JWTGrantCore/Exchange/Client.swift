/// How a client authenticates at the token endpoint
/// (`token_endpoint_auth_method`, RFC 7591 section 2).
public enum ClientAuthMethod: Sendable, Equatable {
    /// `client_secret_basic`: the secret in an `Authorization: Basic` header.
    case clientSecretBasic
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    case clientSecretPost
    /// `none`: a public client; `client_id` in the body and no secret
    /// (RFC 7523 section 3.1 lets a JWT bearer request go without client
    /// authentication).
    case none

    /// The RFC 7591 name.
    public var name: StaticString {
        switch self {
        case .clientSecretBasic: return "client_secret_basic"
        case .clientSecretPost: return "client_secret_post"
        case .none: return "none"
        }
    }

    /// The method named `name` (compared byte for byte), or nil.
    public init?(name: String) {
        switch Identifier(name) {
        case "client_secret_basic": self = .clientSecretBasic
        case "client_secret_post": self = .clientSecretPost
        case "none": self = .none
        default: return nil
        }
    }
}

/// A previous client secret that stays valid until `validUntil` (Unix
/// seconds) after a rotation with a grace period.
public struct GraceSecret: Sendable, Equatable {
    public let hash: ClientSecretHash
    public let validUntil: Int64

    public init(hash: ClientSecretHash, validUntil: Int64) {
        self.hash = hash
        self.validUntil = validUntil
    }
}

/// A registered application (OAuth client).
public struct Client: Sendable {
    /// The grant type of RFC 7523 section 2.1.
    public static let jwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    public static let jwtBearerGrantTypeID = Identifier(jwtBearerGrantType)

    public let clientID: String
    /// The current secret; nil for a public client (`none`).
    public let secretHash: ClientSecretHash?
    /// Secrets replaced by a rotation that remain valid for a grace period
    /// (newest first). Empty unless `rotateSecret` named a grace period.
    public let graceSecrets: [GraceSecret]
    /// The registered `token_endpoint_auth_method`; nil means a confidential
    /// client that may use either `client_secret_basic` or `client_secret_post`.
    public let authMethod: ClientAuthMethod?
    public let grantTypes: [String]
    /// The scopes the client may be granted. nil (not registered) and an
    /// empty list both mean that the client may request no scope at all:
    /// least privilege is the default.
    public let scopes: [String]?
    /// Seconds from `iat` to `exp` of the access tokens issued to it
    /// (`access_token_lifetime`); nil: the server's `access_token.lifetime`.
    public let accessTokenLifetime: Int?
    /// `clientID`, `grantTypes` and `scopes` as identifiers: what every
    /// comparison and store key uses (byte for byte).
    public let id: Identifier
    public let grantTypeIDs: Set<Identifier>
    public let scopeIDs: Set<Identifier>

    public init(clientID: String, secretHash: ClientSecretHash?, grantTypes: [String], scopes: [String]?,
                accessTokenLifetime: Int? = nil,
                authMethod: ClientAuthMethod? = nil, graceSecrets: [GraceSecret] = []) {
        self.clientID = clientID
        self.accessTokenLifetime = accessTokenLifetime
        self.secretHash = secretHash
        self.graceSecrets = graceSecrets
        self.authMethod = authMethod
        self.grantTypes = grantTypes
        self.scopes = scopes
        self.id = Identifier(clientID)
        self.grantTypeIDs = Set(grantTypes.map(Identifier.init))
        self.scopeIDs = Set((scopes ?? []).map(Identifier.init))
    }

    /// A copy with another current secret and grace secrets (rotation).
    public func withSecrets(_ current: ClientSecretHash, grace: [GraceSecret]) -> Client {
        Client(clientID: clientID, secretHash: current, grantTypes: grantTypes, scopes: scopes,
               accessTokenLifetime: accessTokenLifetime, authMethod: authMethod, graceSecrets: grace)
    }

    /// A public client (`token_endpoint_auth_method` `none`): it has no secret.
    public var isPublic: Bool { authMethod == ClientAuthMethod.none }

    public var isConfidential: Bool { !isPublic && secretHash != nil }

    /// Whether this client may authenticate with `method`.
    public func accepts(_ method: ClientAuthMethod) -> Bool {
        switch authMethod {
        case nil: return method != .none && secretHash != nil
        case let registered?: return registered == method
        }
    }

    public func allowsGrant(_ grantType: Identifier) -> Bool { grantTypeIDs.contains(grantType) }

    /// Whether every scope in `requested` may be granted to this client. A
    /// client registered without scopes may be granted none.
    public func allowsScopes(_ requested: [Identifier]) -> Bool {
        requested.allSatisfy { scopeIDs.contains($0) }
    }

    /// Whether `secret` is the current secret or a grace secret still valid
    /// at `now`. Every stored hash is compared (no early exit), so the time
    /// taken does not tell which one matched.
    public func secretMatches(_ secret: String, now: Double) -> Bool {
        var ok = secretHash?.matches(secret) ?? false
        for g in graceSecrets {
            let m = g.hash.matches(secret)
            ok = ok || (m && now < Double(g.validUntil))
        }
        return ok
    }
}
