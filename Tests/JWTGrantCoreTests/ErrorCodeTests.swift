import XCTest
@testable import JWTGrantCore

final class ErrorCodeTests: XCTestCase {
    func testCodesAreContiguousAndNamed() {
        let raw = ErrorCode.allCases.map(\.rawValue)
        XCTAssertEqual(raw, Array((-33...(-1)).reversed()))
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

    func testUnavailableIsA503TemporarilyUnavailable() {
        XCTAssertEqual(ErrorCode.unavailable.rawValue, -29)
        XCTAssertEqual("\(ErrorCode.unavailable.statusName)", "JWTGRANT_EUNAVAILABLE")
        XCTAssertEqual("\(ErrorCode.unavailable.oauthError)", "temporarily_unavailable")
        XCTAssertEqual(ErrorCode.unavailable.httpStatus, 503)
    }
}
