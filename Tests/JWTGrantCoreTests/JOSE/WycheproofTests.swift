import XCTest
@testable import JWTGrantCore

/// Every file of Tests/Vectors/wycheproof runs through the engine.
/// Outcomes that differ from the vector's "result" must be listed, with a
/// reason, in `WycheproofTests.deviations`; a deviation not listed there, or
/// a listed one that does not occur, fails the test.
final class WycheproofTests: XCTestCase {
    struct Deviation: Hashable {
        let file: String
        let tcId: Int
        /// What the engine does: true = accepts, false = rejects.
        let accepts: Bool
    }

    /// THE policy table: every intended difference from a Wycheproof verdict.
    static let deviations: [Deviation: String] = {
        var t: [Deviation: String] = [:]
        func add(_ file: String, _ ids: [Int], accepts: Bool, _ reason: String) {
            for id in ids { t[Deviation(file: file, tcId: id, accepts: accepts)] = reason }
        }
        let e3 = "RSA public exponent 3: policy requires an odd e >= 65537, so the key is refused"
        add("rsa_signature_2048_sha256_test.json", [258, 259], accepts: false, e3)
        add("rsa_signature_2048_sha512_test.json", [259], accepts: false, e3)
        add("rsa_signature_3072_sha256_test.json", [259], accepts: false, e3)
        add("rsa_signature_3072_sha512_test.json", [260], accepts: false, e3)
        let missingNull = "acceptable MissingNull (DigestInfo without NULL): rejected, the strict choice"
        for bits in [2048, 3072, 4096] {
            for sha in [256, 384, 512] {
                add("rsa_signature_\(bits)_sha\(sha)_test.json", [8], accepts: false, missingNull)
            }
        }
        let jws = "json_web_signature_test.json"
        let hmac = "HS* (shared-secret MAC) is never accepted for assertions: .algorithm"
        add(jws, [1, 348, 352, 357, 358, 359, 376, 377], accepts: false, hmac)
        add(jws, [372, 373], accepts: false,
            "a \"?\" inside a segment is not base64url (strict RFC 7515 decoding); also HS256")
        add(jws, [346, 350], accepts: false,
            "the RFC 7520 Figure 20 JWK says alg PS256; a JWK alg restricts the key, so a PS384 token is refused")
        add(jws, [347, 351], accepts: false,
            "the RFC 7520 Figure 27 JWK says alg \"ES521\", not a JWS algorithm: the JWK is refused (.badKey)")
        let jwk = "json_web_key_test.json"
        add(jwk, [2, 13, 14, 15], accepts: false, hmac + "; a JWKS with an oct key is refused")
        return t
    }()

    struct Tally { var accepted = 0, rejected = 0, deviations = 0 }

    private var observed: [Deviation] = []
    private var tallies: [String: Tally] = [:]

    private func record(_ file: String, _ tcId: Int, result: String, accepted: Bool) {
        var tally = tallies[file, default: Tally()]
        if accepted { tally.accepted += 1 } else { tally.rejected += 1 }
        let expected: Bool? = result == "valid" ? true : result == "invalid" ? false : nil
        if expected != accepted {
            observed.append(Deviation(file: file, tcId: tcId, accepts: accepted))
            tally.deviations += 1
        }
        tallies[file] = tally
    }

    func testAllWycheproofFiles() throws {
        guard let dir = JOSETestSupport.wycheproofDirectory else {
            return XCTFail("Wycheproof vectors not found (Tests/Vectors/wycheproof under \(JOSETestSupport.packageRoot))")
        }
        let files = JOSETestSupport.listDirectory(dir).filter { $0.hasSuffix(".json") }
        XCTAssertEqual(files.count, 21, "expected the 21 vector files of the README")
        var ran = 0
        for file in files {
            let doc = try JOSETestSupport.loadJSON(dir + "/" + file)
            let schema = doc["schema"]?.stringValue ?? ""
            switch schema {
            case "json_web_signature_schema_v1.json": runJWS(file, doc)
            case "json_web_key_schema_v1.json": runJWKS(file, doc)
            default: try runPrimitive(file, doc, schema: schema)
            }
            let t = tallies[file, default: Tally()]
            let total = t.accepted + t.rejected
            XCTAssertEqual(total, Int(doc["numberOfTests"]?.integerValue ?? -1), "\(file): every test ran")
            ran += total
            print("wycheproof \(file): \(total) tests, \(t.accepted) accepted, \(t.rejected) rejected, \(t.deviations) deviations")
        }
        print("wycheproof total: \(ran) tests, \(observed.count) deviations (each must be in the policy table)")
        let expected = Set(Self.deviations.keys)
        let got = Set(observed)
        for d in got.subtracting(expected).sorted(by: { ($0.file, $0.tcId) < ($1.file, $1.tcId) }) {
            XCTFail("unlisted deviation: \(d.file) tcId \(d.tcId) \(d.accepts ? "accepted" : "rejected")")
        }
        for d in expected.subtracting(got).sorted(by: { ($0.file, $0.tcId) < ($1.file, $1.tcId) }) {
            XCTFail("listed deviation did not occur: \(d.file) tcId \(d.tcId) (\(Self.deviations[d] ?? ""))")
        }
    }

    // MARK: primitive vectors

    private func algorithm(file: String, doc: JSONValue, group: JSONValue, schema: String) -> JWSAlgorithm? {
        let sha = group["sha"]?.stringValue ?? ""
        let bits = sha == "SHA-256" ? 256 : sha == "SHA-384" ? 384 : sha == "SHA-512" ? 512 : 0
        switch schema {
        case "ecdsa_p1363_verify_schema_v1.json":
            return [256: .es256, 384: .es384, 512: .es512][bits]
        case "rsassa_pkcs1_verify_schema_v1.json":
            return [256: .rs256, 384: .rs384, 512: .rs512][bits]
        case "rsassa_pss_verify_schema_v1.json":
            guard group["mgf"]?.stringValue == "MGF1", group["mgfSha"]?.stringValue == sha,
                  group["sLen"]?.integerValue == Int64(bits / 8) else { return nil }
            return [256: .ps256, 384: .ps384, 512: .ps512][bits]
        case "eddsa_verify_schema_v1.json":
            return .edDSA
        default:
            return nil
        }
    }

    private func runPrimitive(_ file: String, _ doc: JSONValue, schema: String) throws {
        for group in doc["testGroups"]?.elements ?? [] {
            guard let alg = algorithm(file: file, doc: doc, group: group, schema: schema) else {
                XCTFail("\(file): no JWS algorithm for schema \(schema)")
                continue
            }
            // The same key from every encoding the group carries.
            var keys: [(String, VerificationKey?)] = []
            if let pem = group["publicKeyPem"]?.stringValue {
                keys.append(("PEM", (try? KeyLoader.loadCertificates(pem))?.first))
            }
            if let der = group["publicKeyDer"]?.stringValue {
                keys.append(("DER", try? KeyLoader.loadDER(JOSETestSupport.hex(der))))
                keys.append(("base64 DER", (try? KeyLoader.loadCertificates(Base64URL.encode(JOSETestSupport.hex(der))))?.first))
            }
            if let jwk = group["publicKeyJwk"] ?? group["keyJwk"] {
                keys.append(("JWK", try? KeyLoader.loadJWK(jwk)))
            }
            XCTAssertGreaterThanOrEqual(keys.count, 3, "\(file): group has PEM and DER keys")
            for test in group["tests"]?.elements ?? [] {
                let tcId = Int(test["tcId"]?.integerValue ?? -1)
                let msg = JOSETestSupport.hex(test["msg"]?.stringValue ?? "")
                let sig = JOSETestSupport.hex(test["sig"]?.stringValue ?? "")
                let outcomes = keys.map { name, key in (name, key.map { JOSETestSupport.verify($0, alg, msg, sig) } ?? false) }
                let accepted = outcomes[0].1
                for (name, o) in outcomes where o != accepted {
                    XCTFail("\(file) tcId \(tcId): \(name) key gives \(o), PEM key \(accepted)")
                }
                record(file, tcId, result: test["result"]?.stringValue ?? "", accepted: accepted)
            }
        }
    }

    // MARK: JWS and JWK documents

    private func runJWS(_ file: String, _ doc: JSONValue) {
        for group in doc["testGroups"]?.elements ?? [] {
            let key = group["public"].flatMap { try? KeyLoader.loadJWK($0) }
            for test in group["tests"]?.elements ?? [] {
                let tcId = Int(test["tcId"]?.integerValue ?? -1)
                let token = test["jws"]?.stringValue ?? ""
                record(file, tcId, result: test["result"]?.stringValue ?? "",
                       accepted: JOSETestSupport.verifyToken(token, key: key))
            }
        }
    }

    private func runJWKS(_ file: String, _ doc: JSONValue) {
        for group in doc["testGroups"]?.elements ?? [] {
            let keys = group["public"].flatMap { try? KeyLoader.loadJWKS($0) } ?? []
            for test in group["tests"]?.elements ?? [] {
                let tcId = Int(test["tcId"]?.integerValue ?? -1)
                let token = test["jws"]?.stringValue ?? ""
                var accepted = false
                if let jws = try? JOSETestSupport.parse(token, payloadMustBeJSON: false) {
                    for k in keys where jws.kid == nil || k.kid == nil || k.kid == jws.kid {
                        if JOSETestSupport.verify(token, jws, k) { accepted = true }
                    }
                }
                record(file, tcId, result: test["result"]?.stringValue ?? "", accepted: accepted)
            }
        }
    }
}
