/// The token endpoint (`POST /oauth2/token`) for the JWT bearer grant
/// (RFC 7523 section 2.1), issuing RFC 9068 JWT access tokens, and the two
/// services resource servers need: the JWKS of the issued tokens and their
/// validation. Thread-safe: all state is immutable or guarded by the injected
/// components.
public final class TokenEndpoint: Sendable {
    public let config: AccessTokenConfig
    public let signer: any AccessTokenSigner
    public let clients: ClientRegistry
    private let verifier: AssertionVerifier
    private let clock: any Clock
    /// The largest form body accepted: `max_assertion_size` plus
    /// `FormBody.parameterAllowance`.
    public let maxBodySize: Int

    public init(config: AccessTokenConfig, signer: any AccessTokenSigner,
                verifier: @escaping AssertionVerifier, clock: any Clock, clients: ClientRegistry,
                maxAssertionBytes: Int = 32 * 1024) {
        self.maxBodySize = FormBody.limit(forAssertionsOf: maxAssertionBytes)
        self.config = config
        self.signer = signer
        self.verifier = verifier
        self.clock = clock
        self.clients = clients
    }

    // MARK: the exchange

    /// Answers one token request, given the raw Authorization header value
    /// (nil when absent) and the raw form body. Never throws: every failure is
    /// an RFC 6749 5.2 response whose `error_description` is generic, and
    /// whose `detail` holds the precise reason for the host's log. See
    /// `TokenRequest` for the order of checks; the assertion is verified
    /// last, with the trusted issuer's policy for this client and these
    /// scopes, and its jti consumed only when every rule passed.
    public func handle(authorization: UnsafeRawBufferPointer?, body: UnsafeRawBufferPointer?) -> TokenResponse {
        do throws(JWTGrantError) {
            let request = try TokenRequest(authorization: authorization, body: body, clients: clients,
                                           maxBodySize: maxBodySize)
            let grant = try verifyAssertion(request.assertion,
                                            use: AssertionUse(clientID: request.client.id, scopes: request.scopes))
            guard let subject = grant.subject, !subject.isEmpty else {
                throw JWTGrantError(.claim, "the assertion has no sub claim")
            }
            return try issue(to: request.client, subject: subject, idp: grant.idp, scopes: request.scopes)
        } catch {
            return TokenResponse(error: error)
        }
    }

    private func verifyAssertion(_ assertion: String, use: AssertionUse) throws(JWTGrantError) -> VerifiedGrant {
        var text = assertion
        return try text.withUTF8 { buf in
            Result { () throws(JWTGrantError) -> VerifiedGrant in
                try verifier(UnsafeRawBufferPointer(buf), use)
            }
        }.get()
    }

    /// The access token claim naming the trusted issuer the grant came from
    /// (its `issuer` value), so that resource servers tell the same `sub` of
    /// two issuers apart.
    public static let identityProviderClaim = "idp"

    /// Mints the access token and builds the RFC 6749 5.1 response. Its
    /// lifetime is the client's `access_token_lifetime`, else the server's.
    private func issue(to client: Client, subject: String, idp: String,
                       scopes: [Identifier]?) throws(JWTGrantError) -> TokenResponse {
        let now = clock.now()
        guard now.isFinite, now >= 0, now < 1e15 else { throw JWTGrantError(.internalError, "the clock is out of range") }
        let iat = Int64(now.rounded(.down))
        let lifetime = client.accessTokenLifetime ?? config.lifetime
        guard lifetime > 0 else { throw JWTGrantError(.internalError, "access_token.lifetime must be positive") }
        let (exp, overflow) = iat.addingReportingOverflow(Int64(lifetime))
        guard !overflow else { throw JWTGrantError(.internalError, "access_token.lifetime is out of range") }

        let header = JSONValue.object()
        header.set("typ", .string("at+jwt"))
        header.set("alg", .string(signer.algorithm))
        header.set("kid", .string(signer.kid))

        let scope = scopes.flatMap { $0.isEmpty ? nil : $0.map(\.text).joined(separator: " ") }
        let claims = JSONValue.object()
        claims.set("iss", .string(config.issuer))
        claims.set("sub", .string(subject))
        claims.set("aud", .string(config.audience ?? client.clientID))
        claims.set("client_id", .string(client.clientID))
        claims.set(Self.identityProviderClaim, .string(idp))
        claims.set("iat", .integer(iat))
        claims.set("exp", .integer(exp))
        claims.set("jti", .string(try Self.newTokenID()))
        if let scope { claims.set("scope", .string(scope)) }

        let token = try signer.sign(header: header, payload: claims)

        // The RFC 6749 5.1 body, written directly: a compact JWS is
        // base64url and dots, a scope is RFC 6749 3.3 tokens (%x21-7E without
        // '"' and backslash), so nothing needs escaping; checked, not assumed.
        guard Self.isCompactJWSText(token) else {
            throw JWTGrantError(.internalError, "the signer returned something that is not a compact JWS")
        }
        var json = #"{"access_token":""# + token + #"","token_type":"Bearer","expires_in":"# + String(lifetime)
        if let scope { json += #","scope":""# + scope + "\"" }
        json += "}"
        return TokenResponse(status: nil, httpStatus: 200, json: json, detail: nil)
    }

    static func isCompactJWSText(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { bytes in
            !bytes.isEmpty && bytes.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == 0x2D || c == 0x5F || c == 0x2E
            }
        }
    }

    /// A fresh 128-bit random token id, base64url without padding
    /// (libsodium's generator: the kernel CSPRNG, about 1 us; OpenSSL 3's
    /// RAND_bytes measured slower here).
    static func newTokenID() throws(JWTGrantError) -> String {
        SodiumBase64.encode(SodiumRuntime.randomBytes(16), variant: SodiumBase64.urlSafeNoPadding)
    }

    // MARK: resource servers

    /// The JWKS document of the issued tokens: `{"keys": [public JWK]}`.
    public func jwksJSON() -> JSONValue {
        let keys = JSONValue.array()
        keys.append(signer.publicJWK)
        let doc = JSONValue.object()
        doc.set("keys", keys)
        return doc
    }

    /// Validates an access token this server issued, in order: signature
    /// (with our key and alg), `typ` (`at+jwt` or `application/at+jwt`, any
    /// case, RFC 9068 section 4), `iss` equal to ours, `exp` in the future by
    /// the injected clock. Returns the claims. Every failure is
    /// `.invalidToken` with a reason.
    public func verifyAccessToken(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> JSONValue {
        let header: JSONValue, claims: JSONValue
        do {
            (header, claims) = try signer.verifySignature(token)
        } catch {
            throw JWTGrantError(.invalidToken, "the access token is not valid: \(error.reason)")
        }
        guard claims.isObject else { throw JWTGrantError(.invalidToken, "the access token claims are not a JSON object") }
        guard let typ = header["typ"]?.identifier, Self.isAccessTokenType(typ) else {
            throw JWTGrantError(.invalidToken, "the access token's typ is not at+jwt")
        }
        guard let iss = claims["iss"], iss.stringEquals(config.issuer) else {
            throw JWTGrantError(.invalidToken, "the access token was not issued by this server")
        }
        guard let exp = claims["exp"]?.numberValue else {
            throw JWTGrantError(.invalidToken, "the access token has no exp claim")
        }
        guard exp > clock.now() else { throw JWTGrantError(.invalidToken, "the access token has expired") }
        return claims
    }

    /// `at+jwt` or `application/at+jwt`, ASCII case-insensitively
    /// (media types are case-insensitive, RFC 9068 section 4).
    static func isAccessTokenType(_ typ: Identifier) -> Bool {
        let lower = typ.bytes.map { c -> UInt8 in (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }
        return lower.elementsEqual("at+jwt".utf8) || lower.elementsEqual("application/at+jwt".utf8)
    }
}
