import XCTest
@testable import JWTGrantCore

final class FormBodyTests: XCTestCase {
    private func parse(_ s: String) throws(JWTGrantError) -> FormBody {
        try withBytes(s) { (b) throws(JWTGrantError) in try FormBody(parsing: b) }
    }

    private func assertRejected(_ s: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try parse(s)
            XCTFail("accepted: \(message)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, .invalidRequest, message, file: file, line: line)
        }
    }

    func testDecodesPercentAndPlus() throws {
        let f = try parse("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&scope=read+write%20admin&x%2By=%E2%82%AC")
        XCTAssertEqual(f["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer")
        XCTAssertEqual(f["scope"], "read write admin")
        XCTAssertEqual(f["x+y"], "€")
        XCTAssertNil(f["assertion"])
    }

    func testLiteralPercentTwoBAndRawColonKept() throws {
        let f = try parse("a=%2B%2b&b=urn:ietf:x&c=a=b")
        XCTAssertEqual(f["a"], "++")
        XCTAssertEqual(f["b"], "urn:ietf:x")
        XCTAssertEqual(f["c"], "a=b", "only the first = separates name and value")
    }

    func testEmptyValueMeansAbsent() throws {
        let f = try parse("scope=&assertion")
        XCTAssertNil(f["scope"])
        XCTAssertNil(f["assertion"])
        XCTAssertFalse(f.has("scope"))
    }

    func testEmptyBodyHasNoParameters() throws {
        XCTAssertTrue(try parse("").names.isEmpty)
    }

    func testRepeatedParameterIsInvalidRequest() {
        assertRejected("grant_type=a&grant_type=a", "repeated, same value")
        assertRejected("scope=a&scope=", "repeated, once empty")
        assertRejected("scope=a&sc%6Fpe=b", "repeated after decoding the name")
    }

    func testBadEscapesAreInvalidRequest() {
        assertRejected("a=%", "lone %")
        assertRejected("a=%4", "truncated escape")
        assertRejected("a=%zz", "non-hex escape")
        assertRejected("a=%G0", "non-hex high digit")
        assertRejected("%=1", "bad escape in name")
    }

    func testInvalidUTF8AndNULAreInvalidRequest() {
        assertRejected("a=%FF", "invalid UTF-8")
        assertRejected("a=%C3", "truncated UTF-8")
        assertRejected("a=%00", "NUL")
    }

    func testEmptyNamesAndPairsAreInvalidRequest() {
        assertRejected("=value", "empty name")
        assertRejected("a=1&&b=2", "empty pair")
        assertRejected("a=1&", "trailing &")
        assertRejected("&a=1", "leading &")
    }

    func testSizeCap() throws {
        let big = "assertion=" + String(repeating: "x", count: FormBody.maxSize - 10)
        XCTAssertEqual(try parse(big)["assertion"]?.utf8.count, FormBody.maxSize - 10)
        assertRejected(big + "x", "one byte over the cap")
    }

    /// The reasons (the host's detail) name known parameters only: a
    /// made-up name is "a parameter".
    func testRepeatedNamesInReasons() {
        for (body, expected) in [("XYZZYsecret=1&XYZZYsecret=2", "a parameter is repeated"),
                                 ("x%0D%0A%1B=1&x%0D%0A%1B=2", "a parameter is repeated"),
                                 ("scope=a&scope=b", #"parameter "scope" is repeated"#)] {
            do {
                _ = try parse(body)
                XCTFail("accepted \(body)")
            } catch {
                XCTAssertEqual(error.code, .invalidRequest)
                XCTAssertEqual(error.reason, expected)
            }
        }
    }

    func testSizeCapFollowsTheAssertionLimit() throws {
        XCTAssertEqual(FormBody.maxSize, 65536)
        XCTAssertEqual(FormBody.limit(forAssertionsOf: 100_000), 100_000 + FormBody.parameterAllowance)
        let big = "assertion=" + String(repeating: "x", count: 100_000)
        var text = big
        let parsed = try text.withUTF8 { b throws(JWTGrantError) in
            try FormBody(parsing: UnsafeRawBufferPointer(b), maxSize: FormBody.limit(forAssertionsOf: 100_000))
        }
        XCTAssertEqual(parsed["assertion"]?.utf8.count, 100_000)
        XCTAssertThrowsError(try text.withUTF8 { b throws(JWTGrantError) in
            try FormBody(parsing: UnsafeRawBufferPointer(b), maxSize: 100_000)
        })
    }

    func testMessagesDoNotEchoValues() {
        do {
            _ = try parse("assertion=SECRETVALUE%zz")
            XCTFail("accepted")
        } catch {
            XCTAssertFalse(error.reason.contains("SECRETVALUE"))
            XCTAssertTrue(error.reason.contains("assertion"))
        }
    }
}
