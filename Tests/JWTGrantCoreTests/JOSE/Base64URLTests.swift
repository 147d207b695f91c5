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

    func testLenientDecoderIsOnlyForCertificates() {
        let text = "SGVs bG8+\nLz8=\n"
        let out = Array(text.utf8).withUnsafeBytes { Base64URL.decodeLenient($0) }
        XCTAssertEqual(out, Array("Hello>/?".utf8))
        XCTAssertNil(Array("SGVsbG8=x".utf8).withUnsafeBytes { Base64URL.decodeLenient($0) }, "data after padding")
        XCTAssertNil(Array("SGVsbG8*".utf8).withUnsafeBytes { Base64URL.decodeLenient($0) })
    }
}
