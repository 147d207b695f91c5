import CSodium

/// Base64 through libsodium, which is strict where the token endpoint needs
/// it: `decode` rejects characters outside the alphabet, wrong or missing
/// padding and non-zero trailing bits, so one byte string has exactly one
/// accepted encoding.
enum SodiumBase64 {
    /// RFC 4648 section 4, with padding (HTTP Basic, RFC 7617).
    static let standard = Int32(sodium_base64_VARIANT_ORIGINAL)
    /// RFC 4648 section 5, without padding (JOSE).
    static let urlSafeNoPadding = Int32(sodium_base64_VARIANT_URLSAFE_NO_PADDING)

    static func encode(_ bytes: UnsafeRawBufferPointer, variant: Int32) -> String {
        let n = sodium_base64_encoded_len(bytes.count, variant)   // includes the NUL
        return String(unsafeUninitializedCapacity: n) { out in
            out.withMemoryRebound(to: CChar.self) { o in
                guard let base = o.baseAddress else { return }
                _ = sodium_bin2base64(base, n,
                                      bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                                      variant)
            }
            return n - 1
        }
    }

    static func encode(_ bytes: [UInt8], variant: Int32) -> String {
        bytes.withUnsafeBytes { encode($0, variant: variant) }
    }

    /// The decoded bytes, or nil unless all of `text` is canonical base64 of `variant`.
    static func decode(_ text: UnsafeRawBufferPointer, variant: Int32) -> [UInt8]? {
        let capacity = text.count / 4 * 3 + 3
        var out = [UInt8](repeating: 0, count: capacity)
        var written = 0
        let rc = out.withUnsafeMutableBufferPointer { o -> Int32 in
            guard let base = o.baseAddress else { return -1 }
            return sodium_base642bin(base, capacity,
                              text.baseAddress?.assumingMemoryBound(to: CChar.self), text.count,
                              nil, &written, nil, variant)
        }
        guard rc == 0, written <= capacity else { return nil }
        out.removeSubrange(written...)
        return out
    }
}
