/// The one error type of the engine: a code (1:1 with a C status code and an
/// OAuth error) and a reason for humans. Reasons name the failing rule and
/// claim; they never contain a token, a secret or a key.
public struct JWTGrantError: Error, Sendable, CustomStringConvertible {
    public let code: ErrorCode
    public let reason: String

    public init(_ code: ErrorCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.statusName): \(reason)" }
}
