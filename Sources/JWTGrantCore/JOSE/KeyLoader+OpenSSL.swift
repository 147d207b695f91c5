import COpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `EVP_PKEY_PUBLIC_KEY` (OSSL_KEYMGMT_SELECT_ALL_PARAMETERS |
/// OSSL_KEYMGMT_SELECT_PUBLIC_KEY), a macro expression Swift does not import.
private let selectPublicKey: Int32 = 0x84 | 0x02

/// OSSL_PARAM_BLD keeps the key and string pointers it is given until
/// OSSL_PARAM_BLD_to_param, so they must outlive the push call: static text.
@inline(__always)
private func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

extension KeyLoader {
    /// DER of a certificate or an SPKI, whichever it parses as completely.
    static func loadDERDetecting(_ der: [UInt8]) throws(JWTGrantError) -> VerificationKey {
        if parsesAsCertificate(der) { return try loadCertificateDER(der, what: "DER certificate") }
        return try loadSPKIDER(der, what: "DER input")
    }

    private static func parsesAsCertificate(_ der: [UInt8]) -> Bool {
        der.withUnsafeBufferPointer { buf -> Bool in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            guard let x = d2i_X509(nil, &p, buf.count) else { ERR_clear_error(); return false }
            X509_free(x)
            return true
        }
    }

    /// An X.509 certificate's public key with its validity period.
    static func loadCertificateDER(_ der: [UInt8], what: String) throws(JWTGrantError) -> VerificationKey {
        defer { ERR_clear_error() }
        let parsed: (OpaquePointer, Int)? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            guard let start = buf.baseAddress, let x = d2i_X509(nil, &p, buf.count), let end = p else { return nil }
            return (x, end - start)
        }
        guard let (cert, used) = parsed else { throw JWTGrantError(.badKey, "\(what) is not an X.509 certificate") }
        defer { X509_free(cert) }
        guard used == der.count else { throw JWTGrantError(.badKey, "\(what) has trailing data after the certificate") }
        guard let pkey = X509_get_pubkey(cert) else {
            throw JWTGrantError(.badKey, "\(what): the certificate's public key is not usable")
        }
        let notBefore = unixTime(X509_get0_notBefore(cert))
        let notAfter = unixTime(X509_get0_notAfter(cert))
        return try VerificationKey.make(taking: pkey, kid: nil, restrictedTo: nil,
                                        notBefore: notBefore, notAfter: notAfter)
    }

    /// A SubjectPublicKeyInfo.
    static func loadSPKIDER(_ der: [UInt8], what: String) throws(JWTGrantError) -> VerificationKey {
        defer { ERR_clear_error() }
        let parsed: (OpaquePointer, Int)? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            guard let start = buf.baseAddress, let k = d2i_PUBKEY(nil, &p, buf.count), let end = p else { return nil }
            return (k, end - start)
        }
        guard let (pkey, used) = parsed else {
            throw JWTGrantError(.badKey, "\(what) is neither an X.509 certificate nor a public key")
        }
        guard used == der.count else {
            EVP_PKEY_free(pkey)
            throw JWTGrantError(.badKey, "\(what) has trailing data after the public key")
        }
        return try VerificationKey.make(taking: pkey, kid: nil, restrictedTo: nil)
    }

    /// Unix seconds of an ASN1_TIME, or nil.
    private static func unixTime(_ t: UnsafePointer<ASN1_TIME>?) -> Double? {
        guard let t else { return nil }
        var tm = Glibc.tm()
        guard ASN1_TIME_to_tm(t, &tm) == 1 else { return nil }
        return Double(timegm(&tm))
    }

    // MARK: keys from JWK parameters

    static func rsaPublicKey(n: [UInt8], e: [UInt8]) throws(JWTGrantError) -> OpaquePointer {
        defer { ERR_clear_error() }
        guard let bld = OSSL_PARAM_BLD_new() else { throw JWTGrantError(.outOfMemory, "OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(bld) }
        guard let nb = BN_bin2bn(n, Int32(n.count), nil) else { throw JWTGrantError(.outOfMemory, "BN_bin2bn") }
        defer { BN_free(nb) }
        guard let eb = BN_bin2bn(e, Int32(e.count), nil) else { throw JWTGrantError(.outOfMemory, "BN_bin2bn") }
        defer { BN_free(eb) }
        guard OSSL_PARAM_BLD_push_BN(bld, cString("n"), nb) == 1,
              OSSL_PARAM_BLD_push_BN(bld, cString("e"), eb) == 1 else {
            throw JWTGrantError(.outOfMemory, "OSSL_PARAM_BLD_push_BN")
        }
        return try fromData(type: "RSA", bld)
    }

    static func ecPublicKey(curve: ECCurve, x: [UInt8], y: [UInt8]) throws(JWTGrantError) -> OpaquePointer {
        defer { ERR_clear_error() }
        guard let bld = OSSL_PARAM_BLD_new() else { throw JWTGrantError(.outOfMemory, "OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(bld) }
        let point: [UInt8] = [0x04] + x + y
        let group: StaticString
        switch curve {
        case .p256: group = "prime256v1"
        case .p384: group = "secp384r1"
        case .p521: group = "secp521r1"
        }
        return try point.withUnsafeBytes { p in
            Result { () throws(JWTGrantError) -> OpaquePointer in
                // The point buffer stays alive until fromData has built the params.
                guard OSSL_PARAM_BLD_push_utf8_string(bld, cString("group"), cString(group), 0) == 1,
                      OSSL_PARAM_BLD_push_octet_string(bld, cString("pub"), p.baseAddress, p.count) == 1 else {
                    throw JWTGrantError(.outOfMemory, "OSSL_PARAM_BLD_push")
                }
                do {
                    return try fromData(type: "EC", bld)
                } catch {
                    throw JWTGrantError(.badKey, "JWK EC point is not on \(curve.jwkName)")
                }
            }
        }.get()
    }

    static func ed25519PublicKey(_ x: [UInt8]) throws(JWTGrantError) -> OpaquePointer {
        guard let k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, x, x.count) else {
            ERR_clear_error()
            throw JWTGrantError(.badKey, "JWK Ed25519 key is not usable")
        }
        return k
    }

    private static func fromData(type: String, _ bld: OpaquePointer) throws(JWTGrantError) -> OpaquePointer {
        guard let params = OSSL_PARAM_BLD_to_param(bld) else { throw JWTGrantError(.outOfMemory, "OSSL_PARAM_BLD_to_param") }
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            throw JWTGrantError(.internalError, "EVP_PKEY_CTX_new_from_name(\(type))")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(ctx) == 1, EVP_PKEY_fromdata(ctx, &pkey, selectPublicKey, params) == 1,
              let k = pkey else {
            throw JWTGrantError(.badKey, "JWK \(type) key parameters are not a valid key")
        }
        return k
    }
}
