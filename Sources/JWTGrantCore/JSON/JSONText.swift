/// JSON text written in one pass into a byte array, for the fixed-shape
/// documents of the token endpoint (the access token's claims, the token
/// response): no intermediate objects, no serializer. Strings must be valid
/// UTF-8 (Swift strings and values read by either JSON reader are); `"`,
/// `\` and the control characters are escaped, everything else is copied.
/// The tests parse every shape and a range of hostile strings back with
/// jansson.
struct JSONText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Appends `text` as is (structure: braces, names with their quotes).
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }

    /// Appends a quoted, escaped JSON string.
    mutating func string(_ value: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in 0..<value.count {
            let c = value[i]
            guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
            if runStart < i { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[runStart..<i])) }
            runStart = i + 1
            bytes.append(UInt8(ascii: "\\"))
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(c)
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                let hex: StaticString = "0123456789abcdef"
                let h = hex.utf8Start
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), h[Int(c >> 4)], h[Int(c & 15)]])
            }
        }
        if runStart < value.count { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[runStart...])) }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func string(_ value: String) {
        if value.utf8.withContiguousStorageIfAvailable({ string(UnsafeRawBufferPointer($0)) }) != nil { return }
        var v = value
        v.withUTF8 { string(UnsafeRawBufferPointer($0)) }
    }

    /// Appends a decimal integer.
    mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var m = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for 20 digits
        let n = withUnsafeMutableBytes(of: &digits) { d -> Int in
            var k = 0
            repeat {
                d[23 - k] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                k += 1
            } while m > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[(24 - k)...]))
            return k
        }
        _ = n
    }
}
