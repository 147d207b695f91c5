/// A token request that passed every check that comes before the assertion:
/// an authenticated client that may use the JWT bearer grant, the assertion
/// text and the scopes to grant.
///
/// The checks run in this order, and the first failure is the answer:
///
/// 1. the body: present, at most `maxBodySize` (`max_assertion_size` plus
///    `FormBody.parameterAllowance`), strictly form-urlencoded, no repeated
///    parameter -> `invalid_request`;
/// 2. the client authentication method: Basic header (`client_secret_basic`),
///    `client_id` + `client_secret` in the body (`client_secret_post`), or
///    `client_id` alone (`none`, a public client); both secrets at once, or a
///    `client_secret` without `client_id`, or a body `client_id` that
///    differs from the Basic one -> `invalid_request`; nothing ->
///    `invalid_client` (401);
/// 3. client authentication (unknown client, a method other than the
///    client's `token_endpoint_auth_method`, a secret from a public client,
///    wrong or expired secret, malformed Basic header) -> `invalid_client`
///    (401), one message;
/// 4. `grant_type`: missing -> `invalid_request`; not the JWT bearer grant ->
///    `unsupported_grant_type`; not in the client's `grant_types` ->
///    `unauthorized_client`;
/// 5. `assertion` missing -> `invalid_request`;
/// 6. `scope` malformed or outside the client's scopes -> `invalid_scope`.
///
/// The client is authenticated before any grant check (RFC 6749 3.2.1: the
/// server must authenticate a confidential client), so that an
/// unauthenticated caller learns nothing about the grant rules. Scope is
/// checked before the assertion is verified, so that a request refused for
/// its scope does not consume (burn) the assertion.
public struct TokenRequest: Sendable {
    public let client: Client
    public let assertion: String
    /// The scopes requested and granted (nil when no scope was requested).
    public let scopes: [Identifier]?

    public init(authorization: UnsafeRawBufferPointer?, body: UnsafeRawBufferPointer?,
                clients: ClientRegistry, maxBodySize: Int = FormBody.maxSize) throws(JWTGrantError) {
        // 1. the body
        guard let body else { throw JWTGrantError(.invalidRequest, "the request has no form body") }
        let form = try FormBody(parsing: body, maxSize: maxBodySize)

        // 2. the authentication method; an empty header counts as absent
        let header = (authorization?.isEmpty ?? true) ? nil : authorization
        let postID = form["client_id"], postSecret = form["client_secret"]
        let id: String, secret: String?, method: ClientAuthMethod
        if let header {
            guard postSecret == nil else {
                throw JWTGrantError(.invalidRequest,
                                    "the client used more than one authentication method (Authorization header and client_secret)")
            }
            // 3a. a malformed Basic header is a failed authentication
            let basic = try BasicCredentials(parsing: header)
            if let postID, Identifier(postID) != Identifier(basic.clientID) {
                throw JWTGrantError(.invalidRequest, "client_id in the body differs from the authenticated client")
            }
            (id, secret, method) = (basic.clientID, basic.clientSecret, .clientSecretBasic)
        } else if let postSecret {
            guard let postID else { throw JWTGrantError(.invalidRequest, "client_secret was sent without client_id") }
            (id, secret, method) = (postID, postSecret, .clientSecretPost)
        } else if let postID {
            // a public client (token_endpoint_auth_method none, RFC 7523 3.1)
            (id, secret, method) = (postID, nil, .none)
        } else {
            throw JWTGrantError(.invalidClient,
                                "client authentication is required (client_secret_basic, client_secret_post, or client_id of a public client)")
        }

        // 3. authentication (the method must be the client's)
        let client = try clients.authenticate(clientID: id, secret: secret, method: method)

        // 4. the grant
        guard let grantType = form["grant_type"] else {
            throw JWTGrantError(.invalidRequest, "the grant_type parameter is missing")
        }
        // Compared byte for byte, without building an Identifier.
        guard grantType.utf8.elementsEqual(Client.jwtBearerGrantTypeID.bytes) else {
            throw JWTGrantError(.unsupportedGrantType, "only the grant type \(Client.jwtBearerGrantType) is supported")
        }
        guard client.allowsGrant(Client.jwtBearerGrantTypeID) else {
            throw JWTGrantError(.unauthorizedClient, "the client is not allowed the grant type \(Client.jwtBearerGrantType)")
        }

        // 5. the assertion
        guard let assertion = form["assertion"] else {
            throw JWTGrantError(.invalidRequest, "the assertion parameter is missing")
        }

        // 6. the scope
        var scopes: [Identifier]? = nil
        if let scope = form["scope"] {
            guard let parsed = ScopeSyntax.parse(scope) else {
                throw JWTGrantError(.invalidScope, "the scope parameter is malformed (RFC 6749 3.3)")
            }
            guard client.allowsScopes(parsed) else {
                throw JWTGrantError(.invalidScope, "the requested scope exceeds the scope granted to the client")
            }
            scopes = parsed
        }

        self.client = client
        self.assertion = assertion
        self.scopes = scopes
    }
}
