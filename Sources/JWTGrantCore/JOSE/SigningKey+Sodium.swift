import CSodium

extension SigningKey {
    /// SHA-256 (for RFC 7638 thumbprints).
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_hash_sha256(&out, bytes, UInt64(bytes.count))
        return out
    }
}
