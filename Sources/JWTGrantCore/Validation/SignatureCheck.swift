/// Step 5: the signature, before any claim is trusted.
struct SignatureCheck {
    static func check(_ jws: CompactJWS, token: UnsafeRawBufferPointer, keys: [VerificationKey]) throws(JWTGrantError) {
        let input = UnsafeRawBufferPointer(rebasing: token[0..<jws.signingInputLength])
        let verified = jws.signature.withUnsafeBytes { sig in
            keys.contains { $0.verify(jws.algorithm, signingInput: input, signature: sig) }
        }
        guard verified else { throw JWTGrantError(.signature, "the signature does not verify") }
    }
}
