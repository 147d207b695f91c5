#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Detects a context used in a process forked after it was created.
///
/// fork() copies the memory of a context but only the thread that called
/// it: the background JWKS refresh threads do not exist in the child, a lock
/// another thread held at the fork stays held forever, and a connection to a
/// store would be shared by two processes. A context is therefore usable
/// only in the process that created it.
///
/// A `pthread_atfork` child handler, installed before the first context is
/// created, bumps a process-wide generation; a context records the
/// generation it was created in. The hot-path check is one load and one
/// compare (no system call). The counter is written only by the child
/// handler, which runs while the child has a single thread, so there is no
/// concurrent write.
public enum ForkGuard {
    nonisolated(unsafe) private static var counter: UInt64 = 0

    private static let installed: Bool = {
        pthread_atfork(nil, nil, { ForkGuard.counter &+= 1 }) == 0
    }()

    /// Installs the child handler (once per process) and returns the
    /// current generation: what a new context records.
    public static func register() -> UInt64 {
        _ = installed
        return counter
    }

    /// The generation of this process: 0 in the process that loaded the
    /// library, one more in each child of a fork() since.
    @inline(__always)
    public static var generation: UInt64 { counter }

    /// The message of a call on a context created before a fork().
    public static let forkedContextReason =
        "the context was created in another process before fork(): create a new context after fork() (contexts are not inherited by a forked child)"
}
