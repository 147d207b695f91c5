/// What the token endpoint answers: the HTTP status and the JSON body to
/// send, RFC 6749 5.1 (success) or 5.2 (error). The host sends it with
/// `Content-Type: application/json`, `Cache-Control: no-store`,
/// `Pragma: no-cache`, and with a 401 also `WWW-Authenticate: Basic`.
///
/// The body is kept as its JSON text, the form it is sent in: the success
/// body is written directly (its values are checked to need no escaping),
/// which saves a jansson object and a serialization on the hot path.
public struct TokenResponse: Sendable {
    /// nil on success, otherwise the failure.
    public let status: ErrorCode?
    public let httpStatus: Int32
    /// The JSON body, compact.
    public let json: String
    /// On failure, the precise reason (which rule failed, which trusted issuer
    /// or key was involved): for the host's log, never sent to the client,
    /// never holding a token, secret or key. nil on success.
    public let detail: String?

    public init(status: ErrorCode?, httpStatus: Int32, json: String, detail: String? = nil) {
        self.status = status
        self.httpStatus = httpStatus
        self.json = json
        self.detail = detail
    }

    /// The RFC 6749 5.2 error response for `error`. The client is told the
    /// OAuth error and a short generic description of the status
    /// (`ErrorCode.publicDescription`: no issuer name, no rule detail); the
    /// error's reason goes to `detail`.
    public init(error: JWTGrantError) {
        let body = JSONValue.object()
        body.set("error", .string("\(error.code.oauthError)"))
        body.set("error_description", .string("\(error.code.publicDescription)"))
        self.init(status: error.code, httpStatus: error.code.httpStatus, json: body.serialized(), detail: error.reason)
    }

    /// The C status code (`JWTGRANT_OK` or the failure).
    public var statusCode: Int32 { status?.rawValue ?? 0 }

    /// The body parsed (for inspection and tests; an empty object if it were
    /// ever unparsable).
    public var body: JSONValue {
        (try? JSONValue.parseObject(json, what: "token response")) ?? .object()
    }

    public func serialized() -> String { json }
}
