/// Reads the `issuer_json` of `jwtgrant_register_issuer` and builds the
/// trusted issuer, validating its key material now rather than at the first
/// token.
public struct IssuerRegistration {
    /// Builds the key source of a `jwks_uri` (the JWKS endpoint key source).
    public typealias RemoteSourceFactory = (_ url: String, _ issuerName: String) throws(JWTGrantError) -> any KeySource

    /// - Parameter now: Unix seconds; a certificate whose notAfter is before
    ///   it is refused (`.badKey`, naming the date).
    @_optimize(size)
    static func parse(_ json: String, now: Double = SystemClock().now(),
                             remote: RemoteSourceFactory) throws(JWTGrantError) -> TrustedIssuer {
        var r = try StrictObjectReader(JSONValue.parse(json, what: "issuer_json"))
        let name = try r.requiredString("name")
        let issuer = try r.requiredString("issuer")
        let alias = try r.string("alias")
        let certificate = try r.string("certificate")
        let jwksURI = try r.string("jwks_uri")
        let jwks = r.raw("jwks")
        let certificateFile = try r.string("certificate_file")
        let jwksFile = try r.string("jwks_file")
        let policy = try IssuerPolicy.read(&r)
        try r.finish()

        let given = [certificate != nil, jwksURI != nil, jwks != nil,
                     certificateFile != nil, jwksFile != nil].filter { $0 }.count
        guard given == 1 else {
            throw JWTGrantError(.invalidArgument,
                "exactly one of \"certificate\", \"certificate_file\", \"jwks_uri\", \"jwks\" and \"jwks_file\" is required (\(given) given)")
        }
        let source: any KeySource
        if let certificate {
            source = try StaticKeySource(kind: "certificate",
                                         keys: unexpired(KeyLoader.loadCertificates(certificate), now: now))
        } else if let certificateFile {
            let bytes = try ConfigFile.read(certificateFile, field: "certificate_file")
            let keys: [VerificationKey]
            if bytes.first == 0x30 {
                // Binary DER (.der, .cer): an ASN.1 SEQUENCE.
                keys = [try KeyLoader.loadDER(bytes)]
            } else {
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw JWTGrantError(.badKey, "certificate_file \"\(printable(certificateFile, limit: 256))\" is neither PEM, base64 nor DER")
                }
                keys = try KeyLoader.loadCertificates(text)
            }
            source = try StaticKeySource(kind: "certificate", keys: unexpired(keys, now: now))
        } else if let jwksFile {
            let bytes = try ConfigFile.read(jwksFile, field: "jwks_file")
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw JWTGrantError(.badKey, "jwks_file \"\(printable(jwksFile, limit: 256))\" is not UTF-8 text")
            }
            let doc = try JSONValue.parseObject(text, what: "jwks_file", code: .badKey)
            let set = try KeyLoader.loadJWKSReport(doc)
            source = try StaticKeySource(kind: "jwks", keys: set.keys, ignored: set.ignored)
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

    /// `keys`, or `.badKey` when every one of them is a certificate already
    /// expired at `now` (the latest notAfter date in the message: public,
    /// from the certificate the host configured). A bundle that still holds
    /// a usable key is accepted: its expired certificates are never used
    /// (KeySelection) and list_issuers shows them with "expired": true.
    @_optimize(size)
    static func unexpired(_ keys: [VerificationKey], now: Double) throws(JWTGrantError) -> [VerificationKey] {
        var latest: Double? = nil
        for k in keys {
            guard let notAfter = k.notAfter, notAfter < now else { return keys }
            latest = max(latest ?? notAfter, notAfter)
        }
        guard let latest else { return keys }
        let which = keys.count > 1 ? "every certificate has expired (the last on" : "the certificate expired (on"
        throw JWTGrantError(.badKey, "\(which) \(utcDate(latest)), its notAfter date)")
    }
}
