import CJansson

/// What one trusted token issuer is trusted for: whose subjects, which
/// scopes, which applications, until when, and its own assertion rules. Read
/// from the optional policy fields of `issuer_json`; every default keeps the
/// behaviour of an issuer registered without them (trusted for any subject,
/// scope and client, forever, with the server-wide time rules).
///
/// Identifiers (subjects, client ids, scope tokens) are kept as `Identifier`
/// and compared byte for byte.
public struct IssuerPolicy: Sendable {
    /// `allowed_subjects`: the exact `sub` values accepted; nil means any.
    public var allowedSubjects: Set<Identifier>?
    /// `subject_format`: the template of the issued access token's `sub`.
    public var subjectFormat: SubjectFormat
    /// `allowed_scopes`: the scopes its assertions may lead to; nil means no
    /// restriction beyond the client's.
    public var allowedScopes: Set<Identifier>?
    /// `allowed_clients`: the client ids that may exchange its assertions;
    /// nil means every client allowed the grant.
    public var allowedClients: Set<Identifier>?
    /// `expires_at` (NumericDate): after it the issuer is not trusted.
    public var expiresAt: Double?
    /// `require_jti`: assertions without a `jti` are refused (default false).
    public var requireJTI: Bool
    /// `max_assertion_lifetime` (seconds, 0 = no limit) replacing
    /// `grant_type.jwt.max_assertion_lifetime` for this issuer; nil: the
    /// server-wide value.
    public var maxAssertionLifetime: Int64?
    /// `iat_validity_period` (minutes) replacing
    /// `grant_type.jwt.iat_validity_period` for this issuer, and applying the
    /// iat age check to its assertions even when `enable_iat_validation` is
    /// false; nil: the server-wide settings.
    public var iatValidityPeriod: Int64?

    // The listing keeps the values as registered (in order).
    var subjectsText: [String]?
    var scopesText: [String]?
    var clientsText: [String]?

    public init() {
        subjectFormat = .default
        requireJTI = false
    }

    /// Reads the policy members of `issuer_json` from `r` (the caller
    /// finishes the reader). Malformed values are `.invalidArgument` naming
    /// the field.
    @_optimize(size)
    static func read(_ r: inout StrictObjectReader) throws(JWTGrantError) -> IssuerPolicy {
        var p = IssuerPolicy()
        if let subjects = try r.stringArray("allowed_subjects") {
            p.subjectsText = ClientRegistry.distinct(subjects)
            p.allowedSubjects = Set(subjects.map(Identifier.init))
        }
        if let format = try r.string("subject_format") {
            p.subjectFormat = try SubjectFormat(parsing: format)
        }
        if let scopes = try r.stringArray("allowed_scopes") {
            for s in scopes where !ScopeSyntax.isValidToken(s) {
                throw JWTGrantError(.invalidArgument,
                    "issuer_json.allowed_scopes: \"\(printable(s))\" is not a scope token (RFC 6749 3.3)")
            }
            p.scopesText = ClientRegistry.distinct(scopes)
            p.allowedScopes = Set(scopes.map(Identifier.init))
        }
        if let clients = try r.stringArray("allowed_clients") {
            p.clientsText = ClientRegistry.distinct(clients)
            p.allowedClients = Set(clients.map(Identifier.init))
        }
        p.expiresAt = try r.number("expires_at", in: 0...253_402_300_799)
        p.requireJTI = try r.bool("require_jti") ?? false
        p.maxAssertionLifetime = try r.integer("max_assertion_lifetime", in: 0...315_360_000)
        p.iatValidityPeriod = try r.integer("iat_validity_period", in: 1...525_600)
        return p
    }

    /// Whether the trust has expired at `now` (strictly after `expires_at`).
    public func isExpired(at now: Double) -> Bool {
        guard let expiresAt else { return false }
        return now > expiresAt
    }

    /// The server-wide validation settings with this issuer's overrides.
    func effective(_ policy: ValidationPolicy) -> ValidationPolicy {
        var p = policy
        if let m = maxAssertionLifetime { p.maxAssertionLifetime = Double(m) }
        if let i = iatValidityPeriod {
            p.iatValidation = true
            p.iatValidityPeriod = Double(i) * 60
        }
        return p
    }

    /// The policy members of `jwtgrant_list_issuers` (null for an absent
    /// list or override), and `expired` at `now`.
    func addListing(to o: JSONValue, now: Double) {
        var null: JSONValue { JSONValue(taking: json_null()) }
        func list(_ v: [String]?) -> JSONValue {
            guard let v else { return null }
            let a = JSONValue.array()
            for s in v { a.append(.string(s)) }
            return a
        }
        o.set("allowed_subjects", list(subjectsText))
        o.set("subject_format", .string(subjectFormat.text))
        o.set("allowed_scopes", list(scopesText))
        o.set("allowed_clients", list(clientsText))
        o.set("expires_at", expiresAt.map { $0.rounded(.towardZero) == $0 ? .integer(Int64($0)) : .real($0) } ?? null)
        o.set("expired", .bool(isExpired(at: now)))
        o.set("require_jti", .bool(requireJTI))
        o.set("max_assertion_lifetime", maxAssertionLifetime.map { .integer($0) } ?? null)
        o.set("iat_validity_period", iatValidityPeriod.map { .integer($0) } ?? null)
    }
}

/// `subject_format`: a template over `{sub}` (the assertion's `sub`),
/// `{name}` (the trusted issuer's name) and `{issuer}` (its `iss` value).
/// It must contain `{sub}` (otherwise every subject of the issuer would
/// become one); any other `{...}`, or an unbalanced brace, is refused.
public struct SubjectFormat: Sendable {
    enum Part: Sendable, Equatable { case literal([UInt8]), sub, name, issuer }
    let parts: [Part]
    /// The template as registered.
    public let text: String

    public static let `default` = SubjectFormat(parts: [.sub], text: "{sub}")

    private init(parts: [Part], text: String) {
        self.parts = parts
        self.text = text
    }

    @_optimize(size)
    public init(parsing text: String) throws(JWTGrantError) {
        let bytes = Array(text.utf8)
        var parts: [Part] = [], literal: [UInt8] = [], i = 0, hasSub = false
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "}") {
                throw JWTGrantError(.invalidArgument, "issuer_json.subject_format has a \"}\" without \"{\"")
            }
            guard c == UInt8(ascii: "{") else { literal.append(c); i += 1; continue }
            guard let close = bytes[i...].firstIndex(of: UInt8(ascii: "}")) else {
                throw JWTGrantError(.invalidArgument, "issuer_json.subject_format has a \"{\" without \"}\"")
            }
            let name = Identifier(bytes: Array(bytes[(i + 1)..<close]))
            let part: Part
            switch name {
            case "sub": part = .sub; hasSub = true
            case "name": part = .name
            case "issuer": part = .issuer
            default:
                throw JWTGrantError(.invalidArgument,
                    "issuer_json.subject_format: only {sub}, {name} and {issuer} may be used")
            }
            if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
            parts.append(part)
            i = close + 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        guard hasSub else {
            throw JWTGrantError(.invalidArgument, "issuer_json.subject_format must contain {sub}")
        }
        self.init(parts: parts, text: text)
    }

    /// The access token's `sub` for the assertion subject `sub` (its exact
    /// bytes) of `issuer`.
    func render(sub: [UInt8], name: String, issuer: String) -> String {
        String(decoding: renderBytes(sub: sub, name: name, issuer: issuer), as: UTF8.self)
    }

    /// `render` as UTF-8 bytes (the token endpoint writes them as they are).
    func renderBytes(sub: [UInt8], name: String, issuer: String) -> [UInt8] {
        if parts == [.sub] { return sub }
        var out: [UInt8] = []
        for p in parts {
            switch p {
            case .literal(let l): out += l
            case .sub: out += sub
            case .name: out += name.utf8
            case .issuer: out += issuer.utf8
            }
        }
        return out
    }
}
