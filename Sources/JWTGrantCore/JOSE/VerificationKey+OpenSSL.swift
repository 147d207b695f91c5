import COpenSSL

/// Key policy, enforced on every verification key whatever its source.
enum KeyPolicy {
    /// RSA moduli below this are refused (RFC 7518 3.3 requires 2048).
    static let minimumRSABits: Int32 = 2048
    /// Above this, verification becomes a denial-of-service vector.
    static let maximumRSABits: Int32 = 16384
    /// RSA public exponents must be odd and at least 65537 (F4): small
    /// exponents (3) add Bleichenbacher-style forgery risk and no benefit.
    static let minimumRSAExponentBits: Int32 = 17
}

extension VerificationKey {
    /// Checks `pkey` against the key policy and prepares its verify contexts.
    /// Takes ownership of `pkey` (freed on failure too).
    static func make(taking pkey: OpaquePointer, kid: Identifier?, restrictedTo jwkAlg: JWSAlgorithm?,
                     notBefore: Double? = nil, notAfter: Double? = nil) throws(JWTGrantError) -> VerificationKey {
        var owned: OpaquePointer? = pkey
        defer { if let p = owned { EVP_PKEY_free(p) } }
        defer { ERR_clear_error() }

        let material: Material
        let keyType: String, summary: String
        var mask: UInt16 = 0
        let baseID = EVP_PKEY_get_base_id(pkey)
        var fingerprint: [UInt8] = []
        switch baseID {
        case EVP_PKEY_RSA:
            let bits = EVP_PKEY_get_bits(pkey)
            guard bits >= KeyPolicy.minimumRSABits else {
                throw JWTGrantError(.badKey, "RSA key of \(bits) bits: at least \(KeyPolicy.minimumRSABits) are required")
            }
            guard bits <= KeyPolicy.maximumRSABits else {
                throw JWTGrantError(.badKey, "RSA key of \(bits) bits: at most \(KeyPolicy.maximumRSABits) are accepted")
            }
            var e: OpaquePointer? = nil
            guard EVP_PKEY_get_bn_param(pkey, "e", &e) == 1, let eb = e else {
                throw JWTGrantError(.badKey, "RSA key without a public exponent")
            }
            defer { BN_free(eb) }
            guard BN_is_odd(eb) == 1, BN_num_bits(eb) >= KeyPolicy.minimumRSAExponentBits else {
                throw JWTGrantError(.badKey, "RSA public exponent must be odd and at least 65537")
            }
            var nbn: OpaquePointer? = nil
            guard EVP_PKEY_get_bn_param(pkey, "n", &nbn) == 1, let nb = nbn else {
                throw JWTGrantError(.badKey, "RSA key without a modulus")
            }
            defer { BN_free(nb) }
            let modulus = bnBytes(nb)
            if RSAKeyCheck.isROCAFingerprint(modulus: modulus) {
                throw JWTGrantError(.badKey, "RSA key has the ROCA (CVE-2017-15361) fingerprint")
            }
            fingerprint = modulus + bnBytes(eb)
            material = .rsa(modulusBytes: Int((bits + 7) / 8))
            keyType = "RSA"; summary = "RSA \(bits)"
            for a in JWSAlgorithm.allCases where a.family == .rsaPKCS1 || a.family == .rsaPSS { mask |= a.bit }
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var len = 0
            guard EVP_PKEY_get_utf8_string_param(pkey, "group", &name, name.count, &len) == 1 else {
                throw JWTGrantError(.badKey, "EC key without a named curve")
            }
            let groupName = String(decoding: name.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard let curve = ECCurve(openSSLName: groupName) else {
                throw JWTGrantError(.badKey, "EC curve \(groupName) is not supported (P-256, P-384, P-521 are)")
            }
            guard let check = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else {
                throw JWTGrantError(.outOfMemory, "EVP_PKEY_CTX_new_from_pkey failed")
            }
            let valid = EVP_PKEY_public_check(check) == 1
            EVP_PKEY_CTX_free(check)
            guard valid else { throw JWTGrantError(.badKey, "EC public key is not a valid point of \(curve.jwkName)") }
            material = .ec(curve)
            keyType = "EC"; summary = "EC \(curve.jwkName)"
            mask = curve.algorithm.bit
            var pub = [UInt8](repeating: 0, count: 1 + 2 * 66)
            var pubLen = 0
            if EVP_PKEY_get_octet_string_param(pkey, "encoded-pub-key", &pub, pub.count, &pubLen) == 1 {
                fingerprint = Array(pub.prefix(pubLen))
            }
        case EVP_PKEY_ED25519:
            var raw = [UInt8](repeating: 0, count: 32)
            var rawLen = 32
            guard EVP_PKEY_get_raw_public_key(pkey, &raw, &rawLen) == 1, rawLen == 32 else {
                throw JWTGrantError(.badKey, "Ed25519 key without a 32-byte public key")
            }
            material = .ed25519(raw)
            keyType = "OKP"; summary = "Ed25519"
            mask = JWSAlgorithm.edDSA.bit
            fingerprint = raw
        default:
            throw JWTGrantError(.badKey, "unsupported key type (RSA, EC P-256/384/521 and Ed25519 are supported)")
        }

        if let only = jwkAlg {
            guard mask & only.bit != 0 else {
                throw JWTGrantError(.badKey, "JWK alg \(only.rawValue) does not fit a \(summary) key")
            }
            mask = only.bit
        }

        var pools = [VerifierPool?](repeating: nil, count: JWSAlgorithm.allCases.count)
        for a in JWSAlgorithm.allCases where mask & a.bit != 0 && a.family != .edDSA {
            guard let pool = VerifierPool.make(alg: a, pkey: pkey) else {
                throw JWTGrantError(.internalError, "cannot prepare \(a.rawValue) verification")
            }
            pools[a.index] = pool
        }
        owned = nil
        return VerificationKey(pkey: pkey, material: material, allowMask: mask, pools: pools,
                               kid: kid, keyType: keyType, summary: summary,
                               notBefore: notBefore, notAfter: notAfter, fingerprint: fingerprint)
    }

    /// Frees the key (from deinit). The pools hold their own reference.
    func releaseOpenSSL() {
        EVP_PKEY_free(pkey)
    }

    static func messageDigest(_ alg: JWSAlgorithm) -> OpaquePointer? {
        switch alg.hashLength {
        case 32: return EVP_sha256()
        case 48: return EVP_sha384()
        case 64: return EVP_sha512()
        default: return nil
        }
    }

}

/// Big-endian magnitude of a BIGNUM.
func bnBytes(_ bn: OpaquePointer) -> [UInt8] {
    let n = Int((BN_num_bits(bn) + 7) / 8)
    if n == 0 { return [] }
    var out = [UInt8](repeating: 0, count: n)
    _ = BN_bn2bin(bn, &out)
    return out
}
