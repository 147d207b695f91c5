/// The shape of a JWKS document (RFC 7517 5): an object whose "keys" is an
/// array of objects. Checked before the keys themselves, so that "not a
/// JWKS" and "a JWKS with an unusable key" are told apart.
enum JWKSDocument {
    static func checkShape(_ doc: JSONValue, code: ErrorCode) throws(JWTGrantError) {
        guard doc.isObject, let arr = doc["keys"], arr.isArray else {
            throw JWTGrantError(code, "not a JWKS: expected an object with a \"keys\" array")
        }
        if arr.elements.contains(where: { !$0.isObject }) {
            throw JWTGrantError(code, "not a JWKS: every member of \"keys\" must be an object")
        }
    }
}
