import XCTest
@testable import JWTGrantCore

final class SigningKeyTests: XCTestCase {
    private func roundTrip(_ key: SigningKey, file: StaticString = #filePath, line: UInt = #line) throws {
        let header = JSONValue.object()
        header.set("typ", .string("JWT"))
        let claims = try JSONValue.parseObject(#"{"iss":"https://as.example","sub":"svc","exp":2000000000}"#, what: "claims")
        let token = try key.compact(header: header, payload: claims)
        let jws = try JOSETestSupport.parse(token)
        XCTAssertEqual(jws.algorithm, key.algorithm, file: file, line: line)
        XCTAssertEqual(jws.kid, Identifier(key.kid), file: file, line: line)
        XCTAssertEqual(jws.payload["sub"]?.stringValue, "svc", file: file, line: line)
        XCTAssertTrue(JOSETestSupport.verify(token, jws, key.verificationKey), file: file, line: line)
        // Through the published JWK too.
        let published = try KeyLoader.loadJWK(key.publicJWK)
        XCTAssertTrue(JOSETestSupport.verify(token, jws, published), file: file, line: line)
        XCTAssertFalse(JOSETestSupport.verifyToken(token.replacingLastCharacter("A"), key: published), file: file, line: line)
        for m in JWK.privateMembers { XCTAssertFalse(key.publicJWK.has(m), m, file: file, line: line) }
        XCTAssertEqual(key.publicJWK["use"]?.stringValue, "sig", file: file, line: line)
        XCTAssertEqual(key.publicJWK["alg"]?.stringValue, key.algorithm.rawValue, file: file, line: line)
        XCTAssertEqual(key.kid.utf8.count, 43, file: file, line: line)
    }

    func testGenerateAndRoundTripEveryAlgorithm() throws {
        for alg in JWSAlgorithm.allCases {
            let key = try SigningKey.generate(alg)
            XCTAssertEqual(key.algorithm, alg)
            try roundTrip(key)
        }
        XCTAssertEqual(try SigningKey.generate(.es512).verificationKey.summary, "EC P-521")
        XCTAssertEqual(try SigningKey.generate(.ps256).verificationKey.summary, "RSA 2048")
    }

    func testPEMKeysInferTheAlgorithm() throws {
        let pkcs8 = try SigningKey(pem: KeyFixtures.ecPrivateKeyPKCS8)
        let sec1 = try SigningKey(pem: KeyFixtures.ecPrivateKeyTraditional)
        XCTAssertEqual(pkcs8.algorithm, .es256)
        XCTAssertEqual(pkcs8.kid, sec1.kid, "same key, same RFC 7638 thumbprint")
        try roundTrip(sec1)
        let ed = try SigningKey(pem: KeyFixtures.ed25519PrivateKeyPEM)
        XCTAssertEqual(ed.algorithm, .edDSA)
        try roundTrip(ed)
        // The certificate's key and the signing key agree.
        let cert = try KeyLoader.loadCertificates(KeyFixtures.ecCertificate)[0]
        let token = try pkcs8.compact(header: .object(), payload: try JSONValue.parseObject(#"{"a":1}"#, what: "c"))
        XCTAssertTrue(JOSETestSupport.verifyToken(token, key: cert, payloadMustBeJSON: true))
    }

    func testPEMAlgorithmMismatchAndGarbage() {
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try SigningKey(pem: KeyFixtures.ecPrivateKeyPKCS8, algorithm: .es384) }, .badKey)
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try SigningKey(pem: KeyFixtures.ecPrivateKeyPKCS8, algorithm: .rs256) }, .badKey)
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try SigningKey(pem: KeyFixtures.ed25519PrivateKeyPEM, algorithm: .es256) }, .badKey)
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try SigningKey(pem: KeyFixtures.ecCertificate) }, .badKey)
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try SigningKey(pem: "") }, .badKey)
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try SigningKey(pem: "garbage") }, .badKey)
    }

    func testRFC7638ThumbprintOfGeneratedKeysMatchesTheirJWK() throws {
        let key = try SigningKey.generate(.es256)
        let x = try XCTUnwrap(key.publicJWK["x"]?.stringValue), y = try XCTUnwrap(key.publicJWK["y"]?.stringValue)
        let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
        XCTAssertEqual(key.kid, Base64URL.encode(SigningKey.sha256(Array(canonical.utf8))))
    }
}
