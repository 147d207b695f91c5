import XCTest
@testable import JWTGrantCore

/// The one-pass writer of the token endpoint: whatever it writes, jansson
/// reads back to the same values.
final class JSONTextTests: XCTestCase {
    private func roundTrip(_ s: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var t = JSONText(capacity: 16)
        t.raw(#"{"v":"#)
        t.string(s)
        t.raw(#","n":"#)
        t.integer(-42)
        t.raw("}")
        let v = try JSONValue.parse(t.bytes, what: "written")
        XCTAssertEqual(v["v"]?.stringValue.map { Array($0.utf8) }, Array(s.utf8), file: file, line: line)
        XCTAssertEqual(v["n"]?.integerValue, -42, file: file, line: line)
    }

    func testHostileStringsReadBackExactly() throws {
        for s in ["", "plain", "quote\"d", "back\\slash", "\\\"", "\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}", "\u{7F}",
                  "é😀\u{2028}\u{2029}", "</script>", "\"}", "a\u{0}b".replacingNULs(), String(repeating: "\"", count: 300)] {
            try roundTrip(s)
        }
        // Every code unit from 1 to 0x7F, and seeded random Unicode.
        try roundTrip(String(decoding: (1...0x7F).map { UInt8($0) }, as: UTF8.self))
        var r = SeededRandom(state: 7)
        for _ in 0..<2000 {
            let scalars = (0..<r.below(40)).compactMap { _ -> Character? in
                let pick = r.below(4)
                let v: UInt32 = pick == 0 ? UInt32(1 + r.below(0x7F)) : pick == 1 ? UInt32(0x80 + r.below(0x780))
                    : pick == 2 ? UInt32(0xE000 + r.below(0x2000)) : UInt32(0x10000 + r.below(0x10000))
                return Unicode.Scalar(v).map(Character.init)
            }
            try roundTrip(String(scalars))
        }
    }

    func testIntegersAtTheEdges() throws {
        for n: Int64 in [0, 1, -1, 9, 10, 1_750_000_000, .max, .min] {
            var t = JSONText(capacity: 8)
            t.raw("[")
            t.integer(n)
            t.raw("]")
            XCTAssertEqual(try JSONValue.parse(t.bytes, what: "n").elements.first?.integerValue, n)
        }
    }
}

private extension String {
    /// The writer's inputs never hold NUL (both readers refuse it); stand-in.
    func replacingNULs() -> String { String(decoding: utf8.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) }
}
