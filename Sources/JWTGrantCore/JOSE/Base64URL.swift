/// Strict RFC 7515 base64url (RFC 4648 section 5 without padding): no "=",
/// no "+" or "/", no whitespace, and the unused trailing bits must be zero so
/// that every byte string has exactly one encoding.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0...63 for base64url characters, 0xFF otherwise.
    static let urlTable: [UInt8] = makeTable(url: true, standard: false)
    /// Both alphabets (for the lenient certificate decoder).
    private static let anyTable: [UInt8] = makeTable(url: true, standard: true)

    private static func makeTable(url: Bool, standard: Bool) -> [UInt8] {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() where i < 62 { t[Int(c)] = UInt8(i) }
        if url { t[Int(UInt8(ascii: "-"))] = 62; t[Int(UInt8(ascii: "_"))] = 63 }
        if standard { t[Int(UInt8(ascii: "+"))] = 62; t[Int(UInt8(ascii: "/"))] = 63 }
        return t
    }

    // MARK: encoding

    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let n = bytes.count
        let outLength = (n / 3) * 4 + [0, 2, 3][n % 3]
        if outLength == 0 { return "" }
        return alphabet.withUnsafeBufferPointer { a in
            String(unsafeUninitializedCapacity: outLength) { out in
                var i = 0, o = 0
                while i + 3 <= n {
                    let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    out[o] = a[Int(v >> 18)]; out[o + 1] = a[Int(v >> 12 & 63)]
                    out[o + 2] = a[Int(v >> 6 & 63)]; out[o + 3] = a[Int(v & 63)]
                    i += 3; o += 4
                }
                if n - i == 1 {
                    let v = UInt32(bytes[i]) << 16
                    out[o] = a[Int(v >> 18)]; out[o + 1] = a[Int(v >> 12 & 63)]
                    o += 2
                } else if n - i == 2 {
                    let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
                    out[o] = a[Int(v >> 18)]; out[o + 1] = a[Int(v >> 12 & 63)]
                    out[o + 2] = a[Int(v >> 6 & 63)]
                    o += 3
                }
                return o
            }
        }
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    // MARK: strict decoding

    /// The decoded length of `n` base64url characters, or nil for an
    /// impossible length (n % 4 == 1).
    @inline(__always)
    static func decodedLength(_ n: Int) -> Int? {
        switch n % 4 {
        case 0: return n / 4 * 3
        case 2: return n / 4 * 3 + 1
        case 3: return n / 4 * 3 + 2
        default: return nil
        }
    }

    /// Decodes strictly into `out` (which must hold `decodedLength(text.count)`
    /// bytes); returns false when `text` is not strict base64url.
    static func decode(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        let n = text.count
        guard let outLength = decodedLength(n), out.count >= outLength else { return false }
        return urlTable.withUnsafeBufferPointer { t -> Bool in
            var i = 0, o = 0
            var bad: UInt8 = 0
            while i + 4 <= n {
                let a = t[Int(text[i])], b = t[Int(text[i + 1])]
                let c = t[Int(text[i + 2])], d = t[Int(text[i + 3])]
                bad |= a | b | c | d
                let v = UInt32(a & 63) << 18 | UInt32(b & 63) << 12 | UInt32(c & 63) << 6 | UInt32(d & 63)
                out[o] = UInt8(truncatingIfNeeded: v >> 16)
                out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                out[o + 2] = UInt8(truncatingIfNeeded: v)
                i += 4; o += 3
            }
            switch n - i {
            case 2:
                let a = t[Int(text[i])], b = t[Int(text[i + 1])]
                bad |= a | b
                if b & 0x0F != 0 { return false }       // non-canonical trailing bits
                out[o] = (a & 63) << 2 | (b & 63) >> 4
            case 3:
                let a = t[Int(text[i])], b = t[Int(text[i + 1])], c = t[Int(text[i + 2])]
                bad |= a | b | c
                if c & 0x03 != 0 { return false }
                out[o] = (a & 63) << 2 | (b & 63) >> 4
                out[o + 1] = (b & 0x0F) << 4 | (c & 63) >> 2
            default:
                break
            }
            return bad & 0xC0 == 0     // any 0xFF entry sets the high bits
        }
    }

    public static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let length = decodedLength(text.count) else { return nil }
        var ok = false
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buf, count in
            ok = decode(text, into: UnsafeMutableRawBufferPointer(buf))
            count = ok ? length : 0
        }
        return ok ? bytes : nil
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    // MARK: lenient decoding (certificates only, never tokens)

    /// Decodes base64 in either alphabet, ignoring ASCII whitespace and
    /// allowing "=" padding at the end only. For DER certificates pasted into
    /// configuration, not for anything inside a JWS.
    static func decodeLenient(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3 + 3)
        var acc: UInt32 = 0, bits = 0, padding = 0, symbols = 0
        for c in text {
            switch c {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "="):
                padding += 1
                if padding > 2 { return nil }
                continue
            default:
                if padding > 0 { return nil }           // data after padding
                let v = anyTable[Int(c)]
                if v == 0xFF { return nil }
                acc = acc << 6 | UInt32(v); bits += 6; symbols += 1
                if bits >= 8 {
                    bits -= 8
                    out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                    acc &= (1 << UInt32(bits)) - 1
                }
            }
        }
        if symbols % 4 == 1 { return nil }
        if padding > 0 && (symbols + padding) % 4 != 0 { return nil }
        return out
    }
}
