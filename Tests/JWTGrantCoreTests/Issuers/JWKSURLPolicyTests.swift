import XCTest
@testable import JWTGrantCore

final class JWKSURLPolicyTests: XCTestCase {
    func testAccepted() {
        for u in ["https://idp.example.com/.well-known/jwks.json",
                  "https://idp.example.com:8443/jwks?x=1",
                  "HTTPS://IDP.EXAMPLE.COM/jwks",
                  "https://[2001:db8::1]/jwks",
                  "http://127.0.0.1:8080/jwks",
                  "http://127.1.2.3/jwks",
                  "http://[::1]:9000/jwks",
                  "http://localhost/jwks",
                  "http://LOCALHOST:1234/jwks"] {
            XCTAssertNil(caught { try JWKSURLPolicy.validate(u) }, u)
        }
    }

    func testRefused() {
        let cases: [(String, String)] = [
            ("http://idp.example.com/jwks", "non-loopback"),
            ("http://10.0.0.1/jwks", "non-loopback"),
            ("http://128.0.0.1/jwks", "non-loopback"),
            ("http://[::2]/jwks", "non-loopback"),
            ("http://localhost.evil.com/jwks", "non-loopback"),
            ("http://127.0.0.1.nip.io/jwks", "non-loopback"),
            ("file:///etc/passwd", "scheme"),
            ("ftp://idp.example.com/jwks", "scheme"),
            ("gopher://idp.example.com/", "scheme"),
            ("ldap://idp.example.com/", "scheme"),
            ("not a url", "whitespace"),
            ("idp.example.com/jwks", "absolute"),
            ("/jwks", "absolute"),
            ("", "empty"),
            ("https://", "absolute"),
            ("https://user:pw@idp.example.com/jwks", "user information"),
            ("https://user@idp.example.com/jwks", "user information"),
            ("https://idp.example.com/jw ks", "whitespace"),
            ("https://idp.example.com/jwks\n", "whitespace"),
            ("https://idp.example.com/" + String(repeating: "a", count: 3000), "longer"),
        ]
        for (u, why) in cases {
            let e = caught { try JWKSURLPolicy.validate(u) }
            XCTAssertEqual(e?.code, .invalidArgument, u)
            XCTAssertTrue(e?.reason.contains(why) ?? false, "\(u): \(e?.reason ?? "accepted")")
        }
    }

    func testLoopbackHosts() {
        XCTAssertTrue(JWKSURLPolicy.isLoopbackHost("127.0.0.1"))
        XCTAssertTrue(JWKSURLPolicy.isLoopbackHost("127.255.255.254"))
        XCTAssertTrue(JWKSURLPolicy.isLoopbackHost("[::1]"))
        XCTAssertTrue(JWKSURLPolicy.isLoopbackHost("[::ffff:127.0.0.1]"))
        XCTAssertTrue(JWKSURLPolicy.isLoopbackHost("localhost"))
        XCTAssertFalse(JWKSURLPolicy.isLoopbackHost("126.0.0.1"))
        XCTAssertFalse(JWKSURLPolicy.isLoopbackHost("[::]"))
        XCTAssertFalse(JWKSURLPolicy.isLoopbackHost("example.com"))
    }

    func testKeySetRefusesBadURLAtConstruction() {
        let e = caught { try makeKeySet("ftp://idp.example.com/jwks", fetcher: CurlJWKSFetcher()) }
        XCTAssertEqual(e?.code, .invalidArgument)
    }
}
