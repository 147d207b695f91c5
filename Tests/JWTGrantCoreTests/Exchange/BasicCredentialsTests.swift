import XCTest
@testable import JWTGrantCore

final class BasicCredentialsTests: XCTestCase {
    private func parse(_ s: String) throws(JWTGrantError) -> BasicCredentials {
        try withBytes(s) { (b) throws(JWTGrantError) in try BasicCredentials(parsing: b) }
    }

    private func assertRejected(_ s: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try parse(s)
            XCTFail("accepted: \(message)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, .invalidClient, message, file: file, line: line)
            XCTAssertEqual(error.code.httpStatus, 401, file: file, line: line)
        }
    }

    func testPlain() throws {
        let c = try parse("Basic YXBwOnMzY3JldA==")   // app:s3cret
        XCTAssertEqual(c.clientID, "app")
        XCTAssertEqual(c.clientSecret, "s3cret")
    }

    func testSchemeIsCaseInsensitiveAndWhitespaceTolerated() throws {
        for h in ["basic YXBwOnMzY3JldA==", "BASIC YXBwOnMzY3JldA==", "bAsIc   YXBwOnMzY3JldA==", " Basic YXBwOnMzY3JldA==\t"] {
            let c = try parse(h)
            XCTAssertEqual(c.clientID, "app", h)
            XCTAssertEqual(c.clientSecret, "s3cret", h)
        }
    }

    func testIdAndSecretAreFormUrlDecoded() throws {
        // base64("a%3Ab:p%40ss+word"): id "a:b", secret "p@ss word" (RFC 6749 2.3.1)
        let c = try parse("Basic YSUzQWI6cCU0MHNzK3dvcmQ=")
        XCTAssertEqual(c.clientID, "a:b")
        XCTAssertEqual(c.clientSecret, "p@ss word")
    }

    func testSplitsAtFirstColon() throws {
        let c = try parse("Basic YTpiOmM=")   // a:b:c
        XCTAssertEqual(c.clientID, "a")
        XCTAssertEqual(c.clientSecret, "b:c")
    }

    func testEmptySecretParsesButEmptyIdDoesNot() throws {
        XCTAssertEqual(try parse("Basic cHViOg==").clientSecret, "")   // pub:
        assertRejected("Basic OnMzY3JldA==", "empty id")                 // :s3cret
    }

    func testWrongScheme() {
        assertRejected("Bearer YXBwOnMzY3JldA==", "Bearer")
        assertRejected("Digest username=app", "Digest")
        assertRejected("BasicYXBwOnMzY3JldA==", "no space after scheme")
        assertRejected("Basic", "no credentials")
        assertRejected("Basic   ", "only spaces")
    }

    func testBadBase64() {
        assertRejected("Basic YXBwOnMzY3JldA", "missing padding")
        assertRejected("Basic YXBwOnMzY3JldB==", "non-zero trailing bits")
        assertRejected("Basic YXBw*nMzY3JldA==", "character outside the alphabet")
        assertRejected("Basic YXBwOnMzY3JldA==YQ==", "data after padding")
        assertRejected("Basic YXBw OnMzY3JldA==", "space inside")
        assertRejected("Basic YXBwOnMzY3JldA_-", "url-safe alphabet")
    }

    func testSizeCap() throws {
        // "app:" + secret of 'x' so that the header is exactly at the cap
        let secretLength = (BasicCredentials.maxSize - 6) / 4 * 3 - 4
        let credentials = "app:" + String(repeating: "x", count: secretLength)
        let header = "Basic " + SodiumBase64.encode(Array(credentials.utf8), variant: SodiumBase64.standard)
        XCTAssertLessThanOrEqual(header.utf8.count, BasicCredentials.maxSize)
        XCTAssertEqual(try parse(header).clientSecret.count, secretLength)
        assertRejected(header + String(repeating: " ", count: BasicCredentials.maxSize), "over the cap")
    }

    func testNoColonOrBadEscapeInside() {
        assertRejected("Basic YXBw", "app: no colon")
        assertRejected("Basic YXBwOnMzY3JldCV6eg==", "app:s3cret%zz")
    }

    func testMessagesDoNotEchoTheHeader() {
        do {
            _ = try parse("Basic YXBwOnMzY3JldCV6eg==")
            XCTFail("accepted")
        } catch {
            XCTAssertFalse(error.reason.contains("YXBw"))
            XCTAssertFalse(error.reason.contains("s3cret"))
        }
    }
}
