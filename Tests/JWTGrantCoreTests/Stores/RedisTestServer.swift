#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import JWTGrantCore

/// A redis-server of its own on 127.0.0.1 (a free port, data in a fresh
/// directory, append-only file fsynced on every write), stopped by its PID.
final class RedisTestServer {
    private(set) var pid: pid_t = 0
    let port: Int32
    let dir: String
    let password: String?

    init(_ test: XCTestCase, password: String? = nil) throws {
        dir = temporaryDirectory(test)
        port = try Self.freePort()
        self.password = password
        try start()
        // XCTest keeps test cases (and so this object) alive to the end of
        // the run: stop the server when the test ends, not in deinit.
        test.addTeardownBlock { [self] in stop() }
    }

    deinit { stop() }

    /// A loopback port nobody listens on right now.
    static func freePort() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard ok else { throw JWTGrantError(.internalError, "no free port") }
        return Int32(UInt16(bigEndian: a.sin_port))
    }

    var url: String { "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)" }
    var address: RedisAddress { try! RedisAddress(url: url) }

    func start() throws {
        var args = ["redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--dir", dir,
                    "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
                    "--loglevel", "warning", "--logfile", "\(dir)/redis.log", "--enable-debug-command", "local"]
        if let password { args += ["--requirepass", password] }
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Its output goes to /dev/null: a child holding the test runner's
        // stdout open would keep the runner's reader waiting.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var p = pid_t()
        guard posix_spawnp(&p, "redis-server", &actions, nil, &argv, environ) == 0 else {
            throw JWTGrantError(.internalError, "cannot start redis-server")
        }
        pid = p
        // Wait until it accepts connections (5 s at most).
        let deadline = monotonicSeconds() + 5
        while monotonicSeconds() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            a.sin_port = UInt16(port).bigEndian
            let ok = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if ok { return }
            usleep(20_000)
        }
        stop()
        throw JWTGrantError(.internalError, "redis-server did not start")
    }

    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var st: Int32 = 0
        waitpid(pid, &st, 0)
        pid = 0
    }

    /// Stops the server for `seconds` (it answers nothing meanwhile).
    func pause() { if pid > 0 { kill(pid, SIGSTOP) } }
    func resume() { if pid > 0 { kill(pid, SIGCONT) } }
}
