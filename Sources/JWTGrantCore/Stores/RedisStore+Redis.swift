import CHiredis
#if canImport(Glibc)
import Glibc
#endif

/// A Redis reply, copied out of hiredis.
enum RedisReply {
    case status(String)
    case error(String)
    case integer(Int64)
    case string([UInt8])
    case null
    case array([RedisReply])

    init(_ r: UnsafeMutablePointer<redisReply>) {
        switch r.pointee.type {
        case REDIS_REPLY_STATUS:
            self = .status(r.pointee.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_ERROR:
            self = .error(r.pointee.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(r.pointee.integer))
        case REDIS_REPLY_STRING:
            let n = Int(r.pointee.len)
            self = .string(r.pointee.str.map { Array(UnsafeRawBufferPointer(start: $0, count: n)) } ?? [])
        case REDIS_REPLY_ARRAY:
            var out: [RedisReply] = []
            if let e = r.pointee.element {
                for i in 0..<Int(r.pointee.elements) { if let p = e[i] { out.append(RedisReply(p)) } }
            }
            self = .array(out)
        default:
            self = .null
        }
    }
}

/// One hiredis connection (`redisContext *`, not thread-safe: the store's
/// pool hands it to one thread at a time). Freed in deinit.
final class RedisConnection {
    private let ctx: UnsafeMutablePointer<redisContext>
    let label: String
    let commandTimeoutMs: Int

    init(address: RedisAddress, options: StoreOptions, label: String) throws(JWTGrantError) {
        self.label = label
        self.commandTimeoutMs = options.commandTimeoutMs
        let connect = timeval(tv_sec: options.connectTimeoutMs / 1000, tv_usec: (options.connectTimeoutMs % 1000) * 1000)
        guard let c = redisConnectWithTimeout(address.host, address.port, connect) else {
            throw JWTGrantError(.outOfMemory, "\(label): out of memory for a connection")
        }
        if c.pointee.err != 0 {
            let why = Self.errorText(c)
            redisFree(c)
            throw JWTGrantError(.unavailable, "\(label): cannot connect: \(why)")
        }
        ctx = c
        let commandTimeout = timeval(tv_sec: options.commandTimeoutMs / 1000, tv_usec: (options.commandTimeoutMs % 1000) * 1000)
        guard redisSetTimeout(c, commandTimeout) == REDIS_OK else {
            throw JWTGrantError(.unavailable, "\(label): cannot set the command timeout: \(Self.errorText(c))")
        }
        if let password = address.password {
            // The server's answer is not quoted: only whether it accepted.
            if case .status = try command([Array("AUTH".utf8), Array(password.utf8)], "authenticating") {} else {
                throw JWTGrantError(.storeFailure, "\(label): the server refused the password")
            }
        }
        if address.database != 0 {
            let reply = try command([Array("SELECT".utf8), Array(String(address.database).utf8)], "selecting the database")
            if case .error(let e) = reply {
                throw JWTGrantError(.storeFailure, "\(label): cannot select database \(address.database): \(printable(e, limit: 120))")
            }
        }
    }

    deinit { redisFree(ctx) }

    private static func errorText(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { buf in
            let b = buf.bindMemory(to: UInt8.self)
            let n = b.firstIndex(of: 0) ?? b.count
            return printable(String(decoding: UnsafeBufferPointer(rebasing: b[0..<n]), as: UTF8.self), limit: 120)
        }
    }

    /// Whether the server closed this idle connection (say it restarted):
    /// an idle connection has nothing to read unless the peer hung up.
    var peerClosed: Bool {
        var p = pollfd(fd: ctx.pointee.fd, events: Int16(POLLIN | 0x2000 /* POLLRDHUP */), revents: 0)
        return poll(&p, 1, 0) != 0
    }

    /// Sends one command and reads its answer. A connection whose command
    /// failed is left unusable (its answer may still arrive): the caller
    /// drops it. SIGPIPE is blocked on this thread meanwhile, so writing to a
    /// server that went away cannot kill the host process.
    func command(_ args: [[UInt8]], _ doing: String) throws(JWTGrantError) -> RedisReply {
        var pipe = sigset_t(), old = sigset_t(), pending = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        sigpending(&pending)
        let alreadyPending = sigismember(&pending, SIGPIPE) == 1
        pthread_sigmask(SIG_BLOCK, &pipe, &old)
        defer {
            if !alreadyPending {
                sigpending(&pending)
                if sigismember(&pending, SIGPIPE) == 1 {
                    var zero = timespec(tv_sec: 0, tv_nsec: 0)
                    _ = sigtimedwait(&pipe, nil, &zero)
                }
            }
            pthread_sigmask(SIG_SETMASK, &old, nil)
        }
        let start = monotonicSeconds()
        let raw: UnsafeMutableRawPointer? = withArgv(args) { argv, lengths in
            redisCommandArgv(ctx, Int32(args.count), argv, lengths)
        }
        guard let raw else {
            let elapsed = monotonicSeconds() - start
            if elapsed * 1000 >= Double(commandTimeoutMs) * 0.9 {
                throw JWTGrantError(.unavailable, "\(label): \(doing): no answer within \(commandTimeoutMs) ms")
            }
            throw JWTGrantError(.unavailable, "\(label): \(doing): \(Self.errorText(ctx))")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return RedisReply(reply)
    }

    private func withArgv<T>(_ args: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> T) -> T {
        let n = args.count
        let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: n)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: n)
        var copies: [UnsafeMutablePointer<CChar>] = []
        copies.reserveCapacity(n)
        defer {
            for c in copies { c.deallocate() }
            argv.deallocate()
            lengths.deallocate()
        }
        for (i, a) in args.enumerated() {
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(a.count, 1))
            a.withUnsafeBytes { b in if let base = b.baseAddress { memcpy(p, base, a.count) } }
            copies.append(p)
            argv[i] = UnsafePointer(p)
            lengths[i] = a.count
        }
        return body(argv, UnsafePointer(lengths))
    }
}
