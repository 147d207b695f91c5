import XCTest
@testable import JWTGrantCore

/// The RFC 7523 rules, one by one, on a fixed clock.
final class AssertionValidatorTests: XCTestCase {
    var idp: TestIssuer!
    var server: AuthorizationServer!

    override func setUpWithError() throws {
        idp = try TestIssuer("idp", alias: "as-alias")
        server = try AuthorizationServer.forTests(issuers: [idp])
    }

    private func assertFails(_ token: String, _ code: ErrorCode, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try server.verify(token), file: file, line: line) { error in
            let e = error as? JWTGrantError
            XCTAssertEqual(e?.code, code, e?.reason ?? "\(error)", file: file, line: line)
            if let sig = token.split(separator: ".").last, sig.count > 8 {
                XCTAssertFalse(e?.reason.contains(String(sig)) ?? true, "message echoes the token", file: file, line: line)
            }
        }
    }

    func testValidAssertionReturnsClaimsAndIssuerName() throws {
        let claims = try server.verify(idp.mint())
        XCTAssertEqual(claims["sub"]?.stringValue, "alice@example.com")
        XCTAssertEqual(claims["_issuer_name"]?.stringValue, "idp")
    }

    func testAudienceForms() throws {
        XCTAssertNoThrow(try server.verify(idp.mint(["aud": .string("as-alias")])))
        let arr = JSONValue.array()
        arr.append(.string("https://other.example.com"))
        arr.append(.string("https://localhost:9443/oauth2/token"))
        XCTAssertNoThrow(try server.verify(idp.mint(["aud": arr])))
        assertFails(try idp.mint(["aud": .string("https://localhost:9443/oauth2/token/")]), .audience)
        assertFails(try idp.mint(["aud": .string("HTTPS://localhost:9443/oauth2/token")]), .audience)
        assertFails(try idp.mint(["aud": .string("https://elsewhere.example.com")]), .audience)
        assertFails(try idp.mint(["aud": .array()]), .claim)
        assertFails(try idp.mint(["aud": .integer(1)]), .claim)
        assertFails(try idp.mint(["aud": nil]), .claim)
    }

    func testTokenEndpointIsAnAudience() throws {
        let s = try AuthorizationServer.forTests(#"{"token_endpoint":"https://as.example.com/token"}"#, issuers: [idp])
        XCTAssertNoThrow(try s.verify(idp.mint(["aud": .string("https://as.example.com/token")])))
    }

    func testAnotherIssuersAliasIsNotAnAudience() throws {
        let other = try TestIssuer("other", alias: "other-alias")
        try server.registerIssuer(json: other.registrationJSON)
        assertFails(try idp.mint(["aud": .string("other-alias")]), .audience)
        XCTAssertNoThrow(try server.verify(other.mint(["aud": .string("other-alias")])))
    }

    func testSubject() throws {
        assertFails(try idp.mint(["sub": nil]), .claim)
        assertFails(try idp.mint(["sub": .string("")]), .claim)
        assertFails(try idp.mint(["sub": .integer(42)]), .claim)
    }

    func testIssuer() throws {
        assertFails(try idp.mint(["iss": nil]), .untrustedIssuer)
        assertFails(try idp.mint(["iss": .string("https://unknown.example.com")]), .untrustedIssuer)
        assertFails(try idp.mint(["iss": .string("https://IDP.example.com")]), .untrustedIssuer)
        assertFails(try idp.mint(["iss": .integer(1)]), .untrustedIssuer)
    }

    func testExpiry() throws {
        assertFails(try idp.mint(["exp": nil]), .claim)
        assertFails(try idp.mint(["exp": .integer(T0)]), .expired)
        assertFails(try idp.mint(["exp": .integer(T0 - 1)]), .expired)
        assertFails(try idp.mint(["exp": .string("\(T0 + 300)")]), .claim)
        assertFails(try idp.mint(["exp": .bool(true)]), .claim)
        assertFails(try idp.mint(["exp": .real(1e300)]), .claim)
        assertFails(try idp.mint(["exp": .integer(-5)]), .claim)
        XCTAssertNoThrow(try server.verify(idp.mint(["exp": .real(Double(T0) + 0.5)])))
    }

    func testNotBefore() throws {
        XCTAssertNoThrow(try server.verify(idp.mint(["nbf": .integer(T0)])))
        assertFails(try idp.mint(["nbf": .integer(T0 + 1)]), .notYetValid)
        assertFails(try idp.mint(["nbf": .string("0")]), .claim)
    }

    func testIssuedAt() throws {
        assertFails(try idp.mint(["iat": .integer(T0 - 31 * 60)]), .iatTooOld)
        XCTAssertNoThrow(try server.verify(idp.mint(["iat": .integer(T0 - 29 * 60)])))
        assertFails(try idp.mint(["iat": .integer(T0 + 5)]), .iatInFuture)
        XCTAssertNoThrow(try server.verify(idp.mint(["iat": nil])), "iat is optional")
        let lax = try AuthorizationServer.forTests(#"{"grant_type":{"jwt":{"enable_iat_validation":false}}}"#, issuers: [idp])
        XCTAssertNoThrow(try lax.verify(idp.mint(["iat": .integer(T0 - 86_400)])))
        let shorter = try AuthorizationServer.forTests(#"{"grant_type":{"jwt":{"iat_validity_period":5}}}"#, issuers: [idp])
        XCTAssertThrowsError(try shorter.verify(idp.mint(["iat": .integer(T0 - 6 * 60)])))
    }

    func testClockSkew() throws {
        let s = try AuthorizationServer.forTests(#"{"clock_skew":60}"#, issuers: [idp])
        XCTAssertNoThrow(try s.verify(idp.mint(["exp": .integer(T0 - 30)])))
        XCTAssertNoThrow(try s.verify(idp.mint(["nbf": .integer(T0 + 30)])))
        XCTAssertNoThrow(try s.verify(idp.mint(["iat": .integer(T0 + 30)])))
        XCTAssertThrowsError(try s.verify(idp.mint(["exp": .integer(T0 - 61)])))
    }

    func testReplayIsDetectedOnlyAfterConsumption() throws {
        let token = try idp.mint()
        XCTAssertNoThrow(try server.verify(token))
        XCTAssertNoThrow(try server.verify(token), "verify never records")
        XCTAssertNoThrow(try server.consume(token))
        assertFails(token, .replay)
        XCTAssertThrowsError(try server.consume(token)) { XCTAssertEqual(($0 as? JWTGrantError)?.code, .replay) }
    }

    func testReplayWithoutJtiUsesTheSignature() throws {
        let token = try idp.mint(["jti": nil])
        XCTAssertNoThrow(try server.consume(token))
        XCTAssertThrowsError(try server.consume(token)) { XCTAssertEqual(($0 as? JWTGrantError)?.code, .replay) }
        XCTAssertNoThrow(try server.consume(idp.mint(["jti": nil, "sub": .string("bob")])))
    }

    func testFailedAssertionsDoNotBurnTheJti() throws {
        let bad = try idp.mint(["jti": .string("shared"), "aud": .string("nope")])
        XCTAssertThrowsError(try server.consume(bad))
        XCTAssertNoThrow(try server.consume(idp.mint(["jti": .string("shared")])))
    }

    func testReplayCacheCanBeDisabled() throws {
        let s = try AuthorizationServer.forTests(#"{"grant_type":{"jwt":{"enable_jwt_cache":false}}}"#, issuers: [idp])
        let token = try idp.mint()
        XCTAssertNoThrow(try s.consume(token))
        XCTAssertNoThrow(try s.consume(token))
    }

    func testJtiMustBeAString() throws {
        assertFails(try idp.mint(["jti": .integer(5)]), .claim)
    }

    func testSignatureAndKeys() throws {
        let impostor = try TestIssuer("idp")   // same iss, another key
        assertFails(try impostor.mint(header: ["kid": .string(idp.key.kid)]), .signature)
        assertFails(try idp.mint(header: ["kid": .string("../../etc/passwd")]), .keyNotFound)
        var parts = try idp.mint().split(separator: ".").map(String.init)
        parts[1] = Base64URL.encode(Array(#"{"iss":"https://idp.example.com","sub":"mallory","aud":"https://localhost:9443/oauth2/token","exp":1750000300}"#.utf8))
        assertFails(parts.joined(separator: "."), .signature)
    }

    func testUnknownKidFallsBackToKeysWithoutKid() throws {
        let withKid = try SigningKey.generate(.es256)
        let withoutKid = try SigningKey.generate(.es256)
        let anonymous = try XCTUnwrap(withoutKid.publicJWK.copy())
        anonymous.remove("kid")
        let keys = JSONValue.array()
        keys.append(withKid.publicJWK)
        keys.append(anonymous)
        let jwks = JSONValue.object()
        jwks.set("keys", keys)
        let reg = JSONValue.object()
        reg.set("name", .string("mixed"))
        reg.set("issuer", .string("https://mixed.example.com"))
        reg.set("jwks", jwks)
        try server.registerIssuer(json: reg.serialized())
        let claims = idp.claims(["iss": .string("https://mixed.example.com")])
        let header = JSONValue.object()
        header.set("kid", .string("rotated-away"))
        // The kid names no key: the kid-less key is tried and verifies.
        XCTAssertNoThrow(try server.verify(withoutKid.compact(header: header, payload: claims)))
        // The kid-ed key is not tried for another kid.
        assertFails(try withKid.compact(header: header, payload: claims), .signature)
        // Its own kid selects it.
        XCTAssertNoThrow(try server.verify(withKid.compact(header: .object(), payload: idp.claims(["iss": .string("https://mixed.example.com")]))))
    }

    func testAlgorithmMustFitTheKey() throws {
        let rsa = try TestIssuer("rsa-idp", alg: .rs256)
        try server.registerIssuer(json: rsa.registrationJSON)
        // An ES256 token for an issuer whose only key is RSA.
        let es = try SigningKey.generate(.es256)
        let h = JSONValue.object()
        h.set("kid", .string(rsa.key.kid))
        let token = try es.compact(header: h, payload: rsa.claims())
        assertFails(token, .algorithm)
    }

    func testRemovedIssuerIsUntrustedAtOnce() throws {
        let token = try idp.mint()
        XCTAssertNoThrow(try server.verify(token))
        try server.removeIssuer(name: "idp")
        assertFails(token, .untrustedIssuer)
        XCTAssertThrowsError(try server.removeIssuer(name: "idp")) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .notFound)
        }
    }

    func testRegistrationRules() throws {
        XCTAssertThrowsError(try server.registerIssuer(json: idp.registrationJSON)) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .alreadyExists)
        }
        let sameIss = #"{"name":"other","issuer":"https://idp.example.com","jwks":{"keys":[\#(idp.key.publicJWK.serialized())]}}"#
        XCTAssertThrowsError(try server.registerIssuer(json: sameIss)) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .alreadyExists)
        }
        for bad in [#"{"name":"x","issuer":"y"}"#,
                    #"{"name":"x","issuer":"y","certificate":"a","jwks_uri":"https://x"}"#,
                    #"{"name":"x","issuer":"y","jwks":5}"#,
                    #"{"name":"","issuer":"y","jwks":{"keys":[]}}"#,
                    #"{"issuer":"y","jwks":{"keys":[]}}"#,
                    #"{"name":"x","issuer":"y","jwks":{"keys":[]},"extra":1}"#] {
            XCTAssertThrowsError(try server.registerIssuer(json: bad), bad) {
                XCTAssertEqual(($0 as? JWTGrantError)?.code, .invalidArgument, bad)
            }
        }
        XCTAssertThrowsError(try server.registerIssuer(json: #"{"name":"x","issuer":"y","certificate":"not a cert"}"#)) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .badKey)
        }
    }

    func testListIssuers() throws {
        let list = server.listIssuers()
        XCTAssertEqual(list.count, 1)
        let first = list.elements[0]
        XCTAssertEqual(first["name"]?.stringValue, "idp")
        XCTAssertEqual(first["issuer"]?.stringValue, "https://idp.example.com")
        XCTAssertEqual(first["alias"]?.stringValue, "as-alias")
        XCTAssertEqual(first["key_source"]?.stringValue, "jwks")
        XCTAssertEqual(first["key_ids"]?.elements.first?.stringValue, idp.key.kid)
        XCTAssertFalse(list.serialized().contains("\"d\""), "no private key material")
    }
}
