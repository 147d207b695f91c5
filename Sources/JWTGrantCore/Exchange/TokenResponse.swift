/// What the token endpoint answers: the HTTP status and the JSON body to
/// send, RFC 6749 5.1 (success) or 5.2 (error). The host sends it with
/// `Content-Type: application/json`, `Cache-Control: no-store`,
/// `Pragma: no-cache`, and with a 401 also `WWW-Authenticate: Basic`.
public struct TokenResponse: Sendable {
    /// nil on success, otherwise the failure.
    public let status: ErrorCode?
    public let httpStatus: Int32
    public let body: JSONValue

    public init(status: ErrorCode?, httpStatus: Int32, body: JSONValue) {
        self.status = status
        self.httpStatus = httpStatus
        self.body = body
    }

    /// The RFC 6749 5.2 error response for `error`. The description is the
    /// error's reason, which never holds a token or a secret.
    public init(error: JWTGrantError) {
        let body = JSONValue.object()
        body.set("error", .string("\(error.code.oauthError)"))
        body.set("error_description", .string(error.reason))
        self.init(status: error.code, httpStatus: error.code.httpStatus, body: body)
    }

    /// The C status code (`JWTGRANT_OK` or the failure).
    public var statusCode: Int32 { status?.rawValue ?? 0 }

    public func serialized() -> String { body.serialized() }
}
