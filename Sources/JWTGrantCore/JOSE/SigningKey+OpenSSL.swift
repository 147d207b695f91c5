import COpenSSL

extension SigningKey {
    /// Generates a key for `alg`: ES256/384/512 on P-256/384/521, RS* and
    /// PS* RSA 2048, EdDSA Ed25519.
    public static func generate(_ alg: JWSAlgorithm) throws(JWTGrantError) -> SigningKey {
        defer { ERR_clear_error() }
        let type: String
        switch alg.family {
        case .rsaPKCS1, .rsaPSS: type = "RSA"
        case .ecdsa: type = "EC"
        case .edDSA: type = "ED25519"
        }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            throw JWTGrantError(.internalError, "EVP_PKEY_CTX_new_from_name(\(type))")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else { throw JWTGrantError(.internalError, "EVP_PKEY_keygen_init") }
        if let curve = alg.curve {
            guard EVP_PKEY_CTX_set_group_name(ctx, curve.openSSLName) == 1 else {
                throw JWTGrantError(.internalError, "EVP_PKEY_CTX_set_group_name")
            }
        } else if type == "RSA" {
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1 else {
                throw JWTGrantError(.internalError, "EVP_PKEY_CTX_set_rsa_keygen_bits")
            }
        }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_generate(ctx, &pkey) == 1, let k = pkey else {
            throw JWTGrantError(.internalError, "key generation failed")
        }
        return try SigningKey(taking: k, algorithm: alg)
    }

    /// A PKCS#8 or traditional PEM private key (unencrypted). The algorithm
    /// is inferred when nil (RSA -> RS256, P-256/384/521 -> ES256/384/512,
    /// Ed25519 -> EdDSA); one that does not fit the key is .badKey.
    public convenience init(pem: String, algorithm: JWSAlgorithm? = nil) throws(JWTGrantError) {
        defer { ERR_clear_error() }
        var text = Array(pem.utf8)
        guard !text.isEmpty, text.count < Int32.max else { throw JWTGrantError(.badKey, "private key PEM is empty") }
        let key: OpaquePointer? = text.withUnsafeMutableBytes { buf -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { return nil }
            defer { BIO_free(bio) }
            // A callback that gives no passphrase: encrypted keys fail instead of prompting.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in -1 }, nil)
        }
        guard let pkey = key else {
            throw JWTGrantError(.badKey, "not an unencrypted PEM private key (PKCS#8 or traditional)")
        }
        var alg = algorithm
        if alg == nil {
            switch EVP_PKEY_get_base_id(pkey) {
            case EVP_PKEY_RSA: alg = .rs256
            case EVP_PKEY_ED25519: alg = .edDSA
            case EVP_PKEY_EC:
                alg = SigningKey.curve(of: pkey)?.algorithm
            default: break
            }
        }
        guard let chosen = alg else {
            EVP_PKEY_free(pkey)
            throw JWTGrantError(.badKey, "private key type is not supported (RSA, EC P-256/384/521, Ed25519 are)")
        }
        try self.init(taking: pkey, algorithm: chosen)
    }

    static func free(_ pkey: OpaquePointer) { EVP_PKEY_free(pkey) }
    static func freeContext(_ ctx: OpaquePointer) { EVP_MD_CTX_free(ctx) }

    private static func curve(of pkey: OpaquePointer) -> ECCurve? {
        var name = [CChar](repeating: 0, count: 64)
        var len = 0
        guard EVP_PKEY_get_utf8_string_param(pkey, "group", &name, name.count, &len) == 1 else { return nil }
        return ECCurve(openSSLName: String(decoding: name.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// The public parameters of a private key, after checking it fits `algorithm`.
    static func publicParameters(_ pkey: OpaquePointer, algorithm: JWSAlgorithm) throws(JWTGrantError) -> PublicParameters {
        defer { ERR_clear_error() }
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_RSA:
            guard algorithm.family == .rsaPKCS1 || algorithm.family == .rsaPSS else {
                throw JWTGrantError(.badKey, "an RSA key cannot sign \(algorithm.rawValue)")
            }
            guard EVP_PKEY_get_bits(pkey) >= KeyPolicy.minimumRSABits else {
                throw JWTGrantError(.badKey, "RSA signing key must have at least 2048 bits")
            }
            var n: OpaquePointer? = nil, e: OpaquePointer? = nil
            guard EVP_PKEY_get_bn_param(pkey, "n", &n) == 1, let nb = n else { throw JWTGrantError(.badKey, "RSA key without n") }
            defer { BN_free(nb) }
            guard EVP_PKEY_get_bn_param(pkey, "e", &e) == 1, let eb = e else { throw JWTGrantError(.badKey, "RSA key without e") }
            defer { BN_free(eb) }
            return .rsa(n: bnBytes(nb), e: bnBytes(eb))
        case EVP_PKEY_EC:
            guard let curve = curve(of: pkey) else { throw JWTGrantError(.badKey, "EC curve is not supported") }
            guard curve.algorithm == algorithm else {
                throw JWTGrantError(.badKey, "a \(curve.jwkName) key cannot sign \(algorithm.rawValue)")
            }
            var x: OpaquePointer? = nil, y: OpaquePointer? = nil
            guard EVP_PKEY_get_bn_param(pkey, "qx", &x) == 1, let xb = x else { throw JWTGrantError(.badKey, "EC key without x") }
            defer { BN_free(xb) }
            guard EVP_PKEY_get_bn_param(pkey, "qy", &y) == 1, let yb = y else { throw JWTGrantError(.badKey, "EC key without y") }
            defer { BN_free(yb) }
            let len = curve.coordinateLength
            var xs = [UInt8](repeating: 0, count: len), ys = [UInt8](repeating: 0, count: len)
            guard BN_bn2binpad(xb, &xs, Int32(len)) == Int32(len), BN_bn2binpad(yb, &ys, Int32(len)) == Int32(len) else {
                throw JWTGrantError(.badKey, "EC coordinates do not fit the curve")
            }
            return .ec(curve, x: xs, y: ys)
        case EVP_PKEY_ED25519:
            guard algorithm == .edDSA else { throw JWTGrantError(.badKey, "an Ed25519 key cannot sign \(algorithm.rawValue)") }
            var raw = [UInt8](repeating: 0, count: 32)
            var len = 32
            guard EVP_PKEY_get_raw_public_key(pkey, &raw, &len) == 1, len == 32 else {
                throw JWTGrantError(.badKey, "Ed25519 key without a public key")
            }
            return .ed25519(x: raw)
        default:
            throw JWTGrantError(.badKey, "private key type is not supported (RSA, EC P-256/384/521, Ed25519 are)")
        }
    }

    /// A DigestSign context initialised for this key and algorithm (PSS
    /// parameters included), or nil on failure.
    static func makeSignContext(_ pkey: OpaquePointer, algorithm: JWSAlgorithm) -> OpaquePointer? {
        guard let ctx = EVP_MD_CTX_new() else { return nil }
        var pctx: OpaquePointer? = nil
        let md = VerificationKey.messageDigest(algorithm)
        var ok = EVP_DigestSignInit(ctx, &pctx, md, nil, pkey) == 1 && pctx != nil
        if ok, algorithm.family == .rsaPSS, let p = pctx {
            ok = EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) == 1
                && EVP_PKEY_CTX_set_rsa_mgf1_md(p, md) == 1
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(p, Int32(algorithm.hashLength)) == 1
        }
        guard ok else { EVP_MD_CTX_free(ctx); ERR_clear_error(); return nil }
        return ctx
    }

    /// The JWS signature of `signingInput` (raw r||s of fixed length for ES*).
    /// RSA and ECDSA copy the context prepared once per key (no per-token
    /// init); Ed25519 signs one-shot, as OpenSSL requires.
    public func sign(_ signingInput: UnsafeRawBufferPointer) throws(JWTGrantError) -> [UInt8] {
        defer { ERR_clear_error() }
        let ctx: OpaquePointer
        let prepared = signTemplates.count == Stripes.count
        if prepared {
            let stripe = Stripes.current()
            let template = signTemplates[stripe]
            guard let c = EVP_MD_CTX_new() else { throw JWTGrantError(.outOfMemory, "EVP_MD_CTX_new") }
            let copied = signStripes.withLock(stripe) { EVP_MD_CTX_copy_ex(c, template) == 1 }
            guard copied else { EVP_MD_CTX_free(c); throw JWTGrantError(.internalError, "EVP_MD_CTX_copy_ex failed") }
            ctx = c
        } else {
            guard let c = SigningKey.makeSignContext(pkey, algorithm: algorithm) else {
                throw JWTGrantError(.internalError, "EVP_DigestSignInit failed")
            }
            ctx = c
        }
        defer { EVP_MD_CTX_free(ctx) }
        let data = signingInput.baseAddress?.assumingMemoryBound(to: UInt8.self)
        // One signing operation: the buffer is the key's maximum signature
        // size (asking OpenSSL for the size first would sign twice for ECDSA).
        var length = Int(EVP_PKEY_get_size(pkey))
        guard length > 0 else { throw JWTGrantError(.internalError, "EVP_PKEY_get_size failed") }
        var sig = [UInt8](repeating: 0, count: length)
        let signed: Bool
        if prepared {
            signed = EVP_DigestSignUpdate(ctx, data, signingInput.count) == 1
                && EVP_DigestSignFinal(ctx, &sig, &length) == 1
        } else {
            signed = EVP_DigestSign(ctx, &sig, &length, data, signingInput.count) == 1
        }
        guard signed else { throw JWTGrantError(.internalError, "signing failed") }
        sig.removeSubrange(length...)
        if let curve = algorithm.curve {
            guard let raw = ECDSASignature.raw(fromDER: sig, coordinateLength: curve.coordinateLength) else {
                throw JWTGrantError(.internalError, "ECDSA signature conversion failed")
            }
            return raw
        }
        return sig
    }
}

extension SigningKey {
    /// The private key as unencrypted PKCS#8 PEM (to keep a generated key in
    /// a shared store). It is a secret: never put it in a message.
    public func privateKeyPEM() throws(JWTGrantError) -> String {
        defer { ERR_clear_error() }
        guard let bio = BIO_new(BIO_s_mem()) else { throw JWTGrantError(.outOfMemory, "BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else {
            throw JWTGrantError(.internalError, "PEM_write_bio_PrivateKey failed")
        }
        let n = Int(BIO_ctrl_pending(bio))
        var out = [UInt8](repeating: 0, count: n)
        guard n > 0, n < Int(Int32.max), BIO_read(bio, &out, Int32(n)) == Int32(n) else {
            throw JWTGrantError(.internalError, "reading the PEM failed")
        }
        return String(decoding: out, as: UTF8.self)
    }
}
