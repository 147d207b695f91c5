import XCTest
@testable import JWTGrantCore
#if canImport(Glibc)
import Glibc
#endif

/// `certificate_file` / `jwks_file`, refusal of an expired certificate at
/// registration, and the key details of `jwtgrant_list_issuers`.
final class IssuerKeyFilesTests: XCTestCase {
    private var dir = ""

    private var created: [String] = []

    override func setUpWithError() throws {
        dir = "/tmp/jwtgrant-keyfiles-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertEqual(mkdir(dir, 0o700), 0)
    }

    override func tearDown() {
        for p in created + [dir + "/fifo", dir + "/missing.pem"] { unlink(p) }
        rmdir(dir)
    }

    private func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = dir + "/" + name
        created.append(path)
        let f = fopen(path, "wb")
        XCTAssertNotNil(f)
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
        return path
    }

    private func server(at now: Int64 = 1_800_000_000) throws -> AuthorizationServer {
        let s = try AuthorizationServer(configJSON: nil)
        s.clock.set(now)
        return s
    }

    private func register(_ s: AuthorizationServer, _ members: String) -> JWTGrantError? {
        do { try s.registerIssuer(json: #"{"name":"p","issuer":"https://p.example","# + members + "}"); return nil }
        catch { return error }
    }

    /// RFC 7638 3.1: the example RSA key and its thumbprint.
    func testRFC7638KnownAnswer() throws {
        let jwk = try JSONValue.parse(#"{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#, what: "jwk")
        let key = try KeyLoader.loadJWK(jwk)
        XCTAssertEqual(key.thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    /// The same EC key as a certificate and as a JWK has one thumbprint
    /// (value computed independently by jwcrypto).
    func testThumbprintIsTheSameForCertificateAndJWK() throws {
        let cert = try XCTUnwrap(KeyLoader.loadCertificates(KeyFixtures.ecCertificate).first)
        let jwk = try KeyLoader.loadJWK(try JSONValue.parse(#"{"kty":"EC","crv":"P-256","x":"VEVMz_cMTU_WKk0a1IRnICb6Lrmffs2OzBBkycDY634","y":"11Xz8-r7fzLVkph5mvOTzEE92gQbnhT7CPixVgJ5KQU","kid":"e1"}"#, what: "jwk"))
        XCTAssertEqual(cert.thumbprint, "VK87okysSoz4zlwa3D0KFJrdhhWcXtpQFjZZ1nwZ9B8")
        XCTAssertEqual(jwk.thumbprint, cert.thumbprint)
        let listed = cert.listingJSON(now: 1_800_000_000)
        XCTAssertEqual(listed["kty"]?.stringValue, "EC")
        XCTAssertEqual(listed["thumbprint"]?.stringValue, cert.thumbprint)
        XCTAssertEqual(listed["not_before"]?.stringValue, "2026-11-29T10:24:15Z")
        XCTAssertEqual(listed["not_after"]?.stringValue, "2036-11-26T10:24:15Z")
        XCTAssertEqual(listed["expired"]?.serialized(), "false")
        XCTAssertEqual(jwk.listingJSON()["kid"]?.stringValue, "e1")
        XCTAssertEqual(jwk.listingJSON()["not_after"]?.serialized(), "null")
    }

    func testCertificateFilePEMBase64AndDER() throws {
        let der = try XCTUnwrap(Base64URL.decodeLenient(Array(KeyFixtures.ecCertificateBase64.utf8).withUnsafeBytes { $0 }))
        for (name, bytes) in [("c.pem", Array(KeyFixtures.ecCertificate.utf8)),
                              ("c.b64", Array(KeyFixtures.ecCertificateBase64.utf8)),
                              ("c.der", der)] {
            let s = try server()
            XCTAssertNil(register(s, #""certificate_file":""# + write(name, bytes) + #"""#), name)
            let listed = s.listIssuers().elements.first
            XCTAssertEqual(listed?["key_source"]?.stringValue, "certificate", name)
            let detail = listed?["key_details"]?.elements.first
            XCTAssertEqual(detail?["thumbprint"]?.stringValue, "VK87okysSoz4zlwa3D0KFJrdhhWcXtpQFjZZ1nwZ9B8", name)
        }
    }

    func testJWKSFile() throws {
        let s = try server()
        let path = write("k.json", Array(#"{"keys":[{"kty":"EC","crv":"P-256","x":"VEVMz_cMTU_WKk0a1IRnICb6Lrmffs2OzBBkycDY634","y":"11Xz8-r7fzLVkph5mvOTzEE92gQbnhT7CPixVgJ5KQU","kid":"e1"},{"kty":"EC","crv":"P-256","x":"VEVMz_cMTU_WKk0a1IRnICb6Lrmffs2OzBBkycDY634","y":"11Xz8-r7fzLVkph5mvOTzEE92gQbnhT7CPixVgJ5KQU","kid":"enc","use":"enc"}]}"#.utf8))
        XCTAssertNil(register(s, #""jwks_file":""# + path + #"""#))
        let listed = try XCTUnwrap(s.listIssuers().elements.first)
        XCTAssertEqual(listed["key_source"]?.stringValue, "jwks")
        XCTAssertEqual(listed["key_details"]?.elements.first?["kid"]?.stringValue, "e1")
        XCTAssertEqual(listed["ignored_keys"]?.elements.count, 1)
    }

    func testFileErrorsNameThePathNeverTheContent() throws {
        let s = try server()
        let secretish = "-----BEGIN CERTIFICATE-----\nTOPSECRETCONTENT\n-----END CERTIFICATE-----\n"
        let missing = dir + "/missing.pem"
        let big = write("big.pem", [UInt8](repeating: 0x41, count: ConfigFile.defaultLimit + 1))
        let bad = write("bad.pem", Array(secretish.utf8))
        let badJSON = write("bad.json", Array(#"{"keys":[{"kty":"RSA","n":"TOPSECRETCONTENT"#.utf8))
        let empty = write("empty.pem", [])
        let cases: [(String, ErrorCode, String)] = [
            (#""certificate_file":""# + missing + #"""#, .invalidArgument, "cannot be opened"),
            (#""certificate_file":""# + dir + #"""#, .invalidArgument, "not a regular file"),
            (#""certificate_file":""# + big + #"""#, .invalidArgument, "larger than"),
            (#""certificate_file":""# + empty + #"""#, .badKey, "empty"),
            (#""certificate_file":""# + bad + #"""#, .badKey, "PEM block 1"),
            (#""jwks_file":""# + badJSON + #"""#, .badKey, "jwks_file is not valid JSON"),
            (#""jwks_file":""# + missing + #"""#, .invalidArgument, "cannot be opened"),
            (#""certificate_file":"""#, .invalidArgument, "empty"),
            (#""certificate_file":"/dev/null","jwks_uri":"https://p.example/jwks""#, .invalidArgument, "exactly one"),
        ]
        for (members, code, words) in cases {
            let e = register(s, members)
            XCTAssertEqual(e?.code, code, members)
            let reason = e?.reason ?? ""
            XCTAssertTrue(reason.contains(words), reason)
            XCTAssertFalse(reason.contains("TOPSECRET"), reason)
            XCTAssertTrue(s.listIssuers().elements.isEmpty)
        }
        // The path of a missing or unreadable file is named.
        XCTAssertTrue(register(s, #""certificate_file":""# + missing + #"""#)?.reason.contains(missing) ?? false)
    }

    /// A FIFO without a writer is refused at once, never waited on.
    func testFIFOIsRefusedWithoutBlocking() throws {
        let s = try server()
        let path = dir + "/fifo"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        let e = register(s, #""certificate_file":""# + path + #"""#)
        XCTAssertEqual(e?.code, .invalidArgument)
        XCTAssertTrue(e?.reason.contains("not a regular file") ?? false)
    }

    func testExpiredCertificateIsRefusedWithItsNotAfterDate() throws {
        let after = Int64(KeyFixtures.ecCertificateNotAfter)
        let s = try server(at: after + 1)
        let pem = JSONValue.string(KeyFixtures.ecCertificate).serialized()
        let e = register(s, #""certificate":"# + pem)
        XCTAssertEqual(e?.code, .badKey)
        XCTAssertTrue(e?.reason.contains("2036-11-26T10:24:15Z") ?? false, e?.reason ?? "")
        XCTAssertTrue(e?.reason.contains("notAfter") ?? false)
        XCTAssertTrue(s.listIssuers().elements.isEmpty)
        // The same file path is refused the same way.
        let file = write("old.pem", Array(KeyFixtures.ecCertificate.utf8))
        XCTAssertEqual(register(s, #""certificate_file":""# + file + #"""#)?.code, .badKey)
        // At its notAfter second it is still valid.
        let ok = try server(at: after)
        XCTAssertNil(register(ok, #""certificate":"# + pem))
    }

    /// An expired certificate beside a usable key registers; the listing
    /// marks which one has expired.
    func testBundleWithAnExpiredCertificateAndAUsableKey() throws {
        let s = try server(at: Int64(KeyFixtures.ecCertificateNotAfter) + 10)
        let bundle = JSONValue.string(KeyFixtures.ecCertificate + "\n" + KeyFixtures.ed25519PublicKeyPEM).serialized()
        XCTAssertNil(register(s, #""certificate":"# + bundle))
        let details = try XCTUnwrap(s.listIssuers().elements.first?["key_details"]?.elements)
        XCTAssertEqual(details.count, 2)
        XCTAssertEqual(details[0]["expired"]?.serialized(), "true")
        XCTAssertEqual(details[1]["kty"]?.stringValue, "OKP")
        XCTAssertNil(details[1]["expired"])
    }
}
