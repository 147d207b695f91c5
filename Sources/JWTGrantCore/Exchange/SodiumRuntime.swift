import CSodium

/// libsodium must be initialised once before its random generator is used.
/// `sodium_init` is thread-safe and idempotent; a Swift global is initialised
/// once, lazily and atomically.
enum SodiumRuntime {
    static let ready: Bool = sodium_init() >= 0

    /// `count` random bytes from the kernel CSPRNG (libsodium never fails here).
    static func randomBytes(_ count: Int) -> [UInt8] {
        _ = ready
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { b in
            if let base = b.baseAddress { randombytes_buf(base, b.count) }
        }
        return out
    }
}
