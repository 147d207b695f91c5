import XCTest
@testable import JWTGrantCore

final class NumericDateTests: XCTestCase {
    private func claims(_ json: String) throws -> JOSEObject { try JOSEObject.parseObject(json, what: "claims") }

    func testNumbersAreAccepted() throws {
        XCTAssertEqual(try NumericDate.read(claims(#"{"exp":1700000000}"#), "exp"), 1_700_000_000)
        XCTAssertEqual(try NumericDate.read(claims(#"{"exp":1700000000.5}"#), "exp"), 1_700_000_000.5)
        XCTAssertNil(try NumericDate.read(claims(#"{}"#), "exp"))
    }

    func testNonNumbersAndAbsurdValuesAreClaimErrors() throws {
        for json in [#"{"exp":"1700000000"}"#, #"{"exp":true}"#, #"{"exp":-1}"#, #"{"exp":1e300}"#,
                     #"{"exp":null}"#, #"{"exp":[1]}"#, #"{"exp":253402300800}"#] {
            let c = try claims(json)
            XCTAssertThrowsError(try NumericDate.read(c, "exp"), json) {
                XCTAssertEqual(($0 as? JWTGrantError)?.code, .claim, json)
            }
        }
    }
}
