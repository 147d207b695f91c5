import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import JWTGrantCore

/// Identifiers compare and hash as bytes (`Identifier`), and the engine has
/// no other way to key state by a string.
final class IdentifierDisciplineTests: XCTestCase {
    /// Canonically equivalent, byte-different pairs: NFC/NFD, and the
    /// singleton decompositions that make Swift think a non-ASCII string
    /// equals an ASCII one.
    static let pairs: [(String, String)] = [
        ("caf\u{E9}", "cafe\u{301}"),
        ("\u{212B}ngstr\u{F6}m", "\u{C5}ngstro\u{308}m"),
        ("OKP", "O\u{212A}P"),
        ("a;b", "a\u{37E}b"),
    ]

    func testSwiftStringEqualityIsNotByteEquality() {
        for (a, b) in Self.pairs {
            XCTAssertEqual(a, b, "Swift calls these equal: the reason for Identifier")
            XCTAssertNotEqual(Array(a.utf8), Array(b.utf8))
            XCTAssertNotEqual(Identifier(a), Identifier(b))
            XCTAssertEqual(Set([Identifier(a), Identifier(b)]).count, 2)
            XCTAssertEqual(Identifier(a), Identifier(bytes: Array(a.utf8)))
        }
        XCTAssertEqual(JSONValue.string("caf\u{E9}").identifier, Identifier("caf\u{E9}"))
        XCTAssertNil(JSONValue.integer(1).identifier)
    }

    /// A source scan: no dictionary or set keyed by `String` in the library,
    /// no `String` comparison of JSON values, no algorithm parsed from a
    /// `String`. A new call site that keys state by a String fails here.
    func testSourcesHaveNoStringKeyedState() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        let forbidden = ["[String:", "[String :", "Set<String>", "Dictionary<String", "JWSAlgorithm(rawValue:",
                         "stringValue ==", "stringValue !=", "Set<Substring>", "[Substring:"]
        var scanned = 0
        var offences: [String] = []
        let e = FileManager.default.enumerator(atPath: root.path)
        while let rel = e?.nextObject() as? String {
            guard rel.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: root.appendingPathComponent(rel).path, encoding: .utf8)
            scanned += 1
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                for f in forbidden where line.contains(f) { offences.append("\(rel):\(n + 1): \(f)") }
            }
        }
        XCTAssertGreaterThan(scanned, 50, "the scan found the sources")
        XCTAssertEqual(offences, [], "key identifier state by Identifier (Support/Identifier.swift)")
    }

    func testRegistriesAndStoresCompareBytes() throws {
        for (a, b) in Self.pairs {
            // issuers: name and iss
            let s = try AuthorizationServer(configJSON: nil)
            let idp = try TestIssuer("idp")
            func reg(_ name: String, _ iss: String) throws {
                let o = try JSONValue.parse(idp.registrationJSON, what: "t")
                o.set("name", .string(name)); o.set("issuer", .string("https://x/\(iss)"))
                try s.registerIssuer(json: o.serialized())
            }
            try reg(a, "one")
            XCTAssertNoThrow(try reg(b, "two"), "another name by bytes")
            XCTAssertNotNil(s.issuers.lookup(name: a))
            XCTAssertNotNil(s.issuers.lookup(name: b))
            XCTAssertTrue(s.issuers.lookup(name: a) !== s.issuers.lookup(name: b))
            XCTAssertNil(s.issuers.lookup(iss: Identifier("https://x/one\u{301}")))
            // clients
            let clients = ClientRegistry()
            try clients.register(json: #"{"client_id":"\#(a)","client_secret":"s","scopes":["r"]}"#)
            XCTAssertNil(try clients.client(id: b))
            XCTAssertNoThrow(try clients.register(json: #"{"client_id":"\#(b)","client_secret":"s"}"#))
            XCTAssertThrowsError(try clients.authenticate(clientID: b + "x", secret: "s"))
            // scope tokens are ASCII by grammar; the form parameter names are bytes
            var body = Array("\(a)=1&\(b)=2".utf8)
            let form = try body.withUnsafeMutableBytes { try FormBody(parsing: UnsafeRawBufferPointer($0)) }
            XCTAssertEqual(form[a], "1")
            XCTAssertEqual(form[b], "2")
        }
    }

    func testJWKMembersCompareBytes() throws {
        // "O\u{212A}P" is not "OKP": the key is of an unknown kty (ignored).
        let k = try SigningKey.generate(.edDSA)
        let jwk = k.publicJWK
        jwk.set("kty", .string("O\u{212A}P"))
        let doc = JSONValue.object(), keys = JSONValue.array()
        keys.append(jwk)
        keys.append(try SigningKey.generate(.es256).publicJWK)
        doc.set("keys", keys)
        let set = try KeyLoader.loadJWKSReport(doc)
        XCTAssertEqual(set.keys.count, 1)
        XCTAssertEqual(set.ignored.map(\.index), [0])
    }
}
