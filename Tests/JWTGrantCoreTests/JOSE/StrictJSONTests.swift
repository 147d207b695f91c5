import CJansson
import XCTest
@testable import JWTGrantCore

/// StrictJSON must agree with jansson (json_loadb, JSON_REJECT_DUPLICATES,
/// top-level object) on every input: same verdict, equal values.
final class StrictJSONTests: XCTestCase {
    private var nulQuirks = 0

    /// jansson's verdict: the object, or nil.
    private func jansson(_ bytes: [UInt8]) -> UnsafeMutablePointer<json_t>? {
        var err = json_error_t()
        return bytes.withUnsafeBytes { b -> UnsafeMutablePointer<json_t>? in
            guard let base = b.baseAddress, b.count > 0,
                  let v = json_loadb(base.assumingMemoryBound(to: CChar.self), b.count, Int(JSON_REJECT_DUPLICATES), &err) else {
                return nil
            }
            if v.pointee.type != JSON_OBJECT { json_decref(v); return nil }
            return v
        }
    }

    @discardableResult
    private func agree(_ bytes: [UInt8], _ label: @autoclosure () -> String = "") -> Bool {
        let theirs = jansson(bytes)
        defer { if let t = theirs { json_decref(t) } }
        let ours = bytes.withUnsafeBytes { StrictJSON.parseObject($0) }
        switch (ours, theirs) {
        case (.success(let v), let t?):
            if json_equal(v.raw, t) != 1 {
                XCTFail("values differ: \(label()) \(String(decoding: bytes, as: UTF8.self))")
                return false
            }
        case (.failure, nil):
            break
        case (.success, nil):
            XCTFail("StrictJSON accepts what jansson refuses: \(label()) \(Array(bytes))")
            return false
        case (.failure, _?) where bytes.contains(0):
            // jansson quirk: its stream treats a NUL byte right after a number
            // as "buffer empty" and skips it, so `{"n":1\0}` passes. RFC 8259
            // allows no NUL outside strings; StrictJSON refuses it.
            nulQuirks += 1
        case (.failure(let e), _?):
            XCTFail("StrictJSON refuses what jansson accepts (\(e.reason)): \(label()) \(String(decoding: bytes, as: UTF8.self)) \(bytes.suffix(4))")
            return false
        }
        return true
    }

    func testCorpusAgreesWithJansson() {
        let corpus: [String] = [
            "{}", " {} ", "{\"a\":1}", "{\"a\":1,}", "{,}", "{\"a\" : [1, 2.5, -0, -0.0, 1e10, 1E-5, 1e+2, true, false, null]}",
            "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":0x10}",
            "{\"a\":9223372036854775807}", "{\"a\":9223372036854775808}", "{\"a\":-9223372036854775808}",
            "{\"a\":-9223372036854775809}", "{\"a\":1e309}", "{\"a\":-1e309}", "{\"a\":1e-400}", "{\"a\":123456789012345678901234567890.5}",
            "{\"a\":\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\\b\\f\\r\"}", "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}",
            "{\"a\":\"\\ud83d\\u0041\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\uZZZZ\"}",
            "{\"a\":\"tab\there\"}", "{\"a\":\"é\"}", "{\"a\":\"😀\"}", "{\"\":0}", "{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}",
            "{\"a\":{\"b\":1,\"b\":2}}", "{\"a\":[{}]}", "{\"a\":[}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":tru}", "{\"a\":nul}",
            "{\"a\":True}", "{\"a\":1}x", "{\"a\":1} {}", "{\"a\":1}\n", "{\"a\":1}\r\n\t ", "[1]", "\"s\"", "1", "null", "",
            "{", "}", "{\"a\"}", "{\"a\":}", "{a:1}", "{'a':1}", "{\"a\":1 \"b\":2}", "\u{FEFF}{}", "{\"a\":\"\u{7F}\"}",
            "{\"k\\\"ey\":\"v\",\"k\\\"ey2\":\"\\\\\"}", "{\"x\":[[[[[[[[[[1]]]]]]]]]]}", "{\"a\":-0.0e-0}", "{\"a\":1.5E+308}",
        ]
        for text in corpus { agree(Array(text.utf8), "corpus") }
        // Raw bytes: invalid UTF-8, overlongs, surrogates, above U+10FFFF, NUL, control characters.
        let prefix = Array("{\"a\":\"".utf8), suffix = Array("\"}".utf8)
        let raw: [[UInt8]] = [[0xC3, 0x28], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
                              [0xF4, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0x00],
                              [0x1F], [0x7F], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xEF, 0xBB, 0xBF], [0xC2, 0xA0]]
        XCTAssertTrue(Array("{\"n\":1\u{0}}".utf8).withUnsafeBytes { (try? StrictJSON.parseObject($0).get()) == nil })
        for r in raw {
            agree(prefix + r + suffix, "raw \(r)")
            agree(Array("{\"".utf8) + r + Array("\":1}".utf8), "raw key \(r)")
        }
        // Depth: agreement up to StrictJSON's limit (128), refusal above it
        // (jansson's limit is 2048), both for arrays and objects.
        func nested(_ depth: Int, object: Bool) -> [UInt8] {
            let open = object ? "{\"k\":" : "[", close = object ? "}" : "]"
            return Array(("{\"a\":" + String(repeating: open, count: depth - 1) + "1"
                          + String(repeating: close, count: depth - 1) + "}").utf8)
        }
        for depth in [2, 127, 128] {
            agree(nested(depth, object: false), "depth \(depth)")
            agree(nested(depth, object: true), "depth \(depth)")
        }
        for depth in [129, 2048, 2049, 10000] {
            for object in [false, true] {
                let bytes = nested(depth, object: object)
                XCTAssertTrue(bytes.withUnsafeBytes { (try? StrictJSON.parseObject($0).get()) == nil }, "depth \(depth)")
            }
        }
    }

    func testMutationsAgreeWithJansson() {
        let seeds = [
            #"{"iss":"https://idp.example.com/t/v2.0","sub":"svc-1","aud":["https://as.example/token","x"],"iat":1790000000,"exp":1790000300.5,"nbf":-1,"jti":"b3f1\u00e9\ud83d\ude00","scope":"a b","cnf":{"jkt":"NzbLsXh8"},"act":null,"ok":true,"no":false,"e":[]}"#,
            #"{"alg":"RS256","kid":"k\"1","typ":"JWT","x5c":["MIIB"],"crit":[],"n":-12.5e-3}"#,
        ]
        let alphabet: [UInt8] = Array("{}[]\",:\\u0123456789-+.eEtrufalsn \t\r\nD8Cd".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(truncatingIfNeeded: state >> 1)
        }
        var disagreements = 0
        var accepted = 0
        for i in 0..<20000 {
            var bytes = Array(seeds[i % seeds.count].utf8)
            for _ in 0..<(1 + next() % 3) {
                let pos = next() % (bytes.count + 1)
                switch next() % 3 {
                case 0: bytes.insert(alphabet[next() % alphabet.count], at: pos)
                case 1: if pos < bytes.count { bytes.remove(at: pos) }
                default: if pos < bytes.count { bytes[pos] = alphabet[next() % alphabet.count] }
                }
            }
            if jansson(bytes).map({ json_decref($0); return true }) ?? false { accepted += 1 }
            if !agree(bytes, "mutation \(i)") { disagreements += 1; if disagreements > 10 { break } }
        }
        XCTAssertGreaterThan(accepted, 1000, "the mutations must exercise the accepting side too")
        print("StrictJSON differential: 20000 mutations, \(accepted) accepted by jansson, \(disagreements) disagreements, \(nulQuirks) raw-NUL inputs only jansson accepts")
    }
}
