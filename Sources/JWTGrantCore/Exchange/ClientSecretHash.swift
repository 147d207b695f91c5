import CSodium

/// A client secret as it is stored: a random 16-byte salt and the keyed
/// BLAKE2b-256 hash of the secret under that salt (libsodium
/// `crypto_generichash`). The secret itself is never kept.
///
/// Why no slow KDF (Argon2, PBKDF2): a client secret is a machine credential
/// minted by the registrar, with 128 bits or more of entropy, not a password a
/// person chose. Guessing it offline is infeasible whatever the hash, so key
/// stretching buys nothing, while it would cost 10-100 ms of CPU per token
/// request, make the token endpoint a denial-of-service lever and break its
/// performance budget. The salt still keeps equal secrets from having equal
/// hashes across clients and stores. Hashing takes well under 2 us.
public struct ClientSecretHash: Sendable, Equatable {
    public static let saltLength = 16
    public static let digestLength = 32

    public let salt: [UInt8]
    public let digest: [UInt8]

    /// Restores a stored hash (for persistent client stores).
    public init?(salt: [UInt8], digest: [UInt8]) {
        guard salt.count == Self.saltLength, digest.count == Self.digestLength else { return nil }
        self.salt = salt
        self.digest = digest
    }

    /// Hashes `secret` under a fresh random salt.
    public init(hashing secret: String) {
        let salt = SodiumRuntime.randomBytes(Self.saltLength)
        self.salt = salt
        self.digest = Self.hash(secret, salt: salt)
    }

    /// Whether `secret` is the secret this hash was made from, in time that
    /// depends only on the secret's length.
    public func matches(_ secret: String) -> Bool {
        let candidate = Self.hash(secret, salt: salt)
        return candidate.withUnsafeBytes { c in
            digest.withUnsafeBytes { d in
                guard c.count == d.count, let cb = c.baseAddress, let db = d.baseAddress else { return false }
                return sodium_memcmp(cb, db, d.count) == 0
            }
        }
    }

    static func hash(_ secret: String, salt: [UInt8]) -> [UInt8] {
        _ = SodiumRuntime.ready
        var out = [UInt8](repeating: 0, count: digestLength)
        var secret = secret
        secret.withUTF8 { s in
            salt.withUnsafeBufferPointer { k in
                out.withUnsafeMutableBufferPointer { o in
                    guard let base = o.baseAddress else { return }
                    _ = crypto_generichash(base, o.count, s.baseAddress, UInt64(s.count),
                                           k.baseAddress, k.count)
                }
            }
        }
        return out
    }
}
