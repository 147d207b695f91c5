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

    /// The encoded length of `n` bytes.
    @inline(__always)
    public static func encodedLength(_ n: Int) -> Int { (n / 3) * 4 + [0, 2, 3][n % 3] }

    /// Writes the encoding of `bytes` at `out` (`encodedLength(bytes.count)`
    /// bytes); returns that count.
    @discardableResult
    public static func encode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) -> Int {
        let n = bytes.count
        return alphabet.withUnsafeBufferPointer { a in
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

    /// Appends the encoding of `bytes` to `out`.
    public static func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let n = encodedLength(bytes.count)
        guard n > 0 else { return }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: n))
        out.withUnsafeMutableBufferPointer { o in _ = encode(bytes, into: o.baseAddress! + start) }
    }

    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let outLength = encodedLength(bytes.count)
        if outLength == 0 { return "" }
        return String(unsafeUninitializedCapacity: outLength) { out in encode(bytes, into: out.baseAddress!) }
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
        guard n > 0, let srcBase = text.baseAddress, let dstBase = out.baseAddress else { return n == 0 }
        let t = shiftedTables
        var src = srcBase.assumingMemoryBound(to: UInt8.self)
        var dst = dstBase.assumingMemoryBound(to: UInt8.self)
        var bad: UInt32 = 0
        let groups = n / 4
        // Two groups (8 characters, 6 bytes) per step with one 8-byte store,
        // while a third group follows to overwrite its last 2 bytes: fewer
        // shifts, stores and loop steps per character than one group a step.
        var rest = groups
        while rest >= 3 {
            let a = t[Int(src[0])] | t[256 + Int(src[1])] | t[512 + Int(src[2])] | t[768 + Int(src[3])]
            let b = t[Int(src[4])] | t[256 + Int(src[5])] | t[512 + Int(src[6])] | t[768 + Int(src[7])]
            bad |= a | b
            // a's 24 bits, then b's, from the top (invalidBit shifted out of
            // a, masked out of b; it is in `bad`).
            let v = UInt64(a) << 40 | UInt64(b & 0xFF_FFFF) << 16
            UnsafeMutableRawPointer(dst).storeBytes(of: v.bigEndian, as: UInt64.self)
            src += 8; dst += 6; rest -= 2
        }
        // A group with another after it writes its 3 bytes with one 4-byte
        // store (the 4th byte is overwritten by the next group); the last
        // group writes 3.
        if rest == 2 {
            let v = t[Int(src[0])] | t[256 + Int(src[1])] | t[512 + Int(src[2])] | t[768 + Int(src[3])]
            bad |= v
            UnsafeMutableRawPointer(dst).storeBytes(of: (v << 8).bigEndian, as: UInt32.self)
            src += 4; dst += 3
        }
        if groups > 0 {
            let v = t[Int(src[0])] | t[256 + Int(src[1])] | t[512 + Int(src[2])] | t[768 + Int(src[3])]
            bad |= v
            dst[0] = UInt8(truncatingIfNeeded: v >> 16)
            dst[1] = UInt8(truncatingIfNeeded: v >> 8)
            dst[2] = UInt8(truncatingIfNeeded: v)
            src += 4; dst += 3
        }
        switch n % 4 {
        case 2:
            let v = t[Int(src[0])] | t[256 + Int(src[1])]
            bad |= v
            if v & 0xFFFF != 0 { return false }              // non-canonical trailing bits
            dst[0] = UInt8(truncatingIfNeeded: v >> 16)
        case 3:
            let v = t[Int(src[0])] | t[256 + Int(src[1])] | t[512 + Int(src[2])]
            bad |= v
            if v & 0xFF != 0 { return false }
            dst[0] = UInt8(truncatingIfNeeded: v >> 16)
            dst[1] = UInt8(truncatingIfNeeded: v >> 8)
        default:
            break
        }
        return bad & invalidBit == 0
    }

    /// Set in a shifted-table entry for a character outside the alphabet.
    private static let invalidBit: UInt32 = 1 << 24

    /// Four 256-entry tables: the 6-bit value of a character already shifted
    /// to its place in a 24-bit group (18, 12, 6, 0), or `invalidBit`.
    /// Allocated once, never freed, never written after initialisation.
    nonisolated(unsafe) private static let shiftedTables: UnsafePointer<UInt32> = {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: 1024)
        for position in 0..<4 {
            let shift = UInt32(18 - 6 * position)
            for c in 0..<256 {
                let v = urlTable[c]
                t[position * 256 + c] = v == 0xFF ? invalidBit : UInt32(v) << shift
            }
        }
        return UnsafePointer(t)
    }()

    public static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let length = decodedLength(text.count) else { return nil }
        // Decoded on the stack, then copied with Array(_: UnsafeRawBufferPointer),
        // which the standard library prespecializes: [UInt8](unsafeUninitializedCapacity:)
        // instantiates generic array metadata at run time on every call.
        return withUnsafeTemporaryAllocation(byteCount: length, alignment: 16) { buf -> [UInt8]? in
            guard decode(text, into: buf) else { return nil }
            return Array(UnsafeRawBufferPointer(buf))
        }
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
