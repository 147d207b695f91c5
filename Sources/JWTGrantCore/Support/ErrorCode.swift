/// Every failure the engine can report. The raw value is the C status code of
/// `include/jwtgrant.h`: append-only, never renumbered, never reused.
public enum ErrorCode: Int32, Sendable, CaseIterable {
    case invalidArgument = -1
    case outOfMemory = -2
    case internalError = -3
    case alreadyExists = -4
    case notFound = -5
    case badKey = -6
    case storeFailure = -7
    case malformed = -8
    case algorithm = -9
    case header = -10
    case untrustedIssuer = -11
    case keyNotFound = -12
    case signature = -13
    case expired = -14
    case notYetValid = -15
    case iatTooOld = -16
    case iatInFuture = -17
    case audience = -18
    case claim = -19
    case replay = -20
    case keySourceUnavailable = -21
    case invalidRequest = -22
    case invalidClient = -23
    case unauthorizedClient = -24
    case unsupportedGrantType = -25
    case invalidScope = -26
    case invalidToken = -27
    // -28 is reserved (assigned on another branch).
    /// A shared store (SQLite, Redis) cannot be reached or answered late.
    case unavailable = -29

    /// The C macro name, e.g. `JWTGRANT_EEXPIRED`.
    public var statusName: StaticString {
        switch self {
        case .invalidArgument: return "JWTGRANT_EINVAL"
        case .outOfMemory: return "JWTGRANT_ENOMEM"
        case .internalError: return "JWTGRANT_EINTERNAL"
        case .alreadyExists: return "JWTGRANT_EEXISTS"
        case .notFound: return "JWTGRANT_ENOTFOUND"
        case .badKey: return "JWTGRANT_EKEY"
        case .storeFailure: return "JWTGRANT_ESTORE"
        case .malformed: return "JWTGRANT_EMALFORMED"
        case .algorithm: return "JWTGRANT_EALGORITHM"
        case .header: return "JWTGRANT_EHEADER"
        case .untrustedIssuer: return "JWTGRANT_EUNTRUSTED_ISSUER"
        case .keyNotFound: return "JWTGRANT_EKEY_NOT_FOUND"
        case .signature: return "JWTGRANT_ESIGNATURE"
        case .expired: return "JWTGRANT_EEXPIRED"
        case .notYetValid: return "JWTGRANT_ENOT_YET_VALID"
        case .iatTooOld: return "JWTGRANT_EIAT_TOO_OLD"
        case .iatInFuture: return "JWTGRANT_EIAT_FUTURE"
        case .audience: return "JWTGRANT_EAUDIENCE"
        case .claim: return "JWTGRANT_ECLAIM"
        case .replay: return "JWTGRANT_EREPLAY"
        case .keySourceUnavailable: return "JWTGRANT_EKEY_SOURCE"
        case .invalidRequest: return "JWTGRANT_EINVALID_REQUEST"
        case .invalidClient: return "JWTGRANT_EINVALID_CLIENT"
        case .unauthorizedClient: return "JWTGRANT_EUNAUTHORIZED_CLIENT"
        case .unsupportedGrantType: return "JWTGRANT_EUNSUPPORTED_GRANT"
        case .invalidScope: return "JWTGRANT_EINVALID_SCOPE"
        case .invalidToken: return "JWTGRANT_EINVALID_TOKEN"
        case .unavailable: return "JWTGRANT_EUNAVAILABLE"
        }
    }

    /// The OAuth error code (RFC 6749 5.2, RFC 6750 3.1) this failure maps to.
    public var oauthError: StaticString {
        switch self {
        case .invalidArgument, .alreadyExists, .notFound, .badKey, .invalidRequest:
            return "invalid_request"
        case .outOfMemory, .internalError, .storeFailure:
            return "server_error"
        case .malformed, .algorithm, .header, .untrustedIssuer, .keyNotFound, .signature,
             .expired, .notYetValid, .iatTooOld, .iatInFuture, .audience, .claim, .replay,
             .keySourceUnavailable:
            return "invalid_grant"
        case .invalidClient: return "invalid_client"
        case .unauthorizedClient: return "unauthorized_client"
        case .unsupportedGrantType: return "unsupported_grant_type"
        case .invalidScope: return "invalid_scope"
        case .invalidToken: return "invalid_token"
        case .unavailable: return "temporarily_unavailable"
        }
    }

    /// The HTTP status the token endpoint answers with for this failure.
    public var httpStatus: Int32 {
        switch self {
        case .invalidClient: return 401
        case .outOfMemory, .internalError, .storeFailure: return 500
        case .unavailable: return 503
        default: return 400
        }
    }
}
