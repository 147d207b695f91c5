/// RFC 7523 3.B: `sub` is present, a non-empty string.
struct SubjectRule {
    static func check(_ claims: JOSEObject) throws(JWTGrantError) {
        guard let sub = claims[.sub] else { throw JWTGrantError(.claim, "claim sub is missing") }
        guard let len = sub.withStringBytes({ $0.count }) else {
            throw JWTGrantError(.claim, "claim sub must be a string")
        }
        guard len > 0 else { throw JWTGrantError(.claim, "claim sub must not be empty") }
    }
}
