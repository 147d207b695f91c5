import COpenSSL

/// The identity of a used assertion in a replay store: opaque bytes, compared
/// and hashed byte for byte (never as a Swift `String`, whose equality is
/// Unicode canonical equivalence). Built only by `ReplayKey.assertion`; stores
/// keep the bytes as they are (a SQLite BLOB, a Redis key suffix).
public struct ReplayKey: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public static func == (a: ReplayKey, b: ReplayKey) -> Bool { a.bytes == b.bytes }
    /// The bytes hashed as one block (an array's own hashing feeds the
    /// hasher one element at a time).
    public func hash(into h: inout Hasher) { bytes.withUnsafeBytes { h.combine(bytes: $0) } }

    /// The key made of a string's UTF-8 bytes (tests and fixed keys).
    public init(_ text: String) { self.bytes = Array(text.utf8) }

    /// The one place the identity of an assertion is made (RFC 7523 3: `jti`
    /// is unique per issuer):
    ///  - with a `jti`: ("jti", the token's `iss` bytes, the `jti` bytes);
    ///  - without: ("sig-input", the `iss` bytes, SHA-256 of the JWS signing
    ///    input `header.payload`), i.e. of what was signed, never of the
    ///    signature, so that a second valid signature of the same header and
    ///    claims (ECDSA (r, n-s), any randomized scheme) is the same assertion.
    /// The issuer is its `iss` value, not its registration name, so removing
    /// and registering it again under another name forgets nothing. Each part
    /// is length-prefixed (4 bytes, big-endian) after a kind byte, so no two
    /// different tuples give the same bytes.
    static func assertion(iss: UnsafeRawBufferPointer, jti: UnsafeRawBufferPointer?,
                          signingInput: UnsafeRawBufferPointer) -> ReplayKey {
        // Kind byte, then each part length-prefixed (the SHA-256 digest
        // hashed straight into place).
        let second = jti?.count ?? 32
        let total = 1 + 4 + iss.count + 4 + second
        // Written on the stack, then copied with Array(_: UnsafeRawBufferPointer),
        // which the standard library prespecializes: [UInt8](unsafeUninitializedCapacity:)
        // instantiates generic array metadata at run time on every call.
        let out = withUnsafeTemporaryAllocation(byteCount: total, alignment: 16) { buf -> [UInt8] in
            guard let base = buf.baseAddress else { return [] }
            var at = 0
            func length(_ n: Int) {
                let v = UInt32(truncatingIfNeeded: n)
                base.storeBytes(of: UInt8(truncatingIfNeeded: v >> 24), toByteOffset: at, as: UInt8.self)
                base.storeBytes(of: UInt8(truncatingIfNeeded: v >> 16), toByteOffset: at + 1, as: UInt8.self)
                base.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), toByteOffset: at + 2, as: UInt8.self)
                base.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: at + 3, as: UInt8.self)
                at += 4
            }
            func part(_ p: UnsafeRawBufferPointer) {
                length(p.count)
                if let b = p.baseAddress, p.count > 0 { (base + at).copyMemory(from: b, byteCount: p.count) }
                at += p.count
            }
            base.storeBytes(of: jti == nil ? 2 : 1, toByteOffset: 0, as: UInt8.self)
            at = 1
            part(iss)
            if let jti {
                part(jti)
            } else {
                length(32)
                _ = SHA256(signingInput.baseAddress?.assumingMemoryBound(to: UInt8.self), signingInput.count,
                           (base + at).assumingMemoryBound(to: UInt8.self))
                at += 32
            }
            return Array(UnsafeRawBufferPointer(rebasing: buf[0..<at]))
        }
        return ReplayKey(bytes: out)
    }
}
