/// Conversions between the JWS form of an ECDSA signature (raw r||s, each
/// exactly the curve's coordinate length, RFC 7518 3.4) and the DER
/// ECDSA-Sig-Value OpenSSL wants, without bignum allocations.
enum ECDSASignature {
    /// Enough for P-521: SEQUENCE(3) + 2 * INTEGER(2 + 1 + 66).
    static let maxDERLength = 3 + 2 * (2 + 1 + 66)

    /// Whether the big-endian `x` (length == n.count) is in [1, n-1].
    @inline(__always)
    static func inRange(_ x: UnsafeRawBufferPointer, order n: [UInt8]) -> Bool {
        var nonZero = false
        var decided = false, less = false
        for i in 0..<n.count {
            let a = x[i], b = n[i]
            if a != 0 { nonZero = true }
            if !decided && a != b { decided = true; less = a < b }
        }
        return nonZero && decided && less
    }

    /// Writes the DER INTEGER for the unsigned big-endian `x`; returns bytes written.
    @inline(__always)
    private static func writeInteger(_ x: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                                     at start: Int) -> Int {
        var first = 0
        while first < x.count - 1 && x[first] == 0 { first += 1 }
        let pad = x[first] & 0x80 != 0 ? 1 : 0
        let length = x.count - first + pad          // <= 67, short or one-byte long form not needed (< 128)
        var o = start
        out[o] = 0x02; out[o + 1] = UInt8(length); o += 2
        if pad == 1 { out[o] = 0; o += 1 }
        for i in first..<x.count { out[o] = x[i]; o += 1 }
        return o - start
    }

    /// DER from raw r||s after the range check; nil when r or s is out of
    /// [1, n-1] or the length is wrong.
    static func der(fromRaw raw: UnsafeRawBufferPointer, curve: ECCurve,
                    into out: UnsafeMutableRawBufferPointer) -> Int? {
        let n = curve.coordinateLength
        guard raw.count == 2 * n, out.count >= maxDERLength else { return nil }
        let r = UnsafeRawBufferPointer(rebasing: raw[0..<n])
        let s = UnsafeRawBufferPointer(rebasing: raw[n..<(2 * n)])
        let order = curve.order
        guard inRange(r, order: order), inRange(s, order: order) else { return nil }
        // The body is at most 2 * 69 = 138 bytes: above 127 needs the long form.
        var bodyStart = 2
        let rLen = writeInteger(r, into: out, at: 3)
        let sLen = writeInteger(s, into: out, at: 3 + rLen)
        let body = rLen + sLen
        if body < 128 {
            // Shift left by one: short-form length.
            out[0] = 0x30; out[1] = UInt8(body)
            for i in 0..<body { out[2 + i] = out[3 + i] }
            bodyStart = 2
        } else {
            out[0] = 0x30; out[1] = 0x81; out[2] = UInt8(body)
            bodyStart = 3
        }
        return bodyStart + body
    }

    /// Raw r||s of `coordinateLength` bytes each from DER (for signing).
    static func raw(fromDER der: [UInt8], coordinateLength n: Int) -> [UInt8]? {
        var i = 0
        func readLength() -> Int? {
            guard i < der.count else { return nil }
            let b = der[i]; i += 1
            if b < 0x80 { return Int(b) }
            if b == 0x81, i < der.count { let v = Int(der[i]); i += 1; return v }
            return nil
        }
        func readInteger() -> [UInt8]? {
            guard i < der.count, der[i] == 0x02 else { return nil }
            i += 1
            guard let len = readLength(), len > 0, i + len <= der.count else { return nil }
            var v = Array(der[i..<(i + len)])
            i += len
            while v.count > n, v.first == 0 { v.removeFirst() }
            guard v.count <= n else { return nil }
            return [UInt8](repeating: 0, count: n - v.count) + v
        }
        guard der.first == 0x30 else { return nil }
        i = 1
        guard let total = readLength(), i + total == der.count,
              let r = readInteger(), let s = readInteger(), i == der.count else { return nil }
        return r + s
    }
}
