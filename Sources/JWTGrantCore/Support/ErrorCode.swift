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
    case assertionLifetime = -28
    /// A shared store (SQLite, Redis) cannot be reached or answered late.
    case unavailable = -29
    case subjectNotAllowed = -30
    case clientNotAllowed = -31
    case issuerExpired = -32
    case jtiRequired = -33

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
        case .assertionLifetime: return "JWTGRANT_EASSERTION_LIFETIME"
        case .unavailable: return "JWTGRANT_EUNAVAILABLE"
        case .subjectNotAllowed: return "JWTGRANT_ESUBJECT_NOT_ALLOWED"
        case .clientNotAllowed: return "JWTGRANT_ECLIENT_NOT_ALLOWED"
        case .issuerExpired: return "JWTGRANT_EISSUER_EXPIRED"
        case .jtiRequired: return "JWTGRANT_EJTI_REQUIRED"
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
             .keySourceUnavailable, .assertionLifetime, .subjectNotAllowed, .clientNotAllowed,
             .issuerExpired, .jtiRequired:
            return "invalid_grant"
        case .invalidClient: return "invalid_client"
        case .unauthorizedClient: return "unauthorized_client"
        case .unsupportedGrantType: return "unsupported_grant_type"
        case .invalidScope: return "invalid_scope"
        case .invalidToken: return "invalid_token"
        case .unavailable: return "temporarily_unavailable"
        }
    }

    /// The `error_description` the token endpoint sends for this failure:
    /// short, generic, the same for every request failing this way (no
    /// trusted issuer's name, no key id, no value from the request). The
    /// precise reason is `TokenResponse.detail`, for the host's log.
    public var publicDescription: StaticString {
        switch self {
        case .invalidArgument, .alreadyExists, .notFound, .badKey: return "the request is invalid"
        case .outOfMemory, .internalError, .storeFailure: return "the server could not answer the request"
        case .invalidRequest: return "the request is malformed or lacks a required parameter"
        case .invalidClient: return "client authentication failed"
        case .unauthorizedClient: return "the client is not allowed to use this grant type"
        case .unsupportedGrantType: return "the grant type is not supported"
        case .invalidScope: return "the requested scope is invalid or not allowed for the client"
        case .invalidToken: return "the token is not valid"
        case .malformed: return "the assertion is malformed"
        case .algorithm: return "the assertion's signing algorithm is not accepted"
        case .header: return "the assertion's header is not accepted"
        case .untrustedIssuer: return "the assertion's issuer is not trusted"
        case .keyNotFound: return "no key of the issuer matches the assertion"
        case .signature: return "the assertion's signature is not valid"
        case .expired: return "the assertion has expired"
        case .notYetValid: return "the assertion is not yet valid"
        case .iatTooOld: return "the assertion was issued too long ago"
        case .iatInFuture: return "the assertion was issued in the future"
        case .audience: return "the assertion is not addressed to this server"
        case .claim: return "a claim of the assertion is missing or not valid"
        case .replay: return "the assertion has already been used"
        case .keySourceUnavailable: return "the issuer's keys are unavailable"
        case .assertionLifetime: return "the assertion's lifetime is longer than allowed"
        case .subjectNotAllowed: return "the assertion's subject is not allowed for its issuer"
        case .clientNotAllowed: return "the client may not use assertions of this issuer"
        case .issuerExpired: return "the trust in the assertion's issuer has expired"
        case .jtiRequired: return "the assertion has no jti, which its issuer requires"
        case .unavailable: return "the service is temporarily unavailable"
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
