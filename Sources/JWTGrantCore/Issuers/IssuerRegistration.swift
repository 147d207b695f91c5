/// Reads the `issuer_json` of `jwtgrant_register_issuer` and builds the
/// trusted issuer, validating its key material now rather than at the first
/// token.
public struct IssuerRegistration {
    /// Builds the key source of a `jwks_uri` (the JWKS endpoint key source).
    public typealias RemoteSourceFactory = (_ url: String, _ issuerName: String) throws(JWTGrantError) -> any KeySource

    public static func parse(_ json: String, remote: RemoteSourceFactory) throws(JWTGrantError) -> TrustedIssuer {
        var r = try StrictObjectReader(JSONValue.parse(json, what: "issuer_json"))
        let name = try r.requiredString("name")
        let issuer = try r.requiredString("issuer")
        let alias = try r.string("alias")
        let certificate = try r.string("certificate")
        let jwksURI = try r.string("jwks_uri")
        let jwks = r.raw("jwks")
        let policy = try IssuerPolicy.read(&r)
        try r.finish()

        let given = [certificate != nil, jwksURI != nil, jwks != nil].filter { $0 }.count
        guard given == 1 else {
            throw JWTGrantError(.invalidArgument,
                "exactly one of \"certificate\", \"jwks_uri\" and \"jwks\" is required (\(given) given)")
        }
        let source: any KeySource
        if let certificate {
            source = try StaticKeySource(kind: "certificate", keys: KeyLoader.loadCertificates(certificate))
        } else if let jwks {
            let doc: JSONValue
            if let text = jwks.stringValue {
                doc = try JSONValue.parseObject(text, what: "jwks", code: .badKey)
            } else if jwks.isObject {
                doc = jwks
            } else {
                throw JWTGrantError(.invalidArgument, "jwks must be a JWKS object (or its JSON text)")
            }
            let set = try KeyLoader.loadJWKSReport(doc)
            source = try StaticKeySource(kind: "jwks", keys: set.keys, ignored: set.ignored)
        } else if let jwksURI {
            source = try remote(jwksURI, name)
        } else {
            throw JWTGrantError(.invalidArgument, "no key source given")
        }
        return TrustedIssuer(name: name, issuer: issuer, alias: alias, keySource: source, policy: policy)
    }
}
