#if canImport(Glibc)
import Glibc
#endif
import CJOSEJSON
import XCTest
@testable import JWTGrantCore

/// simdjson (the hot path's reader) against jansson (the boundary's): every
/// header and claims set of the test suites, the Wycheproof JWS tokens and
/// 120,000 seeded mutations must get the same verdict and the same values.
final class JSONDifferentialTests: XCTestCase {
    private func check(_ doc: [UInt8], _ label: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        if let d = doc.withUnsafeBytes({ JSONDifferential.disagreement($0) }) {
            XCTFail("\(label()): \(d); document (hex) \(doc.map { String($0, radix: 16) }.joined(separator: " "))",
                    file: file, line: line)
        }
    }

    private func status(_ text: String) -> Int32 {
        var t = text
        return t.withUTF8 { b in
            switch JOSEObject.parse(UnsafeRawBufferPointer(b)) {
            case .success: return 0
            case .failure(let e): return e.status
            }
        }
    }

    // MARK: the documented differences, closed

    func testWhereSimdjsonAloneWouldAcceptTheShimRefuses() {
        XCTAssertEqual(status(#"{"a":"x\u0000y"}"#), Int32(JOSEJSON_ENUL.rawValue))
        XCTAssertEqual(status(#"{"a\u0000":1}"#), Int32(JOSEJSON_ENUL.rawValue))
        XCTAssertEqual(status(#"{"a":[{"b":"\u0000"}]}"#), Int32(JOSEJSON_ENUL.rawValue))
        XCTAssertEqual(status(#"{"a":9223372036854775808}"#), Int32(JOSEJSON_EINTEGER.rawValue))
        XCTAssertEqual(status(#"{"a":[18446744073709551615]}"#), Int32(JOSEJSON_EINTEGER.rawValue))
        XCTAssertEqual(status(#"{"a":1,"a":1}"#), Int32(JOSEJSON_EDUPLICATE.rawValue))
        XCTAssertEqual(status(#"{"a":{"b":{"c":1,"c":2}}}"#), Int32(JOSEJSON_EDUPLICATE.rawValue))
        XCTAssertEqual(status(#"{"a":[{"x":1},{"y":1,"y":1}]}"#), Int32(JOSEJSON_EDUPLICATE.rawValue))
        XCTAssertEqual(status(#"{"é":1,"\u00e9":2}"#), Int32(JOSEJSON_EDUPLICATE.rawValue), "names compare unescaped")
        XCTAssertEqual(status(#"{"a":9223372036854775807,"b":-9223372036854775808}"#), 0)
        for text in [#"{"a":"x\u0000y"}"#, #"{"a":9223372036854775808}"#, #"{"a":1,"a":1}"#, #"{"é":1,"\u00e9":2}"#] {
            check(Array(text.utf8), text)
        }
    }

    func testWhatBothRefuse() {
        let refused: [[UInt8]] = [
            Array(#"{"a":"\ud800"}"#.utf8), Array(#"{"a":"\udc00x"}"#.utf8), Array(#"{"a":01}"#.utf8),
            Array(#"{"a":1,}"#.utf8), Array(#"{"a":[1,]}"#.utf8), Array(#"{} {}"#.utf8), Array(#"{}x"#.utf8),
            Array(#"{"a":1e400}"#.utf8), Array(#"{"a":-1e400}"#.utf8), Array("{\"a\":\"tab\t\"}".utf8),
            [0xEF, 0xBB, 0xBF] + Array("{}".utf8), Array(#"{"a":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8),
            Array(#"{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),
            Array(#"{"a":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}"#.utf8),
            Array(#"{"a":""#.utf8) + [0x80] + Array(#""}"#.utf8), Array("".utf8), Array("  ".utf8),
            Array(#"{"a":123456789012345678901234567890}"#.utf8), Array(#"{"a":-9223372036854775809}"#.utf8),
            Array(#"{"a":NaN}"#.utf8), Array(#"{'a':1}"#.utf8), Array(#"{"a":1"#.utf8),
        ]
        for doc in refused {
            XCTAssertNotEqual(doc.withUnsafeBytes { (try? JOSEObject.parse($0).get()) == nil }, false,
                              "accepted: \(String(decoding: doc, as: UTF8.self))")
            check(doc, String(decoding: doc, as: UTF8.self))
        }
    }

    func testNulAfterANumberWhichJanssonDropsIsRefused() {
        // jansson's look-ahead drops it (see JSONDifferential.janssonNulQuirk).
        let doc = Array(#"{"exp":17"#.utf8) + [0] + Array(#","t":true"#.utf8) + [0] + Array("}".utf8)
        XCTAssertEqual(doc.withUnsafeBytes { b -> Bool in (try? JOSEObject.parse(b).get()) == nil }, true)
        check(doc, "NUL after a number and a literal")
        XCTAssertNotNil(doc.withUnsafeBytes { JSONDifferential.janssonNulQuirk($0) } as String??)
    }

    func testRegisteredNamesAreFoundWithoutASearch() throws {
        func object(_ text: String) throws -> JOSEObject { try JOSEObject.parseObject(text, what: "test") }
        let all = try object(#"{"x":0,"alg":"RS256","kid":"k","crit":["a"],"b64":false,"iss":"i","sub":"s","aud":["a","b"],"# +
                             #""exp":1,"nbf":2.5,"iat":3,"jti":"j","_issuer_name":"n","z":null}"#)
        XCTAssertEqual(JOSEName.all.count, Int(JOSEJSON_NAME_COUNT.rawValue))
        for (k, name) in JOSEName.all.enumerated() {
            let text = name.text.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
            XCTAssertEqual(all.index(of: name), k + 1, text)
            XCTAssertEqual(all.index(of: name), all.index(of: text), text)
            XCTAssertTrue(all.has(name), text)
        }
        XCTAssertEqual(all[.alg]?.stringValue, "RS256")
        XCTAssertEqual(all[.aud]?.elements.count, 2)
        XCTAssertEqual(all[.nbf]?.numberValue, 2.5)
        XCTAssertEqual(all[.b64]?.boolValue, false)
        // Absent, nested, near misses and other roots: nothing registered.
        let near = try object(#"{"is":1,"isss":1,"ISS":1,"Iss":1,"_issuer_nam":1,"_issuer_namE":1,"cri":1,"critt":1,"# +
                              #""a":{"iss":"nested","exp":1},"b":[{"sub":"s"}]}"#)
        let empty = try object("{}")
        for name in JOSEName.all {
            XCTAssertNil(near[name]); XCTAssertFalse(near.has(name))
            XCTAssertNil(empty[name]); XCTAssertNil(JOSEObject.null[name])
            for root in [#"["iss","exp"]"#, #""iss""#, "1", "null"] {
                var t = root
                let o = try t.withUTF8 { try JOSEObject.parse(UnsafeRawBufferPointer($0)).get() }
                XCTAssertNil(o[name], root)
            }
        }
        // Names compare unescaped: "\u0069ss" is iss; the value is the member's.
        let escaped = try object(#"{"sub":"s","\u0069ss":"i","\u005fissuer_name":7}"#)
        XCTAssertEqual(escaped[.iss]?.stringValue, "i")
        XCTAssertEqual(escaped.index(of: .iss), 1)
        XCTAssertEqual(escaped[.issuerName]?.integerValue, 7)
        XCTAssertEqual(escaped[.sub]?.stringValue, "s")
        // Past the 16 members whose names the walk keeps for the duplicate check.
        let many = try object("{" + (0..<40).map { #""m\#($0)":\#($0)"# }.joined(separator: ",") + #","jti":"last"}"#)
        XCTAssertEqual(many.index(of: .jti), 40)
        XCTAssertEqual(many[.jti]?.stringValue, "last")
        XCTAssertNil(many[.iss])
    }

    func testNestingIsCappedAt32() {
        func nested(_ levels: Int) -> String {
            #"{"a":"# + String(repeating: "[", count: levels - 1) + "1" + String(repeating: "]", count: levels - 1) + "}"
        }
        XCTAssertEqual(status(nested(32)), 0)
        XCTAssertEqual(status(nested(33)), Int32(JOSEJSON_EDEPTH.rawValue))
        XCTAssertEqual(status(nested(2000)), Int32(JOSEJSON_EDEPTH.rawValue))
        for n in [31, 32, 33, 100] { check(Array(nested(n).utf8), "depth \(n)") }
    }

    func testValuesAreHandedOutAsJanssonReadsThem() throws {
        let text = #"{"s":"a\"b\\c\/d\u00e9\ud83d\ude00","i":-42,"r":1.5e3,"z":-0.0,"t":true,"f":false,"n":null,"#
            + #""aud":["x","",7,[1,2],{"k":1}],"o":{"p":{}},"e":[]}"#
        check(Array(text.utf8), "values")
        let o = try JOSEObject.parseObject(text, what: "doc")
        XCTAssertEqual(o.keys, ["s", "i", "r", "z", "t", "f", "n", "aud", "o", "e"])
        XCTAssertEqual(o["s"]?.stringValue, "a\"b\\c/dé😀")
        XCTAssertEqual(o["i"]?.integerValue, -42)
        XCTAssertEqual(o["i"]?.numberValue, -42)
        XCTAssertEqual(o["r"]?.numberValue, 1500)
        XCTAssertNil(o["r"]?.integerValue)
        XCTAssertEqual(o["z"]?.numberValue?.sign, .minus)
        XCTAssertEqual(o["t"]?.boolValue, true)
        XCTAssertEqual(o["f"]?.boolValue, false)
        XCTAssertEqual(o["n"]?.isNull, true)
        XCTAssertEqual(o["aud"]?.elements.map { $0.stringValue }, ["x", "", nil, nil, nil])
        XCTAssertEqual(o["aud"]?.elements[3].count, 2)
        XCTAssertEqual(o["aud"]?.elements[3].elements.count, 0, "nested arrays keep no elements")
        XCTAssertEqual(o["o"]?.count, 1)
        XCTAssertEqual(o["e"]?.elements.count, 0)
        XCTAssertTrue(o["s"]?.stringEquals("a\"b\\c/dé😀") ?? false)
        XCTAssertFalse(o["s"]?.stringEquals("a\"b\\c/de😀") ?? true)
        XCTAssertNil(o["missing"])
        XCTAssertFalse(o.has("S"))
    }

    func testLargeDocumentsAndManyMembers() {
        // Over the per-thread parser's capacity: a parser of its own.
        var big = #"{"pad":""# + String(repeating: "x", count: 100_000) + #"","a":1}"#
        XCTAssertEqual(status(big), 0)
        big = #"{"a":1,"pad":""# + String(repeating: "x", count: 100_000) + #"","a":2}"#
        XCTAssertEqual(status(big), Int32(JOSEJSON_EDUPLICATE.rawValue))
        // Many members: the sorted duplicate check.
        let members = (0..<3000).map { #""m\#($0)":\#($0)"# }
        XCTAssertEqual(status("{" + members.joined(separator: ",") + "}"), 0)
        XCTAssertEqual(status("{" + members.joined(separator: ",") + #","m1234":0}"#), Int32(JOSEJSON_EDUPLICATE.rawValue))
        check(Array(("{" + members.joined(separator: ",") + #","m1234":0}"#).utf8), "3000 members")
        // Past the hard limit.
        let huge = [UInt8](repeating: 0x20, count: Int(JOSEJSON_MAX_LENGTH) + 1)
        XCTAssertEqual(huge.withUnsafeBytes { b -> Int32 in
            if case .failure(let e) = JOSEObject.parse(b) { return e.status }
            return 0
        }, Int32(JOSEJSON_ETOOLARGE.rawValue))
    }

    // MARK: the corpus

    /// Every header and claims set the suites use: the Wycheproof JWS
    /// tokens, documents minted by the Swift fixtures, the Python suite's
    /// tokens and the fuzz seeds (Fixtures/json_corpus.txt, base64url lines).
    static func corpus() throws -> [(String, [UInt8])] {
        var docs: [(String, [UInt8])] = []
        func addToken(_ label: String, _ token: String) {
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3 else { return }
            for (k, p) in parts.prefix(2).enumerated() {
                if let d = Base64URL.decode(String(p)) { docs.append(("\(label) segment \(k)", d)) }
            }
        }
        guard let dir = JOSETestSupport.wycheproofDirectory else {
            throw JWTGrantError(.notFound, "Wycheproof vectors not found")
        }
        for name in JOSETestSupport.listDirectory(dir) where name.hasSuffix(".json") {
            let doc = try JOSETestSupport.loadJSON(dir + "/" + name)
            for group in doc["testGroups"]?.elements ?? [] {
                for test in group["tests"]?.elements ?? [] {
                    if let jws = test["jws"]?.stringValue { addToken("\(name) tcId \(test["tcId"]?.integerValue ?? -1)", jws) }
                }
            }
        }
        for alg in [JWSAlgorithm.rs256, .es256, .edDSA] {
            let idp = try TestIssuer("corpus", alg: alg, alias: "https://alias.example.com")
            addToken("fixture \(alg.rawValue)", try idp.mint())
            addToken("fixture \(alg.rawValue) aud array", try idp.mint(["aud": .string("x"), "nbf": .real(1.5)], header: ["cty": .string("JWT")]))
            docs.append(("registration", Array(idp.registrationJSON.utf8)))
        }
        let path = JOSETestSupport.packageRoot + "/Tests/JWTGrantCoreTests/Fixtures/json_corpus.txt"
        guard let text = JOSETestSupport.readFile(path) else { throw JWTGrantError(.notFound, "cannot read \(path)") }
        for (n, line) in text.split(separator: 0x0A).enumerated() {
            guard let d = Array(line).withUnsafeBytes({ Base64URL.decode($0) }) else { continue }
            docs.append(("json_corpus.txt line \(n + 1)", d))
        }
        return docs
    }

    func testCorpusAgrees() throws {
        let docs = try Self.corpus()
        XCTAssertGreaterThan(docs.count, 1000, "the corpus is the suites' documents")
        var accepted = 0
        for (label, d) in docs {
            check(d, label)
            if d.withUnsafeBytes({ (try? JOSEObject.parse($0).get()) != nil }) { accepted += 1 }
        }
        XCTAssertGreaterThan(accepted, docs.count / 2)
    }

    func testSeededMutationsAgree() throws {
        let docs = try Self.corpus().map { $0.1 }.filter { $0.count < 4096 }
        var r = SeededRandom(state: 0x6A77_7467_7261_6E74)
        let total = 120_000
        var accepted = 0, failures = 0
        var statuses: [Int32: Int] = [:]
        for n in 0..<total {
            let doc = JSONMutator.mutate(docs[n % docs.count], &r)
            if let d = doc.withUnsafeBytes({ JSONDifferential.disagreement($0) }) {
                failures += 1
                if failures <= 10 {
                    XCTFail("mutation \(n): \(d); document (hex) \(doc.map { String($0, radix: 16) }.joined(separator: " "))")
                }
            }
            doc.withUnsafeBytes { b in
                switch JOSEObject.parse(b) {
                case .success: accepted += 1
                case .failure(let e): statuses[e.status, default: 0] += 1
                }
            }
        }
        XCTAssertEqual(failures, 0)
        // Every gap the shim closes, and the common refusals, were reached.
        for s in [JOSEJSON_ENUL, JOSEJSON_EINTEGER, JOSEJSON_EDUPLICATE, JOSEJSON_EDEPTH, JOSEJSON_ESYNTAX,
                  JOSEJSON_EUTF8, JOSEJSON_ENUMBER, JOSEJSON_ESTRING] {
            XCTAssertGreaterThan(statuses[Int32(s.rawValue), default: 0], 50, "status \(s.rawValue) reached")
        }
        // Both verdicts are well exercised.
        XCTAssertGreaterThan(accepted, total / 10)
        XCTAssertLessThan(accepted, total * 9 / 10)
    }

    func testThreadsParseIndependently() {
        let docs = (0..<8).map { i in Array(#"{"t":\#(i),"s":"\#(String(repeating: "v", count: i * 3000))"}"#.utf8) }
        let bad = Locked(0)
        DispatchLikeThreads.run(8) { t in
            for _ in 0..<2000 {
                let ok = docs[t].withUnsafeBytes { b -> Bool in
                    guard case .success(let o) = JOSEObject.parse(b) else { return false }
                    return o["t"]?.integerValue == Int64(t) && o["s"]?.withStringBytes({ $0.count }) == t * 3000
                }
                if !ok { bad.withLock { $0 += 1 } }
            }
        }
        XCTAssertEqual(bad.withLock { $0 }, 0)
    }
}

/// Plain pthreads (no Foundation): runs `body(i)` on `n` threads and joins.
enum DispatchLikeThreads {
    final class Box { let body: (Int) -> Void; let i: Int; init(_ b: @escaping (Int) -> Void, _ i: Int) { body = b; self.i = i } }
    static func run(_ n: Int, _ body: @escaping (Int) -> Void) {
        var threads: [pthread_t] = []
        for i in 0..<n {
            var t = pthread_t()
            let box = Unmanaged.passRetained(Box(body, i)).toOpaque()
            pthread_create(&t, nil, { p in
                let b = Unmanaged<Box>.fromOpaque(p!).takeRetainedValue()
                b.body(b.i)
                return nil
            }, box)
            threads.append(t)
        }
        for t in threads { pthread_join(t, nil) }
    }
}
