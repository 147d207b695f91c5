#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import JWTGrantCore

/// Runs Fixtures/jwks_server.py on 127.0.0.1 (a free port) for one test.
final class JWKSTestServer {
    let pid: pid_t
    let port: Int
    let scheme: String
    private var stopped = false

    /// The Fixtures directory, with a trailing slash.
    static let fixtures = String(#filePath.dropLast("Issuers/JWKSTestServer.swift".count)) + "Fixtures/"

    /// - Parameter tls: serve https with Fixtures/<tls>.{crt,key} ("tls_localhost").
    init(tls: String? = nil) throws {
        let script = Self.fixtures + "jwks_server.py"
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw XCTSkip("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let args = ["python3", "-u", script]
            + (tls.map { ["--tls", Self.fixtures + $0 + ".crt", Self.fixtures + $0 + ".key"] } ?? [])
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var p = pid_t()
        let rc = posix_spawnp(&p, "python3", &actions, nil, &argv, environ)
        close(fds[1])
        guard rc == 0 else { close(fds[0]); throw XCTSkip("cannot start python3: \(rc)") }
        pid = p
        // Read the port line (5 s at most).
        var line: [UInt8] = []
        let deadline = monotonicSeconds() + 5
        var byte: UInt8 = 0
        while monotonicSeconds() < deadline {
            var pfd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) > 0 else { continue }
            guard read(fds[0], &byte, 1) == 1 else { break }
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        close(fds[0])
        guard let n = Int(String(decoding: line, as: UTF8.self)), n > 0 else {
            kill(p, SIGKILL); var st: Int32 = 0; waitpid(p, &st, 0)
            throw XCTSkip("test server did not report a port")
        }
        port = n
        scheme = tls == nil ? "http" : "https"
    }

    func url(_ path: String) -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    /// Sets the state of /state/<id> through the server itself.
    func set(_ id: String, _ query: String) {
        let r = CurlJWKSFetcher().fetch(url: url("/set/\(id)?\(query)"), options: JWKSEndpointOptions())
        if case .response(200, _, _) = r { return }
        XCTFail("could not set server state: \(summary(r))")
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGKILL)
        var st: Int32 = 0
        waitpid(pid, &st, 0)
    }

    deinit { stop() }
}

/// A monotonic clock the test moves by hand.
final class ManualClock: Sendable {
    private let t = Locked<Double>(10_000)
    func now() -> Double { t.withLock { $0 } }
    func advance(_ s: Double) { t.withLock { $0 += s } }
}

/// Counts the fetches that reach the network.
final class CountingFetcher: JWKSFetcher {
    private let inner: any JWKSFetcher
    private let n = Locked<Int>(0)
    init(_ inner: any JWKSFetcher = CurlJWKSFetcher()) { self.inner = inner }
    var count: Int { n.withLock { $0 } }
    func fetch(url: String, options: JWKSEndpointOptions) -> JWKSFetchResult {
        n.withLock { $0 += 1 }
        return inner.fetch(url: url, options: options)
    }
}

/// The trivial key of these tests: a kid.
struct TestKey: Sendable, Equatable { let kid: String? }

let parseTestKeys: RemoteKeySet<TestKey>.Parse = { (doc: JSONValue) throws(JWTGrantError) -> [TestKey] in
    guard let keys = doc["keys"] else { throw JWTGrantError(.badKey, "no keys") }
    return keys.elements.map { TestKey(kid: $0["kid"]?.stringValue) }
}

func makeKeySet(_ url: String, options: JWKSEndpointOptions = JWKSEndpointOptions(),
                fetcher: any JWKSFetcher, clock: ManualClock? = nil) throws -> RemoteKeySet<TestKey> {
    if let clock {
        return try RemoteKeySet(url: url, options: options, fetcher: fetcher, parse: parseTestKeys,
                                kidOf: { $0.kid.map(Identifier.init) }, now: { clock.now() })
    }
    return try RemoteKeySet(url: url, options: options, fetcher: fetcher, parse: parseTestKeys,
                            kidOf: { $0.kid.map(Identifier.init) })
}

/// The error a throwing call produced, or nil.
func caught<T>(_ body: () throws -> T) -> JWTGrantError? {
    do { _ = try body(); return nil }
    catch let e as JWTGrantError { return e }
    catch { return JWTGrantError(.internalError, "unexpected error type: \(error)") }
}

/// Polls `cond` up to `seconds`.
func eventually(_ seconds: Double, _ cond: () -> Bool) -> Bool {
    let end = monotonicSeconds() + seconds
    while monotonicSeconds() < end {
        if cond() { return true }
        usleep(10_000)
    }
    return cond()
}

/// Runs `body(i)` on `n` new pthreads at once (all released together) and joins them.
func runOnThreads(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Gate: Sendable { let open = Locked<Bool>(false) }
    final class Job: Sendable {
        let i: Int
        let run: @Sendable (Int) -> Void
        init(_ i: Int, _ run: @escaping @Sendable (Int) -> Void) { self.i = i; self.run = run }
    }
    let gate = Gate()
    var threads: [pthread_t] = []
    for i in 0..<n {
        let job = Unmanaged.passRetained(Job(i) { i in
            while !gate.open.withLock({ $0 }) { usleep(100) }
            body(i)
        }).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { p in
            guard let p else { return nil }
            let job = Unmanaged<Job>.fromOpaque(p).takeRetainedValue()
            job.run(job.i)
            return nil
        }, job)
        XCTAssertEqual(rc, 0)
        if rc == 0 { threads.append(t) } else { Unmanaged<Job>.fromOpaque(job).release() }
    }
    gate.open.withLock { $0 = true }
    for t in threads { pthread_join(t, nil) }
}

/// A fetch result for a failure message (a body is summarised, not dumped).
func summary(_ r: JWKSFetchResult) -> String {
    switch r {
    case .response(let status, let body, let maxAge):
        return "response \(status), \(body.count) bytes, max-age \(maxAge.map(String.init) ?? "none")"
    case .failure(let reason): return "failure: \(reason)"
    case .deferred: return "deferred"
    }
}
