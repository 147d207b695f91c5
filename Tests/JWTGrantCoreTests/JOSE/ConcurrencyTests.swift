#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import JWTGrantCore

/// One VerificationKey used by many threads at once (the pool hands each
/// its own contexts): every good signature verifies, every bad one fails.
final class ConcurrencyTests: XCTestCase {
    final class Job: @unchecked Sendable {
        let key: VerificationKey
        let alg: JWSAlgorithm
        let msg: [UInt8]
        let sig: [UInt8]
        var wrong = 0
        init(key: VerificationKey, alg: JWSAlgorithm, msg: [UInt8], sig: [UInt8]) {
            self.key = key; self.alg = alg; self.msg = msg; self.sig = sig
        }
        func run() {
            var bad = sig
            bad[bad.count / 2] ^= 1
            for i in 0..<150 {
                let good = i % 2 == 0
                if JOSETestSupport.verify(key, alg, msg, good ? sig : bad) != good { wrong += 1 }
            }
        }
    }

    func testManyThreadsShareOneKey() throws {
        for alg in [JWSAlgorithm.rs256, .ps384, .es256, .edDSA] {
            let signing = try SigningKey.generate(alg)
            let msg = Array("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0".utf8)
            let sig = try msg.withUnsafeBytes { try signing.sign($0) }
            let jobs = (0..<8).map { _ in Job(key: signing.verificationKey, alg: alg, msg: msg, sig: sig) }
            var threads: [pthread_t] = []
            for job in jobs {
                var t = pthread_t()
                let box = Unmanaged.passRetained(job).toOpaque()
                XCTAssertEqual(pthread_create(&t, nil, { arg in
                    let j = Unmanaged<Job>.fromOpaque(arg!).takeRetainedValue()
                    j.run()
                    return nil
                }, box), 0)
                threads.append(t)
            }
            for t in threads { pthread_join(t, nil) }
            XCTAssertEqual(jobs.map(\.wrong), [Int](repeating: 0, count: 8), alg.rawValue)
        }
    }
}
