import XCTest
@testable import JWTGrantCore

final class VerificationKeyTests: XCTestCase {
    private func jwk(_ text: String) throws -> JSONValue { try JSONValue.parse(text, what: "JWK") }

    func testECDSASignatureForms() throws {
        let key = try SigningKey.generate(.es256)
        let msg = Array("header.payload".utf8)
        let raw = try msg.withUnsafeBytes { try key.sign($0) }
        XCTAssertEqual(raw.count, 64)
        let v = key.verificationKey
        XCTAssertTrue(JOSETestSupport.verify(v, .es256, msg, raw))
        // DER form of the same signature: refused (JWS wants raw r||s).
        var der = [UInt8](repeating: 0, count: ECDSASignature.maxDERLength)
        let len = raw.withUnsafeBytes { r in der.withUnsafeMutableBytes { ECDSASignature.der(fromRaw: r, curve: .p256, into: $0) } }
        let derSig = Array(der[0..<(try XCTUnwrap(len))])
        XCTAssertFalse(JOSETestSupport.verify(v, .es256, msg, derSig))
        XCTAssertEqual(ECDSASignature.raw(fromDER: derSig, coordinateLength: 32), raw)
        // r = s = 0, r = 0, s = n: refused.
        XCTAssertFalse(JOSETestSupport.verify(v, .es256, msg, [UInt8](repeating: 0, count: 64)))
        XCTAssertFalse(JOSETestSupport.verify(v, .es256, msg, [UInt8](repeating: 0, count: 32) + Array(raw[32...])))
        XCTAssertFalse(JOSETestSupport.verify(v, .es256, msg, Array(raw[0..<32]) + ECCurve.p256.order))
        // One byte short, one byte long.
        XCTAssertFalse(JOSETestSupport.verify(v, .es256, msg, Array(raw.dropLast())))
        XCTAssertFalse(JOSETestSupport.verify(v, .es256, msg, raw + [0]))
        XCTAssertFalse(JOSETestSupport.verify(v, .es256, msg, [0] + raw))
        // ES384 on a P-256 key: refused whatever the signature.
        XCTAssertFalse(v.allows(.es384))
        XCTAssertFalse(JOSETestSupport.verify(v, .es384, msg, raw))
        XCTAssertFalse(JOSETestSupport.verify(v, .es384, msg, raw + [UInt8](repeating: 1, count: 32)))
    }

    func testRSASignatureLengthAndAlgorithmBinding() throws {
        let key = try SigningKey.generate(.rs256)
        let msg = Array("a.b".utf8)
        let sig = try msg.withUnsafeBytes { try key.sign($0) }
        XCTAssertEqual(sig.count, 256)
        let v = key.verificationKey
        XCTAssertTrue(JOSETestSupport.verify(v, .rs256, msg, sig))
        XCTAssertFalse(JOSETestSupport.verify(v, .rs256, msg, Array(sig.dropLast())))
        XCTAssertFalse(JOSETestSupport.verify(v, .rs256, msg, [0] + sig))
        XCTAssertFalse(JOSETestSupport.verify(v, .rs256, msg, sig + [0]))
        XCTAssertFalse(JOSETestSupport.verify(v, .ps256, msg, sig), "the SigningKey's JWK says RS256")
        XCTAssertFalse(JOSETestSupport.verify(v, .es256, msg, sig))
        XCTAssertFalse(JOSETestSupport.verify(v, .edDSA, msg, sig))
        XCTAssertFalse(JOSETestSupport.verify(v, .rs384, msg, sig))
    }

    func testRSA1024IsRefused() throws {
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadCertificates(KeyFixtures.rsa1024Certificate) }, .badKey)
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadJWK(try self.jwk(KeyFixtures.rsa1024JWK)) }, .badKey)
        let jwks = try jwk(#"{"keys":["# + KeyFixtures.rsa1024JWK + "]}")
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadJWKS(jwks) }, .badKey)
    }

    func testRSAExponentPolicy() {
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadCertificates(KeyFixtures.rsaExponent3PublicKey) }, .badKey)
    }

    func testCertificatesPEMAndDER() throws {
        let keys = try KeyLoader.loadCertificates(KeyFixtures.ecCertificate + "\nsubject=CN=ec256\n" + KeyFixtures.ecCertificate
                                                  + "\n" + KeyFixtures.ed25519PublicKeyPEM)
        XCTAssertEqual(keys.map(\.summary), ["EC P-256", "EC P-256", "Ed25519"])
        XCTAssertEqual(keys[0].notBefore, KeyFixtures.ecCertificateNotBefore)
        XCTAssertEqual(keys[0].notAfter, KeyFixtures.ecCertificateNotAfter)
        XCTAssertNil(keys[2].notBefore)
        XCTAssertNil(keys[0].kid)

        // DER as base64, standard alphabet, with whitespace, and url alphabet.
        let b64 = KeyFixtures.ecCertificateBase64
        var wrapped = ""
        for (i, c) in b64.enumerated() { wrapped.append(c); if i % 64 == 63 { wrapped.append("\n") } }
        let url = String(b64.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }).replacingOccurrences("=", "")
        for text in [b64, wrapped, "  " + wrapped + "\n", url] {
            let k = try KeyLoader.loadCertificates(text)
            XCTAssertEqual(k.count, 1)
            XCTAssertEqual(k[0].notAfter, KeyFixtures.ecCertificateNotAfter)
        }
        // Raw DER bytes.
        let der = try XCTUnwrap(Array(b64.utf8).withUnsafeBytes { Base64URL.decodeLenient($0) })
        XCTAssertEqual(try KeyLoader.loadDER(der).summary, "EC P-256")
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadDER(der + [0]) }, .badKey, "trailing data")
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadDER(Array(der.dropLast())) }, .badKey)
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadDER([]) }, .badKey)

        // The certificate key verifies what its private key signs.
        let signing = try SigningKey(pem: KeyFixtures.ecPrivateKeyPKCS8)
        let msg = Array("x.y".utf8)
        let sig = try msg.withUnsafeBytes { try signing.sign($0) }
        XCTAssertTrue(JOSETestSupport.verify(keys[0], .es256, msg, sig))
    }

    func testCertificateTextRejections() {
        for text in ["", "   \n", "not base64 !", KeyFixtures.ecPrivateKeyPKCS8,
                     "-----BEGIN CERTIFICATE-----\nAAAA\n", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"] {
            XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadCertificates(text) }, .badKey, text)
        }
    }

    func testJWKValidation() throws {
        let ec = #""kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0""#
        let ok = try KeyLoader.loadJWK(try jwk("{" + ec + #","kid":"k","use":"sig","key_ops":["verify"],"alg":"ES256"}"#))
        XCTAssertEqual(ok.kid, "k")
        let bad = [
            "{" + ec + #","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#,    // private member
            "{" + ec + #","use":"enc"}"#,
            "{" + ec + #","use":"other"}"#,
            "{" + ec + #","key_ops":["sign"]}"#,
            "{" + ec + #","key_ops":"verify"}"#,
            "{" + ec + #","alg":"ES384"}"#,                                          // curve mismatch
            "{" + ec + #","alg":"ES521"}"#,                                          // not an algorithm
            "{" + ec + #","alg":"HS256"}"#,
            "{" + ec + #","kid":5}"#,
            #"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1"}"#,  // not on the curve
            #"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}"#,
            #"{"kty":"EC","crv":"secp256k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
            #"{"kty":"EC","crv":"P-384","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
            #"{"kty":"oct","k":"AAAA"}"#,
            #"{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            #"{"kty":"OKP","crv":"Ed448","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"}"#,
            #"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
            #"{"crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            #"["kty"]"#,
        ]
        for text in bad {
            XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadJWK(try self.jwk(text)) }, .badKey, text)
        }
    }

    func testJWKSSkipsEncryptionKeysAndNeedsOneUsableKey() throws {
        let ed = #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"}"#
        let enc = #"{"kty":"EC","crv":"P-256","use":"enc","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#
        let wrap = #"{"kty":"EC","crv":"P-256","key_ops":["wrapKey"],"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#
        let keys = try KeyLoader.loadJWKS(try jwk(#"{"keys":["# + [enc, ed, wrap].joined(separator: ",") + "]}"))
        XCTAssertEqual(keys.map(\.kid), ["ed"])
        for text in [#"{"keys":[]}"#, #"{"keys":["# + enc + "]}", #"{"keys":{}}"#, #"{"kty":"RSA"}"#,
                     #"{"keys":["# + ed + #",{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}"#] {
            XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadJWKS(try self.jwk(text)) }, .badKey, text)
        }
    }

    func testROCAFingerprint() throws {
        guard let dir = JOSETestSupport.wycheproofDirectory else { return XCTFail("vectors not found") }
        let doc = try JOSETestSupport.loadJSON(dir + "/json_web_key_test.json")
        let group = try XCTUnwrap(doc["testGroups"]?.elements.first { $0["comment"]?.stringValue == "jws_rsa_roca_key" })
        let key = try XCTUnwrap(group["public"]?["keys"]?.elements.first)
        let n = try XCTUnwrap(key["n"]?.stringValue.flatMap { Base64URL.decode($0) })
        XCTAssertTrue(RSAKeyCheck.isROCAFingerprint(modulus: n))
        XCTAssertEqual(JOSETestSupport.errorCode { _ = try KeyLoader.loadJWK(key) }, .badKey)
        let fresh = try SigningKey.generate(.rs256)
        let freshN = try XCTUnwrap(fresh.publicJWK["n"]?.stringValue.flatMap { Base64URL.decode($0) })
        XCTAssertFalse(RSAKeyCheck.isROCAFingerprint(modulus: freshN))
    }
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
