import COpenSSL

extension VerifierPool {
    /// A pool for `alg` on `pkey`, with one pair made up front (so a key that
    /// cannot be set up fails at load time, not at verification).
    static func make(alg: JWSAlgorithm, pkey: OpaquePointer) -> VerifierPool? {
        let name: String
        switch alg.hashLength {
        case 32: name = "SHA256"
        case 48: name = "SHA384"
        case 64: name = "SHA512"
        default: return nil
        }
        guard let md = EVP_MD_fetch(nil, name, nil) else { return nil }
        guard EVP_PKEY_up_ref(pkey) == 1 else { EVP_MD_free(md); return nil }
        let pool = VerifierPool(alg: alg, pkey: pkey, md: md)
        guard let first = pool.makePair() else { return nil }
        pool.give(first)
        return pool
    }

    /// A fresh, fully set-up pair.
    func makePair() -> Pair? {
        guard let dctx = EVP_MD_CTX_new() else { return nil }
        guard EVP_DigestInit_ex(dctx, md, nil) == 1, let pctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else {
            EVP_MD_CTX_free(dctx); ERR_clear_error(); return nil
        }
        var ok = EVP_PKEY_verify_init(pctx) == 1 && EVP_PKEY_CTX_set_signature_md(pctx, md) == 1
        switch alg.family {
        case .rsaPKCS1:
            ok = ok && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1
        case .rsaPSS:
            ok = ok && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
                && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, Int32(alg.hashLength)) == 1
        case .ecdsa, .edDSA:
            break
        }
        guard ok else {
            EVP_MD_CTX_free(dctx); EVP_PKEY_CTX_free(pctx); ERR_clear_error(); return nil
        }
        return Pair(digest: dctx, verify: pctx)
    }

    func free(_ p: Pair) {
        EVP_MD_CTX_free(p.digest)
        EVP_PKEY_CTX_free(p.verify)
    }

    func releaseOpenSSL() {
        for p in drain() { free(p) }
        EVP_MD_free(md)
        EVP_PKEY_free(pkey)
    }

    /// Hashes `message` and verifies `signature` (PKCS#1/PSS bytes or DER ECDSA).
    func verify(message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer) -> Bool {
        guard let sig = signature.baseAddress?.assumingMemoryBound(to: UInt8.self), let p = take() else { return false }
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let ok = withUnsafeMutableBytes(of: &digest) { d -> Bool in
            let out = d.baseAddress!.assumingMemoryBound(to: UInt8.self)      // 64-byte tuple: never nil
            var length: UInt32 = 0
            guard EVP_DigestInit_ex(p.digest, md, nil) == 1,
                  EVP_DigestUpdate(p.digest, message.baseAddress ?? UnsafeRawPointer(out), message.count) == 1,
                  EVP_DigestFinal_ex(p.digest, out, &length) == 1 else { return false }
            return EVP_PKEY_verify(p.verify, sig, signature.count, out, Int(length)) == 1
        }
        if !ok { ERR_clear_error() }
        give(p)
        return ok
    }
}
