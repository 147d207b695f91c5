import XCTest
@testable import JWTGrantCore

final class Base64URLTests: XCTestCase {
    func testRoundTripsEveryLength() {
        var bytes: [UInt8] = []
        for n in 0..<70 {
            let text = Base64URL.encode(bytes)
            XCTAssertFalse(text.contains("=") || text.contains("+") || text.contains("/"))
            XCTAssertEqual(Base64URL.decode(text), bytes, "length \(n)")
            bytes.append(UInt8(truncatingIfNeeded: n &* 37 &+ 250))
        }
        XCTAssertEqual(Base64URL.encode(Array("foo".utf8)), "Zm9v")
        XCTAssertEqual(Base64URL.encode([0xFB, 0xFF]), "-_8")
        XCTAssertEqual(Base64URL.decode(""), [])
    }

    func testStrictRejections() {
        XCTAssertNil(Base64URL.decode("Zm8="), "padding")
        XCTAssertNil(Base64URL.decode("Zm9v===="), "padding")
        XCTAssertNil(Base64URL.decode("+_8"), "standard alphabet +")
        XCTAssertNil(Base64URL.decode("-/8"), "standard alphabet /")
        XCTAssertNil(Base64URL.decode("Zm 9v"), "space")
        XCTAssertNil(Base64URL.decode("Zm9v\n"), "newline")
        XCTAssertNil(Base64URL.decode(" Zm9v"), "leading space")
        XCTAssertNil(Base64URL.decode("Zm9vY"), "impossible length (4n+1)")
        XCTAssertNil(Base64URL.decode("Zm9?"), "invalid character")
        XCTAssertNil(Base64URL.decode("Zm\u{0}v"), "NUL")
        XCTAssertNil(Base64URL.decode("Zm9vé"), "non-ASCII")
        // Non-canonical trailing bits: "Zh" and "Zg" both would decode to "f".
        XCTAssertEqual(Base64URL.decode("Zg"), Array("f".utf8))
        XCTAssertNil(Base64URL.decode("Zh"), "unused bits set (2 chars)")
        XCTAssertEqual(Base64URL.decode("Zm8"), Array("fo".utf8))
        XCTAssertNil(Base64URL.decode("Zm9"), "unused bits set (3 chars)")
        XCTAssertNil(Base64URL.decode("AB"), "Wycheproof ModifiedUnusedBitsInPayload")
    }

    func testEveryByteOutsideTheAlphabetIsRefusedAtEveryPosition() {
        let alphabet = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8))
        let base = Array("QUJDREVGR0g".utf8)                 // 11 characters: full groups and a tail
        for b in 0...255 where !alphabet.contains(UInt8(b)) {
            for pos in 0..<base.count {
                var t = base
                t[pos] = UInt8(b)
                XCTAssertNil(t.withUnsafeBytes { Base64URL.decode($0) }, "byte \(b) at \(pos)")
            }
        }
        XCTAssertEqual(Base64URL.decode("QUJDREVGR0g"), Array("ABCDEFGH".utf8))
    }

    /// A plain bit-by-bit strict decoder: the definition the fast one must meet.
    private static func reference(_ text: [UInt8]) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        if text.count % 4 == 1 { return nil }
        var out: [UInt8] = [], acc: UInt32 = 0, bits = 0
        for c in text {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            acc = acc << 6 | UInt32(v); bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))); acc &= (1 << UInt32(bits)) - 1 }
        }
        return acc == 0 ? out : nil                          // unused trailing bits must be zero
    }

    /// Decodes into a buffer of exactly the decoded length followed by
    /// sentinel bytes, which must come back untouched.
    private static func decodeGuarded(_ text: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [UInt8]? {
        guard let length = Base64URL.decodedLength(text.count) else { return nil }
        var buf = [UInt8](repeating: 0xA5, count: length + 16)
        let ok = text.withUnsafeBytes { t in
            buf.withUnsafeMutableBytes { Base64URL.decode(t, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<length])) }
        }
        XCTAssertEqual(Array(buf[length...]), [UInt8](repeating: 0xA5, count: 16), "write past the end", file: file, line: line)
        return ok ? Array(buf[0..<length]) : nil
    }

    func testAgreesWithTheReferenceAtEveryLengthUpTo64() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int(seed >> 33) }
        var canonical = 0, nonCanonical = 0
        for n in 0...64 {
            for _ in 0..<60 {
                let text = (0..<n).map { _ in alphabet[next() % 64] }
                let expected = Self.reference(text)
                XCTAssertEqual(Self.decodeGuarded(text), expected, "length \(n)")
                XCTAssertEqual(text.withUnsafeBytes { Base64URL.decode($0) }, expected, "length \(n)")
                if n % 4 == 2 || n % 4 == 3 { if expected == nil { nonCanonical += 1 } else { canonical += 1 } }
            }
        }
        // Random tails hit both canonical and non-canonical trailing bits.
        XCTAssertGreaterThan(canonical, 50)
        XCTAssertGreaterThan(nonCanonical, 500)
    }

    func testEveryInvalidByteAtEveryPositionOfEveryLengthUpTo40() {
        let alphabet = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8))
        // Canonical texts of every length but 4n+1 (the last character's unused bits zero).
        let valid = Array("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk".utf8)  // 40 characters
        for n in 0...40 where n % 4 != 1 {
            var base = Array(valid[0..<n])
            if n % 4 == 2 { base[n - 1] = UInt8(ascii: "Q") }     // 010000: low 4 bits zero
            if n % 4 == 3 { base[n - 1] = UInt8(ascii: "E") }     // 000100: low 2 bits zero
            XCTAssertEqual(Self.decodeGuarded(base), Self.reference(base), "length \(n)")
            XCTAssertNotNil(Self.reference(base), "length \(n)")
            for b in 0...255 where !alphabet.contains(UInt8(b)) {
                for pos in 0..<n {
                    var t = base
                    t[pos] = UInt8(b)
                    XCTAssertNil(Self.decodeGuarded(t), "byte \(b) at \(pos) of \(n)")
                }
            }
        }
    }

    func testLenientDecoderIsOnlyForCertificates() {
        let text = "SGVs bG8+\nLz8=\n"
        let out = Array(text.utf8).withUnsafeBytes { Base64URL.decodeLenient($0) }
        XCTAssertEqual(out, Array("Hello>/?".utf8))
        XCTAssertNil(Array("SGVsbG8=x".utf8).withUnsafeBytes { Base64URL.decodeLenient($0) }, "data after padding")
        XCTAssertNil(Array("SGVsbG8*".utf8).withUnsafeBytes { Base64URL.decodeLenient($0) })
    }
}
