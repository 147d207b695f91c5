#if canImport(Glibc)
import Glibc
#endif

/// A file named in a registration (`certificate_file`, `jwks_file`), read
/// once at registration, the way server configurations name key files.
/// Refuses what is not a regular file (a FIFO or a device could block or
/// never end) and anything larger than `limit`. Messages may name the path
/// (it comes from the host's configuration) but never quote the content.
public enum ConfigFile {
    /// The largest key file accepted: 1 MiB (a PEM bundle of a few hundred
    /// certificates, or a JWKS of thousands of keys).
    public static let defaultLimit = 1 << 20

    @_optimize(size)
    public static func read(_ path: String, field: String, limit: Int = defaultLimit) throws(JWTGrantError) -> [UInt8] {
        guard !path.isEmpty else { throw JWTGrantError(.invalidArgument, "\(field) is empty") }
        guard !path.utf8.contains(0) else {
            throw JWTGrantError(.invalidArgument, "\(field) contains a NUL byte")
        }
        let shown = printable(path, limit: 256)
        // O_NONBLOCK: opening a FIFO without a writer must not block.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw JWTGrantError(.invalidArgument, "\(field) \"\(shown)\" cannot be opened: \(errnoText())")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw JWTGrantError(.invalidArgument, "\(field) \"\(shown)\" cannot be read: \(errnoText())")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw JWTGrantError(.invalidArgument, "\(field) \"\(shown)\" is not a regular file")
        }
        guard st.st_size <= limit else {
            throw JWTGrantError(.invalidArgument, "\(field) \"\(shown)\" is larger than \(limit) bytes")
        }
        // The size may change while reading: read at most limit + 1 bytes.
        var out = [UInt8](repeating: 0, count: limit + 1)
        var used = 0
        while used < out.count {
            let n = out.withUnsafeMutableBytes { b in
                Glibc.read(fd, b.baseAddress.map { $0 + used }, b.count - used)
            }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw JWTGrantError(.invalidArgument, "\(field) \"\(shown)\" cannot be read: \(errnoText())")
            }
            used += n
        }
        guard used <= limit else {
            throw JWTGrantError(.invalidArgument, "\(field) \"\(shown)\" is larger than \(limit) bytes")
        }
        guard used > 0 else { throw JWTGrantError(.badKey, "\(field) \"\(shown)\" is empty") }
        out.removeSubrange(used...)
        return out
    }

    private static func errnoText() -> String {
        guard let p = strerror(errno) else { return "error \(errno)" }
        return String(cString: p)
    }
}
