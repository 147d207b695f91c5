import XCTest
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
@testable import JWTGrantCore

/// Two threads verify while a third registers and removes issuers. Run under
/// ThreadSanitizer and AddressSanitizer by scripts/test (JWTGRANT_SANITIZERS=1).
final class StressTests: XCTestCase {
    func testVerifyWhileRegisteringAndRemoving() throws {
        let stable = try TestIssuer("stable")
        let churn = try TestIssuer("churn")
        let server = try AuthorizationServer.forTests(issuers: [stable])
        let stableToken = try stable.mint()
        let churnToken = try churn.mint()
        let wrong = Atomic<Int>(0)
        let churnAccepted = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let rounds = 300

        // Real threads: all three must run at once (Dispatch would run only
        // as many as there are cores, and the verifiers wait for the third).
        runThreads(3) { worker in
            if worker == 2 {
                for _ in 0..<rounds {
                    do {
                        try server.registerIssuer(json: churn.registrationJSON)
                        _ = server.listIssuers()
                        try server.removeIssuer(name: "churn")
                    } catch {
                        wrong.add(1, ordering: .relaxed)
                    }
                }
                done.store(true, ordering: .releasing)
                return
            }
            var n = 0
            while !done.load(ordering: .acquiring) || n < 50 {
                n += 1
                // The stable issuer is always accepted.
                if (try? server.verify(stableToken)) == nil { wrong.add(1, ordering: .relaxed) }
                // The churning issuer is accepted or untrusted, never anything else.
                do {
                    let claims = try server.verify(churnToken)
                    if claims["_issuer_name"]?.stringValue != "churn" { wrong.add(1, ordering: .relaxed) }
                    churnAccepted.add(1, ordering: .relaxed)
                } catch let e as JWTGrantError where e.code == .untrustedIssuer {
                } catch {
                    wrong.add(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertEqual(wrong.load(ordering: .relaxed), 0)
        XCTAssertThrowsError(try server.verify(churnToken), "removed at the end")
        XCTAssertNoThrow(try server.verify(stableToken))
    }
}

/// Runs `body(i)` on `count` new pthreads at once and joins them.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable (Int) -> Void
        let index: Int
        init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) { self.body = body; self.index = index }
    }
    var threads: [pthread_t] = []
    for i in 0..<count {
        var t = pthread_t()
        let box = Unmanaged.passRetained(Box(body, i)).toOpaque()
        let rc = pthread_create(&t, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body(box.index)
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed")
        threads.append(t)
    }
    for t in threads { pthread_join(t, nil) }
}
