#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import JWTGrantCore

/// `CompactJWS.parse` with the validator's header cache must give exactly
/// what it gives without: the same header, alg, kid and offsets for an
/// accepted header, the same error for a refused one, whatever came before.
final class HeaderCacheTests: XCTestCase {
    private static func seg(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }
    private static let sig = Base64URL.encode([UInt8](repeating: 7, count: 64))
    private static let claims = seg(#"{"iss":"a","sub":"b"}"#)

    /// What a parse came to, comparable: the error, or every field of the result.
    private static func outcome(_ token: String, _ cache: HeaderCache?) -> String {
        var t = token
        return t.withUTF8 { buf -> String in
            let bytes = UnsafeRawBufferPointer(buf)
            do throws(JWTGrantError) {
                let jws: CompactJWS
                if let cache {
                    jws = try CompactJWS.parse(bytes, maxLength: CompactJWS.defaultMaxLength, headers: cache)
                } else {
                    jws = try CompactJWS.parse(bytes)
                }
                let members = jws.header.members.map { m in
                    "\(m.name)=\(m.value.stringValue ?? m.value.numberValue.map { "\($0)" } ?? "kind \(m.value.kind)")"
                }
                return "ok alg=\(jws.algorithm.rawValue) kid=\(jws.kid.map { "\($0.bytes)" } ?? "nil") "
                    + "header=\(members) lengths=\(jws.headerLength),\(jws.signingInputLength) "
                    + "sub=\(jws.payload[.sub]?.stringValue ?? "nil") sig=\(jws.signature.count)"
            } catch {
                return "error \(error.code) \(error.reason)"
            }
        }
    }

    private static let headers = [
        #"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
        #"{"alg":"RS256","kid":"k2","typ":"JWT"}"#,             // same length, one byte apart
        #"{"alg":"ES256","kid":"k1","typ":"JWT"}"#,
        #"{"alg":"RS256"}"#,
        #"{"alg":"RS256","kid":""}"#,
        #"{"alg":"none","kid":"k1","typ":"JWT"}"#,              // refused: alg
        #"{"alg":"RS256","kid":7,"typ":"JWT"}"#,                // refused: kid not a string
        #"{"alg":"RS256","crit":["x"]}"#,                       // refused: crit
        #"{"alg":"RS256","alg":"RS256"}"#,                      // refused: duplicate
        #"["alg","RS256"]"#,                                    // refused: not an object
    ]

    private static func tokens() -> [String] {
        var out = headers.map { seg($0) + "." + claims + "." + sig }
        out.append("e30" + "." + claims + "." + sig)                // {} : no alg
        out.append("eyJhbGciOiJSUzI1NiJ9!" + "." + claims + "." + sig)  // not base64url
        out.append(seg(headers[0]) + "." + claims + ".")            // empty signature, header fine
        out.append(seg(headers[0]) + "." + seg("[1]") + "." + sig)  // payload refused, header fine
        return out
    }

    func testSameOutcomeAsWithoutInEveryOrder() {
        let tokens = Self.tokens()
        let expected = tokens.map { Self.outcome($0, nil) }
        XCTAssertEqual(Set(expected).count, tokens.count, "every token has an outcome of its own")
        let cache = HeaderCache()
        var seed: UInt64 = 42
        for step in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            // Runs of one token and random jumps between them.
            let i = step % 7 < 3 ? (step / 7) % tokens.count : Int(seed >> 33) % tokens.count
            XCTAssertEqual(Self.outcome(tokens[i], cache), expected[i], "step \(step): token \(i)")
        }
    }

    func testOnlyAcceptedHeadersAreKeptAndReused() throws {
        let cache = HeaderCache()
        let good = Array(Self.seg(Self.headers[0]).utf8), other = Array(Self.seg(Self.headers[1]).utf8)
        let refused = Array(Self.seg(Self.headers[5]).utf8)
        func lookup(_ s: [UInt8]) -> HeaderCache.Parsed? { s.withUnsafeBytes { cache.lookup($0) } }
        func parse(_ s: [UInt8]) throws -> CompactJWS {
            let token = s + Array(("." + Self.claims + "." + Self.sig).utf8)
            return try token.withUnsafeBytes { b throws(JWTGrantError) in
                try CompactJWS.parse(b, maxLength: CompactJWS.defaultMaxLength, headers: cache)
            }
        }
        XCTAssertNil(lookup(good))
        XCTAssertThrowsError(try parse(refused))
        XCTAssertNil(lookup(refused), "a refused header is not kept")
        let first = try parse(good)
        XCTAssertTrue(lookup(good)?.header === first.header, "an accepted header is kept")
        XCTAssertNil(lookup(other), "another header (same length, one byte apart) is not it")
        XCTAssertNil(lookup(Array(good.dropLast())), "a prefix is not it")
        let second = try parse(good)
        XCTAssertTrue(second.header === first.header, "the same segment reuses the parsed header")
        XCTAssertEqual(second.kid, "k1")
        let third = try parse(other)
        XCTAssertFalse(third.header === first.header)
        XCTAssertEqual(third.kid, "k2")
        XCTAssertNil(lookup(good), "one header per stripe: the newer replaced it")
        XCTAssertThrowsError(try parse(refused))
        XCTAssertTrue(lookup(other)?.header === third.header, "a refused header leaves the entry as it was")
    }

    func testLongHeadersAreNotKept() throws {
        let cache = HeaderCache()
        func parse(_ header: String) throws -> CompactJWS {
            let token = Array((Self.seg(header) + "." + Self.claims + "." + Self.sig).utf8)
            return try token.withUnsafeBytes { b throws(JWTGrantError) in
                try CompactJWS.parse(b, maxLength: CompactJWS.defaultMaxLength, headers: cache)
            }
        }
        // Base64url of {"alg":"RS256","kid":"<n x>"} is exactly maxSegment
        // characters for one n, one more for n + 1 (lengths grow by 4 per 3 bytes).
        func header(_ n: Int) -> String { #"{"alg":"RS256","kid":""# + String(repeating: "x", count: n) + #""}"# }
        var n = 0
        while Self.seg(header(n)).utf8.count < HeaderCache.maxSegment { n += 1 }
        let atLimit = header(n), over = header(n + 3)
        XCTAssertEqual(Self.seg(atLimit).utf8.count, HeaderCache.maxSegment)
        XCTAssertGreaterThan(Self.seg(over).utf8.count, HeaderCache.maxSegment)
        let a = try parse(atLimit), b = try parse(atLimit)
        XCTAssertTrue(a.header === b.header, "a segment of maxSegment bytes is kept")
        let c = try parse(over), d = try parse(over)
        XCTAssertFalse(c.header === d.header, "a longer segment is parsed every time")
        XCTAssertEqual(d.kid, Identifier(String(repeating: "x", count: n + 3)))
        XCTAssertEqual(Self.outcome(Self.seg(over) + "." + Self.claims + "." + Self.sig, cache),
                       Self.outcome(Self.seg(over) + "." + Self.claims + "." + Self.sig, nil))
    }

    private final class Job: @unchecked Sendable {
        let cache: HeaderCache, tokens: [String], expected: [String], offset: Int
        var wrong = 0
        init(cache: HeaderCache, tokens: [String], expected: [String], offset: Int) {
            self.cache = cache; self.tokens = tokens; self.expected = expected; self.offset = offset
        }
        func run() {
            for k in 0..<3000 {
                let i = (k / (1 + offset) + offset) % tokens.count
                if HeaderCacheTests.outcome(tokens[i], cache) != expected[i] { wrong += 1 }
            }
        }
    }

    func testThreadsSharingOneCacheGetTheirOwnHeaders() {
        let tokens = Self.tokens()
        let expected = tokens.map { Self.outcome($0, nil) }
        let cache = HeaderCache()
        let jobs = (0..<8).map { Job(cache: cache, tokens: tokens, expected: expected, offset: $0) }
        var threads: [pthread_t] = []
        for job in jobs {
            var t = pthread_t()
            let box = Unmanaged.passRetained(job).toOpaque()
            XCTAssertEqual(pthread_create(&t, nil, { arg in
                Unmanaged<Job>.fromOpaque(arg!).takeRetainedValue().run()
                return nil
            }, box), 0)
            threads.append(t)
        }
        for t in threads { pthread_join(t, nil) }
        XCTAssertEqual(jobs.map(\.wrong), [Int](repeating: 0, count: 8))
    }
}
