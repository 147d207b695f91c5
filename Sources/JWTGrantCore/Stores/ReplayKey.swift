import COpenSSL

/// The identity of a used assertion in a replay store: opaque bytes, compared
/// and hashed byte for byte (never as a Swift `String`, whose equality is
/// Unicode canonical equivalence). Built only by `ReplayKey.assertion`; stores
/// keep the bytes as they are (a SQLite BLOB, a Redis key suffix).
public struct ReplayKey: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

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
        var out: [UInt8] = []
        out.reserveCapacity(1 + 8 + iss.count + (jti?.count ?? 32))
        func part(_ p: UnsafeRawBufferPointer) {
            let n = UInt32(truncatingIfNeeded: p.count)
            out.append(UInt8(truncatingIfNeeded: n >> 24)); out.append(UInt8(truncatingIfNeeded: n >> 16))
            out.append(UInt8(truncatingIfNeeded: n >> 8)); out.append(UInt8(truncatingIfNeeded: n))
            out.append(contentsOf: p)
        }
        if let jti {
            out.append(1)
            part(iss)
            part(jti)
        } else {
            out.append(2)
            part(iss)
            var md = [UInt8](repeating: 0, count: 32)
            md.withUnsafeMutableBufferPointer { m in
                _ = SHA256(signingInput.baseAddress?.assumingMemoryBound(to: UInt8.self), signingInput.count,
                           m.baseAddress)
            }
            md.withUnsafeBytes { part($0) }
        }
        return ReplayKey(bytes: out)
    }
}
