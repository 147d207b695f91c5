#if canImport(Glibc)
import Glibc
#endif
import CJansson

extension VerificationKey {
    /// The public description of this key for `jwtgrant_list_issuers`:
    /// `{"kty", "summary", "kid", "thumbprint", "not_before", "not_after"}`
    /// (kid and the dates null when absent; dates as RFC 3339 UTC text), and
    /// for a certificate given `now`, "expired".
    /// No key material.
    @_optimize(size)
    public func listingJSON(now: Double? = nil) -> JSONValue {
        let o = JSONValue.object()
        o.set("kty", .string(keyType))
        o.set("summary", .string(summary))
        o.set("kid", kid.map { .string($0.text) } ?? JSONValue(taking: json_null()))
        o.set("thumbprint", .string(thumbprint))
        o.set("not_before", notBefore.map { .string(utcDate($0)) } ?? JSONValue(taking: json_null()))
        o.set("not_after", notAfter.map { .string(utcDate($0)) } ?? JSONValue(taking: json_null()))
        if let now, let notAfter { o.set("expired", .bool(notAfter < now)) }
        return o
    }
}

/// Unix seconds as RFC 3339 UTC text ("2030-01-31T23:59:59Z"); out-of-range
/// values are clamped to years 0001...9999.
public func utcDate(_ unixSeconds: Double) -> String {
    let lo = -62135596800.0, hi = 253402300799.0
    let v = unixSeconds.isFinite ? min(max(unixSeconds, lo), hi) : 0
    var t = time_t(v.rounded(.down))
    var tm = Glibc.tm()
    guard gmtime_r(&t, &tm) != nil else { return "unknown" }
    var buf = [CChar](repeating: 0, count: 32)
    let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tm)
    guard n > 0 else { return "unknown" }
    return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
