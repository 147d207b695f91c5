/// The token endpoint (`POST /oauth2/token`) for the JWT bearer grant
/// (RFC 7523 section 2.1), issuing RFC 9068 JWT access tokens, and the two
/// services resource servers need: the JWKS of the issued tokens and their
/// validation. Thread-safe: all state is immutable or guarded by the injected
/// components.
public final class TokenEndpoint: Sendable {
    public let config: AccessTokenConfig
    public let signer: any AccessTokenSigner
    public let clients: ClientRegistry
    private let verifier: ObservedAssertionVerifier
    private let clock: any Clock
    /// The largest form body accepted: `max_assertion_size` plus
    /// `FormBody.parameterAllowance`.
    public let maxBodySize: Int
    /// The issued tokens' header, `{"typ":"at+jwt","alg":...,"kid":...}`,
    /// the same for every token: written once.
    private let headerJSON: [UInt8]

    public convenience init(config: AccessTokenConfig, signer: any AccessTokenSigner,
                            verifier: @escaping AssertionVerifier, clock: any Clock, clients: ClientRegistry,
                            maxAssertionBytes: Int = 32 * 1024) {
        self.init(config: config, signer: signer,
                  observedVerifier: { (a, use, _) throws(JWTGrantError) -> VerifiedGrant in try verifier(a, use) },
                  clock: clock, clients: clients, maxAssertionBytes: maxAssertionBytes)
    }

    /// An endpoint over the lean pipeline: the verifier hands back only
    /// what the access token needs (`VerifiedGrant`: subject and idp), and
    /// fills the audit facts of the exchange (`ExchangeRecord`).
    public init(config: AccessTokenConfig, signer: any AccessTokenSigner,
                observedVerifier: @escaping ObservedAssertionVerifier, clock: any Clock, clients: ClientRegistry,
                maxAssertionBytes: Int = 32 * 1024) {
        self.maxBodySize = FormBody.limit(forAssertionsOf: maxAssertionBytes)
        self.config = config
        self.signer = signer
        self.verifier = observedVerifier
        self.clock = clock
        self.clients = clients
        var h = JSONText(capacity: 128)
        h.raw(#"{"typ":"at+jwt","alg":"#)
        h.string(signer.algorithm)
        h.raw(#","kid":"#)
        h.string(signer.kid)
        h.raw("}")
        headerJSON = h.bytes
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
        var record = ExchangeRecord()
        return handle(authorization: authorization, body: body, record: &record)
    }

    /// What one exchange established, for its audit event.
    public struct ExchangeRecord {
        /// The failure (nil: a token was issued); its reason is the
        /// response's `detail`, the event's "reason".
        public var error: JWTGrantError? = nil
        /// The client, once it authenticated.
        public var clientID: String? = nil
        /// The granted scope, space-separated (nil: none).
        public var scope: String? = nil
        public var facts = ValidationFacts()
        public init() {}
    }

    /// `handle`, filling `record`.
    public func handle(authorization: UnsafeRawBufferPointer?, body: UnsafeRawBufferPointer?,
                       record: inout ExchangeRecord) -> TokenResponse {
        do throws(JWTGrantError) {
            let request = try TokenRequest(authorization: authorization, body: body, clients: clients,
                                           maxBodySize: maxBodySize)
            record.clientID = request.client.clientID
            let grant = try verifyAssertion(request.assertion,
                                            use: AssertionUse(clientID: request.client.id, scopes: request.scopes),
                                            facts: &record.facts)
            guard let subject = grant.subject, !subject.isEmpty else {
                throw JWTGrantError(.claim, "the assertion has no sub claim")
            }
            let issued = try issue(to: request.client, subject: subject, idp: grant.idp, scopes: request.scopes)
            record.scope = request.scopes.flatMap { $0.isEmpty ? nil : $0.map(\.text).joined(separator: " ") }
            return issued
        } catch {
            record.error = error
            return TokenResponse(error: error)
        }
    }

    private func verifyAssertion(_ assertion: String, use: AssertionUse,
                                 facts: inout ValidationFacts) throws(JWTGrantError) -> VerifiedGrant {
        var text = assertion
        var local = ValidationFacts()
        defer { facts = local }
        return try text.withUTF8 { buf in
            Result { () throws(JWTGrantError) -> VerifiedGrant in
                try verifier(UnsafeRawBufferPointer(buf), use, &local)
            }
        }.get()
    }

    /// The access token claim naming the trusted issuer the grant came from
    /// (its `issuer` value), so that resource servers tell the same `sub` of
    /// two issuers apart.
    public static let identityProviderClaim = "idp"

    /// Mints the access token and builds the RFC 6749 5.1 response. Its
    /// lifetime is the client's `access_token_lifetime`, else the server's.
    private func issue(to client: Client, subject: [UInt8], idp: String,
                       scopes: [Identifier]?) throws(JWTGrantError) -> TokenResponse {
        let now = clock.now()
        guard now.isFinite, now >= 0, now < 1e15 else { throw JWTGrantError(.internalError, "the clock is out of range") }
        let iat = Int64(now.rounded(.down))
        let lifetime = client.accessTokenLifetime ?? config.lifetime
        guard lifetime > 0 else { throw JWTGrantError(.internalError, "access_token.lifetime must be positive") }
        let (exp, overflow) = iat.addingReportingOverflow(Int64(lifetime))
        guard !overflow else { throw JWTGrantError(.internalError, "access_token.lifetime is out of range") }

        // The requested scopes, space-separated (RFC 6749 3.3).
        var scopeBytes: [UInt8]? = nil
        if let scopes, !scopes.isEmpty {
            var out: [UInt8] = []
            for (i, s) in scopes.enumerated() {
                if i > 0 { out.append(0x20) }
                out += s.bytes
            }
            scopeBytes = out
        }

        // The RFC 9068 claims, written in one pass (JSONText escapes).
        var claims = JSONText(capacity: 352 + subject.count + idp.utf8.count + (scopeBytes?.count ?? 0))
        claims.raw(#"{"iss":"#)
        claims.string(config.issuer)
        claims.raw(#","sub":"#)
        subject.withUnsafeBytes { claims.string($0) }
        claims.raw(#","aud":"#)
        claims.string(config.audience ?? client.clientID)
        claims.raw(#","client_id":"#)
        claims.string(client.clientID)
        claims.raw(#","idp":"#)   // identityProviderClaim
        claims.string(idp)
        claims.raw(#","iat":"#)
        claims.integer(iat)
        claims.raw(#","exp":"#)
        claims.integer(exp)
        claims.raw(#","jti":"#)
        claims.string(try Self.newTokenID())
        if let scopeBytes {
            claims.raw(#","scope":"#)
            scopeBytes.withUnsafeBytes { claims.string($0) }
        }
        claims.raw("}")

        let token = try signer.sign(headerJSON: headerJSON, payloadJSON: claims.bytes)

        // The RFC 6749 5.1 body, written directly: a compact JWS is
        // base64url and dots, a scope is RFC 6749 3.3 tokens (%x21-7E without
        // '"' and backslash), so nothing needs escaping; checked, not assumed.
        guard Self.isCompactJWSText(token) else {
            throw JWTGrantError(.internalError, "the signer returned something that is not a compact JWS")
        }
        return TokenResponse(status: nil, httpStatus: 200,
                             json: Self.responseJSON(token: token, lifetime: lifetime, scope: scopeBytes), detail: nil)
    }

    /// `{"access_token":"<token>","token_type":"Bearer","expires_in":<n>[,"scope":"<scope>"]}`
    /// written into one buffer (the token and scope need no escaping, see above).
    static func responseJSON(token: String, lifetime: Int, scope: [UInt8]?) -> String {
        var token = token
        return token.withUTF8 { t -> String in
            var json = JSONText(capacity: 96 + t.count + (scope?.count ?? 0))
            json.raw(#"{"access_token":""#)
            json.raw(UnsafeRawBufferPointer(t))
            json.raw(#"","token_type":"Bearer","expires_in":"#)
            json.integer(Int64(lifetime))
            if let scope {
                json.raw(#","scope":""#)
                scope.withUnsafeBytes { json.raw($0) }
                json.raw("\"")
            }
            json.raw("}")
            return String(decoding: json.bytes, as: UTF8.self)
        }
    }

    static func isCompactJWSText(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { bytes in
            guard !bytes.isEmpty else { return false }
            // One table load per byte, no branch: the base64url alphabet and ".".
            let t = compactJWSBytes
            var bad: UInt8 = 0
            for c in bytes { bad |= t[Int(c)] }
            return bad == 0
        }
    }

    /// 0 for the bytes of a compact JWS (base64url and "."), 1 otherwise.
    /// Allocated once, never freed, never written after initialisation.
    nonisolated(unsafe) private static let compactJWSBytes: UnsafePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for c in 0..<256 {
            t[c] = Base64URL.urlTable[c] == 0xFF && c != Int(UInt8(ascii: ".")) ? 1 : 0
        }
        return UnsafePointer(t)
    }()

    /// A fresh 128-bit random token id, base64url without padding
    /// (libsodium's generator: the kernel CSPRNG, about 1 us; OpenSSL 3's
    /// RAND_bytes measured slower here). The id is public, so the table-driven
    /// encoder serves (no constant-time encoding needed).
    static func newTokenID() throws(JWTGrantError) -> String {
        SodiumRuntime.randomBytes(16).withUnsafeBytes { Base64URL.encode($0) }
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
