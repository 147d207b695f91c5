/// A public key parsed, checked and prepared once; `verify` does only the
/// signature work. The key type fixes which algorithms it may verify:
/// RSA (>= 2048 bits) RS* and PS*, EC exactly the ES* of its curve, OKP
/// Ed25519 only EdDSA; a JWK "alg" narrows that to one algorithm.
///
/// Thread-safe: each verification borrows its own prepared contexts from a
/// mutex-guarded pool (VerifierPool).
public final class VerificationKey: @unchecked Sendable {
    /// What `verify` needs besides the EVP_PKEY.
    enum Material {
        /// RSA: the modulus length in bytes (the only valid signature length).
        case rsa(modulusBytes: Int)
        case ec(ECCurve)
        /// Ed25519: the 32-byte public key, verified with libsodium.
        case ed25519([UInt8])
    }

    public let kid: Identifier?
    /// "RSA", "EC" or "OKP" (the JWK kty).
    public let keyType: String
    /// Safe to show: "RSA 2048", "EC P-256", "Ed25519".
    public let summary: String
    /// Certificate validity in Unix seconds; nil for bare keys.
    public let notBefore: Double?
    public let notAfter: Double?

    /// The owned EVP_PKEY.
    let pkey: OpaquePointer
    let material: Material
    /// One bit per JWSAlgorithm.index this key may verify.
    let allowMask: UInt16
    /// Per JWSAlgorithm.index: the ready contexts for that algorithm.
    let pools: [VerifierPool?]
    /// The RSA public key (DER SubjectPublicKeyInfo) or the JWK
    /// parameters, for comparing keys; never secret.
    let fingerprint: [UInt8]

    init(pkey: OpaquePointer, material: Material, allowMask: UInt16, pools: [VerifierPool?],
         kid: Identifier?, keyType: String, summary: String, notBefore: Double?, notAfter: Double?,
         fingerprint: [UInt8]) {
        self.pkey = pkey
        self.material = material
        self.allowMask = allowMask
        self.pools = pools
        self.kid = kid
        self.keyType = keyType
        self.summary = summary
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.fingerprint = fingerprint
    }

    deinit { releaseOpenSSL() }

    /// Whether this key may verify `alg`: key type, size and curve binding
    /// plus the JWK "alg" restriction.
    public func allows(_ alg: JWSAlgorithm) -> Bool {
        allowMask & alg.bit != 0
    }

    /// The algorithms this key may verify.
    public var allowedAlgorithms: [JWSAlgorithm] {
        JWSAlgorithm.allCases.filter(allows)
    }

    /// Verifies `signature` over `signingInput` with `alg`. Returns false on
    /// any failure, including an algorithm this key does not allow and a
    /// signature of the wrong length.
    public func verify(_ alg: JWSAlgorithm, signingInput: UnsafeRawBufferPointer,
                       signature: UnsafeRawBufferPointer) -> Bool {
        guard allowMask & alg.bit != 0 else { return false }
        switch material {
        case .rsa(let modulusBytes):
            guard signature.count == modulusBytes else { return false }
            return pools[alg.index]?.verify(message: signingInput, signature: signature) ?? false
        case .ec(let curve):
            return verifyECDSA(alg, curve: curve, signingInput: signingInput, signature: signature)
        case .ed25519(let publicKey):
            return VerificationKey.verifyEd25519(publicKey: publicKey, message: signingInput,
                                                 signature: signature)
        }
    }

    /// ES*: checks the fixed length and r, s in [1, n-1], then hands OpenSSL
    /// the DER form built on the stack.
    private func verifyECDSA(_ alg: JWSAlgorithm, curve: ECCurve, signingInput: UnsafeRawBufferPointer,
                             signature: UnsafeRawBufferPointer) -> Bool {
        let n = curve.coordinateLength
        guard signature.count == 2 * n else { return false }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ECDSASignature.maxDERLength) { buf in
            let der = UnsafeMutableRawBufferPointer(buf)
            guard let length = ECDSASignature.der(fromRaw: signature, curve: curve, into: der) else {
                return false
            }
            return pools[alg.index]?.verify(message: signingInput,
                                            signature: UnsafeRawBufferPointer(rebasing: der[0..<length])) ?? false
        }
    }
}
