import XCTest
@testable import JWTGrantCore

/// Tokens and keys published in RFC 7515, RFC 8037, RFC 7520 and RFC 7638.
final class KnownAnswerTests: XCTestCase {
    private func jwk(_ text: String) throws -> VerificationKey {
        try KeyLoader.loadJWK(try JSONValue.parseObject(text, what: "JWK"))
    }

    /// RFC 7515 Appendix A.2: RS256.
    func testRFC7515A2RS256() throws {
        let key = try jwk(#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#)
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
        let jws = try JOSETestSupport.parse(token)       // a JWT: the strict public parse
        XCTAssertEqual(jws.algorithm, .rs256)
        XCTAssertEqual(jws.payload["iss"]?.stringValue, "joe")
        XCTAssertEqual(jws.payload["exp"]?.integerValue, 1_300_819_380)
        XCTAssertTrue(JOSETestSupport.verify(token, jws, key))
        XCTAssertEqual(key.summary, "RSA 2048")
        XCTAssertTrue(key.allows(.ps256), "an RSA key without JWK alg allows PS* too")
        XCTAssertFalse(JOSETestSupport.verifyToken(token.replacingLastCharacter("x"), key: key))
    }

    /// RFC 7515 Appendix A.3: ES256.
    func testRFC7515A3ES256() throws {
        let key = try jwk(#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#)
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
        let jws = try JOSETestSupport.parse(token)
        XCTAssertEqual(jws.algorithm, .es256)
        XCTAssertTrue(JOSETestSupport.verify(token, jws, key))
        XCTAssertEqual(key.summary, "EC P-256")
        XCTAssertEqual(key.allowedAlgorithms, [.es256])
    }

    /// RFC 8037 Appendix A.4: EdDSA (Ed25519). The payload is a sentence, not
    /// claims: the public (JWT) parse refuses it, the generic one verifies.
    func testRFC8037A4EdDSA() throws {
        let key = try jwk(#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)
        let token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try JOSETestSupport.parse(token) }, .malformed)
        let jws = try JOSETestSupport.parse(token, payloadMustBeJSON: false)
        XCTAssertEqual(jws.algorithm, .edDSA)
        XCTAssertTrue(JOSETestSupport.verify(token, jws, key))
        XCTAssertEqual(key.summary, "Ed25519")
        XCTAssertEqual(key.keyType, "OKP")
    }

    /// RFC 7520 section 4.1 (RS256), 4.2 (PS384), 4.3 (ES512), with the keys
    /// of RFC 7520 section 3 as carried by the Wycheproof JWS file (tests 345,
    /// 346, 347). Their "alg" is removed: 4.2's JWK says PS256 and 4.3's says
    /// "ES521" (see the policy table); the RFC's keys themselves carry none.
    func testRFC7520Section4() throws {
        guard let dir = JOSETestSupport.wycheproofDirectory else { return XCTFail("vectors not found") }
        let doc = try JOSETestSupport.loadJSON(dir + "/json_web_signature_test.json")
        var checked: [Int: JWSAlgorithm] = [:]
        for group in doc["testGroups"]?.elements ?? [] where group["comment"]?.stringValue == "rfc7520" {
            guard let pub = group["public"], let copy = pub.copy() else { continue }
            copy.remove("alg")
            let key = try KeyLoader.loadJWK(copy)
            for test in group["tests"]?.elements ?? [] {
                let tcId = Int(test["tcId"]?.integerValue ?? 0)
                let token = test["jws"]?.stringValue ?? ""
                let jws = try JOSETestSupport.parse(token, payloadMustBeJSON: false)
                XCTAssertEqual(jws.kid, "bilbo.baggins@hobbiton.example")
                XCTAssertTrue(JOSETestSupport.verify(token, jws, key), "RFC 7520 tcId \(tcId)")
                checked[tcId] = jws.algorithm
            }
        }
        XCTAssertEqual(checked, [345: .rs256, 346: .ps384, 347: .es512])
    }

    /// RFC 7638 section 3.1: the thumbprint of the RFC 7517 example RSA key.
    func testRFC7638Thumbprint() throws {
        let n = try XCTUnwrap(Base64URL.decode("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"))
        XCTAssertEqual(SigningKey.thumbprint(.rsa(n: n, e: [1, 0, 1])), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }
}

extension String {
    /// The string with its last character replaced (to corrupt a signature).
    func replacingLastCharacter(_ c: Character) -> String {
        var s = self
        let last = s.removeLast()
        s.append(last == c ? "y" : c)
        return s
    }
}
