import XCTest
@testable import JWTGrantCore

final class CompactJWSTests: XCTestCase {
    private func seg(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }
    private let sig = Base64URL.encode([UInt8](repeating: 7, count: 64))
    private let claims = #"{"iss":"a","sub":"b"}"#

    private func code(_ token: String, maxLength: Int = CompactJWS.defaultMaxLength) -> ErrorCode? {
        JOSETestSupport.errorCode { _ = try JOSETestSupport.parse(token, maxLength: maxLength) }
    }

    func testParsesAWellFormedToken() throws {
        let token = seg(#"{"alg":"ES256","kid":"k1","typ":"JWT","jku":"https://evil","x5u":"https://evil","jwk":{},"x5c":[]}"#)
            + "." + seg(claims) + "." + sig
        let jws = try JOSETestSupport.parse(token)
        XCTAssertEqual(jws.algorithm, .es256)
        XCTAssertEqual(jws.kid, "k1")
        XCTAssertEqual(jws.payload["sub"]?.stringValue, "b")
        XCTAssertEqual(jws.signature.count, 64)
        XCTAssertEqual(jws.signingInputLength, token.utf8.count - sig.utf8.count - 1)
    }

    func testAlgorithmRejections() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            XCTAssertEqual(code(seg(#"{"alg":"\#(alg)"}"#) + "." + seg(claims) + "."), .algorithm, alg)
            XCTAssertEqual(code(seg(#"{"alg":"\#(alg)"}"#) + "." + seg(claims) + "." + sig), .algorithm, alg)
        }
        for alg in ["HS256", "HS384", "HS512", "ES256K", "RS1", "es256", "Ed25519", ""] {
            XCTAssertEqual(code(seg(#"{"alg":"\#(alg)"}"#) + "." + seg(claims) + "." + sig), .algorithm, alg)
        }
        XCTAssertEqual(code(seg(#"{"typ":"JWT"}"#) + "." + seg(claims) + "." + sig), .algorithm, "alg missing")
        XCTAssertEqual(code(seg(#"{"alg":256}"#) + "." + seg(claims) + "." + sig), .algorithm, "alg not a string")
        XCTAssertEqual(code(seg(#"{"alg":null}"#) + "." + seg(claims) + "." + sig), .algorithm)
    }

    func testHeaderRejections() {
        XCTAssertEqual(code(seg(#"{"alg":"RS256","crit":["exp"],"exp":1}"#) + "." + seg(claims) + "." + sig), .header)
        XCTAssertEqual(code(seg(#"{"alg":"RS256","crit":[]}"#) + "." + seg(claims) + "." + sig), .header)
        XCTAssertEqual(code(seg(#"{"alg":"RS256","b64":false,"crit":["b64"]}"#) + "." + seg(claims) + "." + sig), .header)
        XCTAssertEqual(code(seg(#"{"alg":"RS256","b64":true}"#) + "." + seg(claims) + "." + sig), .header)
        XCTAssertEqual(code(seg(#"{"alg":"RS256","kid":7}"#) + "." + seg(claims) + "." + sig), .header)
    }

    func testMalformedShapes() {
        let h = seg(#"{"alg":"RS256"}"#), p = seg(claims)
        XCTAssertEqual(code(""), .malformed)
        XCTAssertEqual(code(h + "." + p), .malformed, "two segments")
        XCTAssertEqual(code(h + "." + p + "." + sig + "." + sig), .malformed, "four segments")
        let jwe = seg(#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#) + ".AAAA.AAAA.AAAA.AAAA"
        XCTAssertEqual(code(jwe), .malformed, "5-part JWE")
        XCTAssertEqual(code(h + "." + p + "."), .malformed, "empty signature")
        XCTAssertEqual(code("." + p + "." + sig), .malformed, "empty header")
        XCTAssertEqual(code(h + ".." + sig), .malformed, "empty payload is not a claims object")
        XCTAssertEqual(code(h + "=." + p + "." + sig), .malformed, "padding in header")
        XCTAssertEqual(code(h + "." + p + "." + sig + "="), .malformed, "padding in signature")
        XCTAssertEqual(code(h + " ." + p + "." + sig), .malformed, "space")
        XCTAssertEqual(code(h + "." + p + "." + sig + "\n"), .malformed, "trailing newline")
        XCTAssertEqual(code(h + "." + p + "." + "ab+/"), .malformed, "standard alphabet")
    }

    func testMalformedJSON() {
        let s = "." + sig
        XCTAssertEqual(code(seg(#"{"alg":"RS256"}x"#) + "." + seg(claims) + s), .malformed, "trailing garbage in header")
        XCTAssertEqual(code(seg(#"{"alg":"RS256"}"#) + "." + seg(claims + "}") + s), .malformed, "trailing garbage in payload")
        XCTAssertEqual(code(seg(#"{"alg":"RS256","alg":"RS256"}"#) + "." + seg(claims) + s), .malformed, "duplicate header member")
        XCTAssertEqual(code(seg(#"{"alg":"RS256"}"#) + "." + seg(#"{"sub":"a","sub":"b"}"#) + s), .malformed, "duplicate claim")
        XCTAssertEqual(code(seg(#"{"alg":"RS256"}"#) + "." + seg(#"["sub"]"#) + s), .malformed, "payload array")
        XCTAssertEqual(code(seg(#""RS256""#) + "." + seg(claims) + s), .malformed, "header string")
        XCTAssertEqual(code(seg(#"{"alg":"RS256"}"#) + "." + seg("Zm9v") + s), .malformed, "payload not JSON")
        let badUTF8 = Base64URL.encode(Array(#"{"alg":"RS256","x":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))
        XCTAssertEqual(code(badUTF8 + "." + seg(claims) + s), .malformed, "invalid UTF-8")
        XCTAssertEqual(code(seg(#"{"alg":"RS256","x":"\u0000"}"#) + "." + seg(claims) + s), .malformed, "NUL escape")
    }

    func testLengthLimitIsCheckedFirstAndFast() {
        // 1 MiB of a valid-looking token: refused before any decoding.
        let big = seg(#"{"alg":"RS256"}"#) + "." + String(repeating: "A", count: 1 << 20) + "." + sig
        let t0 = monotonicSeconds()
        XCTAssertEqual(code(big), .malformed)
        XCTAssertLessThan(monotonicSeconds() - t0, 0.01)
        let token = seg(#"{"alg":"RS256"}"#) + "." + seg(claims) + "." + sig
        XCTAssertEqual(code(token, maxLength: token.utf8.count - 1), .malformed)
        XCTAssertNil(code(token, maxLength: token.utf8.count))
    }
}
