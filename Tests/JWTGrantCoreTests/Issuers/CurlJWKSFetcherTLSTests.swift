import XCTest
@testable import JWTGrantCore

/// TLS verification is always on; `caFile` names a private CA.
final class CurlJWKSFetcherTLSTests: XCTestCase {
    var server: JWKSTestServer!

    override func setUpWithError() throws { server = try JWKSTestServer(tls: "tls_localhost") }
    override func tearDown() { server?.stop(); server = nil }

    private func options(ca: String?) -> JWKSEndpointOptions {
        var o = JWKSEndpointOptions()
        o.caFile = ca.map { JWKSTestServer.fixtures + $0 }
        return o
    }

    func testPrivateCAIsTrusted() throws {
        let set = try makeKeySet(server.url("/jwks?kids=a"), options: options(ca: "tls_localhost.crt"),
                                 fetcher: CurlJWKSFetcher())
        XCTAssertEqual(try set.keys(kid: "a"), [TestKey(kid: "a")])
    }

    func testUntrustedCertificateIsRefused() {
        for ca in [nil, "tls_other_ca.crt"] {
            let r = CurlJWKSFetcher().fetch(url: server.url("/jwks?kids=a"), options: options(ca: ca))
            guard case .failure(let reason) = r else { XCTFail("\(ca ?? "system CAs"): \(summary(r))"); continue }
            XCTAssertTrue(reason.hasPrefix("TLS"), reason)
        }
    }

    func testHostnameIsVerified() throws {
        // A trusted certificate for jwks.example.com, served at 127.0.0.1.
        let other = try JWKSTestServer(tls: "tls_wrongname")
        defer { other.stop() }
        let r = CurlJWKSFetcher().fetch(url: other.url("/jwks?kids=a"), options: options(ca: "tls_wrongname.crt"))
        guard case .failure(let reason) = r else { return XCTFail(summary(r)) }
        XCTAssertTrue(reason.hasPrefix("TLS"), reason)
    }

    func testMissingCAFileFails() {
        let r = CurlJWKSFetcher().fetch(url: server.url("/jwks?kids=a"), options: options(ca: "no-such-file.pem"))
        guard case .failure(let reason) = r else { return XCTFail(summary(r)) }
        XCTAssertTrue(reason.hasPrefix("TLS"), reason)
    }
}
