import CSodium

/// libsodium is initialised once per process; Swift runs a global's
/// initialiser exactly once, thread-safely.
let sodiumReady: Bool = sodium_init() >= 0

extension VerificationKey {
    /// Ed25519 (RFC 8032 PureEdDSA) with libsodium, which also rejects
    /// non-canonical S, non-canonical and small-order points.
    static func verifyEd25519(publicKey: [UInt8], message: UnsafeRawBufferPointer,
                              signature: UnsafeRawBufferPointer) -> Bool {
        guard signature.count == 64, publicKey.count == 32, sodiumReady else { return false }
        let m = message.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let sig = signature.baseAddress!.assumingMemoryBound(to: UInt8.self)   // count == 64, not nil
        return publicKey.withUnsafeBufferPointer { pk in
            crypto_sign_verify_detached(sig, m, UInt64(message.count), pk.baseAddress!) == 0
        }
    }
}
