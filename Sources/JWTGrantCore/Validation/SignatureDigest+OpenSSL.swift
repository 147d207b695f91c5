import COpenSSL

/// SHA-256 of a signature, the identity of an assertion without jti.
enum SignatureDigest {
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var md = [UInt8](repeating: 0, count: 32)
        _ = bytes.withUnsafeBufferPointer { b in
            md.withUnsafeMutableBufferPointer { SHA256(b.baseAddress, b.count, $0.baseAddress) }
        }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in md { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
