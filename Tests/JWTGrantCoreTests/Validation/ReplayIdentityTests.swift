import XCTest
@testable import JWTGrantCore

/// The identity of a used assertion (`ReplayKey.assertion`) and the lifetime
/// of its record (`TimeRules` + `ReplayRule.recordExpiry`).
final class ReplayIdentityTests: XCTestCase {
    var idp: TestIssuer!
    var server: AuthorizationServer!

    override func setUpWithError() throws {
        idp = try TestIssuer("idp")
        server = try AuthorizationServer.forTests(issuers: [idp])
    }

    private func assertReplay(_ s: AuthorizationServer, _ token: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try s.consume(token), file: file, line: line) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .replay, "\($0)", file: file, line: line)
        }
    }

    /// Two valid signatures of one header and payload are one assertion
    /// (ECDSA signs with a fresh nonce, so signing twice gives two).
    func testNoJtiKeyIsTheSigningInputNotTheSignature() throws {
        let h = JSONValue.object()
        h.set("alg", .string("ES256"))
        h.set("kid", .string(idp.key.kid))
        let claims = idp.claims(["jti": nil])
        let a = try idp.key.compact(header: h, payload: claims)
        let b = try idp.key.compact(header: h, payload: claims)
        XCTAssertEqual(a.split(separator: ".").prefix(2), b.split(separator: ".").prefix(2))
        XCTAssertNotEqual(a.split(separator: ".").last, b.split(separator: ".").last, "two signatures")
        XCTAssertNoThrow(try server.consume(a))
        assertReplay(server, b)
    }

    /// The record is keyed on the `iss` value: removing the issuer and
    /// registering it again under another name does not forget it.
    func testKeyIsTheIssValueNotTheRegistrationName() throws {
        for jti in [true, false] {
            let s = try AuthorizationServer.forTests(issuers: [idp])
            let token = try jti ? idp.mint() : idp.mint(["jti": nil])
            XCTAssertNoThrow(try s.consume(token))
            try s.removeIssuer(name: idp.name)
            let renamed = idp.registrationJSON.replacingOccurrences(of: "\"name\":\"idp\"", with: "\"name\":\"idp-again\"")
            XCTAssertNotEqual(renamed, idp.registrationJSON)
            try s.registerIssuer(json: renamed)
            assertReplay(s, token)
        }
    }

    /// Length prefixes keep different (iss, jti) tuples apart.
    func testKeyPartsDoNotRunTogether() {
        func key(_ iss: String, _ jti: String?) -> ReplayKey {
            var i = Array(iss.utf8), j = Array((jti ?? "").utf8), input: [UInt8] = Array("h.p".utf8)
            return i.withUnsafeBytes { ib in j.withUnsafeBytes { jb in input.withUnsafeBytes { sb in
                ReplayKey.assertion(iss: ib, jti: jti == nil ? nil : jb, signingInput: sb) } } }
        }
        XCTAssertNotEqual(key("ab", "c"), key("a", "bc"))
        XCTAssertNotEqual(key("a\u{0}", "b"), key("a", "\u{0}b"))
        XCTAssertNotEqual(key("caf\u{E9}", "1"), key("cafe\u{301}", "1"))
        XCTAssertEqual(key("a", "b"), key("a", "b"))
        XCTAssertNotEqual(key("a", nil), key("a", ""))
    }

    /// INVARIANT: the record outlives the last instant at which the
    /// assertion passes the time rules. For each time claim, with clock
    /// skew, at the last second it passes: exchanged once, refused as a
    /// replay at that same instant and one second before its record ends.
    func testRecordOutlivesTheLastPassingInstant() throws {
        let skew: Int64 = 30
        let config = #"{"clock_skew":30,"grant_type":{"jwt":{"iat_validity_period":1}}}"#
        // (changes, the last whole second at which the assertion passes)
        let cases: [(String, [String: JSONValue?], Int64)] = [
            ("exp", ["iat": nil, "exp": .integer(T0 + 100)], T0 + 100 + skew - 1),
            ("iat", ["iat": .integer(T0), "exp": .integer(T0 + 10_000)], T0 + 60 + skew),
            ("nbf", ["iat": nil, "nbf": .integer(T0 + 100), "exp": .integer(T0 + 200)], T0 + 200 + skew - 1),
        ]
        for (what, changes, last) in cases {
            for jti in [true, false] {
                var ch = changes
                if !jti { ch["jti"] = .some(nil) }
                let s = try AuthorizationServer.forTests(config, issuers: [idp])
                let token = try idp.mint(ch)
                s.clock.set(last + 1)
                XCTAssertThrowsError(try s.verify(token), "\(what): refused after the last passing second")
                s.clock.set(last)
                XCTAssertNoThrow(try s.consume(token), "\(what): passes at its last second")
                assertReplay(s, token)
                // The time rules' bound and the record expiry built on it.
                let lastPassing = try TimeRules.check(idp.claims(ch), policy: s.validator.policy, now: Double(last))
                XCTAssertGreaterThanOrEqual(lastPassing, Double(last), what)
                XCTAssertGreaterThan(ReplayRule.recordExpiry(lastPassing: lastPassing), lastPassing, what)
                XCTAssertThrowsError(try TimeRules.check(idp.claims(ch), policy: s.validator.policy,
                                                         now: lastPassing.nextUp), "\(what): bound is tight")
            }
        }
        // nbf at the edge of the skew passes.
        let s = try AuthorizationServer.forTests(config, issuers: [idp])
        let early = try idp.mint(["nbf": .integer(T0 + skew)])
        XCTAssertNoThrow(try s.consume(early))
        assertReplay(s, early)
        XCTAssertThrowsError(try s.verify(idp.mint(["nbf": .integer(T0 + skew + 1)])))
    }

    func testRecordExpiryIsStrictlyLater() {
        for t in [0.0, 1, 1.5, 99.999, 253_402_300_799, 1_750_000_000.25] {
            XCTAssertGreaterThan(ReplayRule.recordExpiry(lastPassing: t), t)
        }
    }

    func testMaxAssertionLifetime() throws {
        let s = try AuthorizationServer.forTests(#"{"grant_type":{"jwt":{"max_assertion_lifetime":600}}}"#,
                                                 issuers: [idp])
        XCTAssertNoThrow(try s.verify(idp.mint(["exp": .integer(T0 + 600)])))
        XCTAssertThrowsError(try s.verify(idp.mint(["exp": .integer(T0 + 601)]))) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .assertionLifetime)
        }
        XCTAssertThrowsError(try s.verify(idp.mint(["exp": .integer(253_402_300_799)]))) {
            XCTAssertEqual(($0 as? JWTGrantError)?.code, .assertionLifetime)
        }
        // Default: no limit.
        XCTAssertNoThrow(try server.verify(idp.mint(["exp": .integer(253_402_300_799), "iat": nil])))
        XCTAssertThrowsError(try AuthorizationServer(configJSON: #"{"grant_type":{"jwt":{"max_assertion_lifetime":-1}}}"#))
    }

    /// One place makes replay keys (`ReplayKey.assertion`) and one place
    /// writes records (`ReplayRule.consume`, with `recordExpiry`): a source
    /// scan of the engine fails on a new call site of either.
    func testOneKeyMakerAndOneRecordWriter() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        var keyMakers: [String] = [], writers: [String] = []
        let e = FileManager.default.enumerator(atPath: root.path)
        while let rel = e?.nextObject() as? String {
            guard rel.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: root.appendingPathComponent(rel).path, encoding: .utf8)
            for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                if line.contains("ReplayKey(") { keyMakers.append(rel) }
                if line.contains(".insertIfAbsent(") {
                    writers.append(rel)
                    XCTAssertTrue(line.contains("recordExpiry(lastPassing:"), "a record's expiry comes from recordExpiry")
                }
            }
        }
        XCTAssertEqual(keyMakers, ["JWTGrantCore/Stores/ReplayKey.swift"])
        XCTAssertEqual(writers, ["JWTGrantCore/Validation/ReplayRule.swift"])
    }
}
