import COpenSSL

/// SHA-256 (OpenSSL one-shot digest): RFC 7638 key thumbprints and the jti
/// hash of audit events.
public enum Digest256 {
    /// The 32-byte digest of `bytes`; empty only if OpenSSL fails.
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard let input = bytes.baseAddress else {
            // Empty input: digest zero bytes of a real buffer.
            let one: [UInt8] = [0]
            return one.withUnsafeBytes { b in
                guard let start = b.baseAddress else { return [] }
                return digest(UnsafeRawBufferPointer(start: start, count: 0))
            }
        }
        let ok = out.withUnsafeMutableBufferPointer { o in
            EVP_Digest(input, bytes.count, o.baseAddress, &length, EVP_sha256(), nil) == 1
        }
        ERR_clear_error()
        return ok && length == 32 ? out : []
    }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { digest($0) }
    }

    /// The first `count` lowercase hex digits of the digest of `bytes`.
    public static func hexPrefix(_ bytes: UnsafeRawBufferPointer, count: Int = 16) -> String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for b in digest(bytes) where out.count < count {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 15)])
        }
        return String(decoding: out.prefix(count), as: UTF8.self)
    }
}
