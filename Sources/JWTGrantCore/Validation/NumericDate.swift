/// RFC 7519 NumericDate claims (exp, nbf, iat): a JSON number, integer or
/// fraction, of seconds since the epoch. Strings, booleans, negative,
/// non-finite and absurd values (past the year 9999) are refused.
enum NumericDate {
    static let latest: Double = 253_402_300_799

    /// The claim's value; nil when absent; `.claim` when present but not a sane NumericDate.
    static func read(_ claims: JOSEObject, _ name: StaticString) throws(JWTGrantError) -> Double? {
        guard let i = name.withUTF8Buffer({ claims.index(of: UnsafeRawBufferPointer($0)) }) else { return nil }
        return try value(JOSEValue(object: claims, index: i), name)
    }

    /// `read` of a registered claim (exp, nbf, iat): found without a search.
    static func read(_ claims: JOSEObject, _ claim: JOSEName) throws(JWTGrantError) -> Double? {
        guard let i = claims.index(of: claim) else { return nil }
        return try value(JOSEValue(object: claims, index: i), claim.text)
    }

    private static func value(_ v: JOSEValue, _ name: StaticString) throws(JWTGrantError) -> Double {
        guard let d = v.numberValue else {
            throw JWTGrantError(.claim, "claim \(name) must be a NumericDate (a JSON number)")
        }
        guard d.isFinite, d >= 0, d <= latest else {
            throw JWTGrantError(.claim, "claim \(name) is out of range for a NumericDate")
        }
        return d
    }
}
