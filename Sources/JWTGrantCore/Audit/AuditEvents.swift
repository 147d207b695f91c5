import CJansson

/// The events of `jwtgrant_set_log_callback`, as JSON objects. What they
/// may hold: server-side values (issuer names, client ids of authenticated
/// clients, URLs, statuses, the engine's refusal reasons, which never quote
/// a token) and, from an assertion whose signature verified, its `sub` and a
/// hash of its `jti`. Never a token, a secret or key material.
extension AuditTrail {
    /// "success" (info), "refused" (warning: the caller's request), or
    /// "error" (error: the server's side, HTTP 500).
    static func outcome(_ error: JWTGrantError?) -> (String, LogLevel) {
        guard let error else { return ("success", .info) }
        return error.code.httpStatus < 500 ? ("refused", .warning) : ("error", .error)
    }

    private static func null() -> JSONValue { JSONValue(taking: json_null()) }

    private static func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? null() }

    /// The first 16 hex digits of SHA-256 of the verified `jti` (a string
    /// claim), enough to correlate events without logging the identifier.
    static func jtiHash(_ claims: JOSEObject?) -> String? {
        claims?[.jti]?.withStringBytes { Digest256.hexPrefix($0, count: 16) }
    }

    private func common(_ kind: String, _ error: JWTGrantError?, now: Double) -> (JSONValue, LogLevel) {
        let (outcome, level) = Self.outcome(error)
        let o = JSONValue.object()
        o.set("event", .string(kind))
        o.set("time", .integer(Int64(now.isFinite ? max(0, min(now, 1e15)).rounded(.down) : 0)))
        o.set("outcome", .string(outcome))
        o.set("status", .integer(Int64(error?.code.rawValue ?? 0)))
        o.set("status_name", .string(error.map { "\($0.code.statusName)" } ?? "JWTGRANT_OK"))
        return (o, level)
    }

    private func addAssertionFacts(_ o: JSONValue, _ facts: ValidationFacts) {
        o.set("issuer_name", Self.text(facts.issuer?.name))
        o.set("sub", Self.text(facts.verifiedClaims?[.sub]?.stringValue))
        o.set("jti_hash", Self.text(Self.jtiHash(facts.verifiedClaims)))
    }

    /// One verification (`jwtgrant_verify_assertion*`).
    public func verification(_ error: JWTGrantError?, facts: ValidationFacts, now: Double) {
        countVerification(error?.code)
        guard isListening else { return }
        let (o, level) = common("verification", error, now: now)
        addAssertionFacts(o, facts)
        o.set("reason", Self.text(error?.reason))
        emit(level, o)
    }

    /// One token request (`jwtgrant_exchange_token`). `clientID` only once
    /// the client authenticated; `reason` is the detailed refusal reason
    /// (`TokenResponse.detail`: the HTTP answer carries only a generic
    /// description).
    public func exchange(_ error: JWTGrantError?, reason: String?, httpStatus: Int32, clientID: String?, scope: String?,
                         facts: ValidationFacts, microseconds: Double, now: Double) {
        countExchange(error?.code, microseconds: microseconds)
        guard isListening else { return }
        let (o, level) = common("exchange", error, now: now)
        o.set("http_status", .integer(Int64(httpStatus)))
        o.set("oauth_error", error.map { .string("\($0.code.oauthError)") } ?? Self.null())
        o.set("client_id", Self.text(clientID))
        addAssertionFacts(o, facts)
        o.set("scope", Self.text(scope))
        o.set("reason", Self.text(reason))
        o.set("duration_us", .integer(Int64(microseconds.isFinite ? max(0, min(microseconds, 1e12)).rounded() : 0)))
        emit(level, o)
    }

    /// One fetch of a JWKS endpoint, successful or not.
    @_optimize(size)
    public func jwksFetch(_ report: JWKSFetchReport, issuerName: String, now: Double) {
        guard isListening else { return }
        let (outcome, level): (String, LogLevel) = switch report.result {
        case .loaded: ("success", .info)
        case .deferred: ("deferred", .info)
        case .failed: ("failure", .error)
        }
        let o = JSONValue.object()
        o.set("event", .string("jwks_fetch"))
        o.set("time", .integer(Int64(now.isFinite ? max(0, min(now, 1e15)).rounded(.down) : 0)))
        o.set("outcome", .string(outcome))
        o.set("issuer_name", .string(issuerName))
        o.set("url", .string(report.url))
        o.set("http_status", report.httpStatus.map { .integer(Int64($0)) } ?? Self.null())
        if case .loaded(let n) = report.result {
            o.set("keys_loaded", .integer(Int64(n)))
        } else {
            o.set("keys_loaded", Self.null())
        }
        if case .failed(let why) = report.result { o.set("reason", .string(why)) } else { o.set("reason", Self.null()) }
        let next = report.nextAttemptIn.map { now + $0 }
        o.set("next_refresh", next.map { .integer(Int64($0.isFinite ? max(0, min($0, 1e15)).rounded(.down) : 0)) } ?? Self.null())
        emit(level, o)
    }
}

/// What one JWKS fetch produced (RemoteKeySet reports it, with no lock held).
public struct JWKSFetchReport: Sendable {
    public enum Result: Sendable {
        case loaded(keys: Int)
        case failed(String)
        case deferred
    }
    public let url: String
    public let httpStatus: Int?
    public let result: Result
    /// Seconds until the next fetch is due (refresh ahead of expiry, or the
    /// retry after a failure); nil when none is planned.
    public let nextAttemptIn: Double?
}
