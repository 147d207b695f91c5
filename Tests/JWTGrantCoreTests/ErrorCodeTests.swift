import XCTest
@testable import JWTGrantCore

final class ErrorCodeTests: XCTestCase {
    func testCodesAreContiguousAndNamed() {
        let raw = ErrorCode.allCases.map(\.rawValue)
        // -29 is reserved (the shared stores' JWTGRANT_EUNAVAILABLE).
        XCTAssertEqual(raw, Array((-28...(-1)).reversed()) + [-30, -31, -32, -33])
        XCTAssertEqual(Set(ErrorCode.allCases.map { "\($0.statusName)" }).count, ErrorCode.allCases.count)
    }

    func testAssertionFailuresAreInvalidGrant() {
        for c in [ErrorCode.malformed, .algorithm, .signature, .expired, .replay, .keySourceUnavailable,
                  .subjectNotAllowed, .clientNotAllowed, .issuerExpired, .jtiRequired] {
            XCTAssertEqual("\(c.oauthError)", "invalid_grant")
            XCTAssertEqual(c.httpStatus, 400)
        }
        XCTAssertEqual(ErrorCode.invalidClient.httpStatus, 401)
    }
}
