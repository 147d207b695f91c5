#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a detached thread runs; one retained reference travels through
/// `pthread_create`'s argument and is released by the thread.
private final class ThreadStart {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Starts a detached pthread running `body`. Returns false when the thread
/// could not be created (then `body` is not run).
func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let arg = Unmanaged.passRetained(ThreadStart(body)).toOpaque()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    var tid = pthread_t()
    let rc = pthread_create(&tid, &attr, { p in
        guard let p else { return nil }
        Unmanaged<ThreadStart>.fromOpaque(p).takeRetainedValue().body()
        return nil
    }, arg)
    if rc != 0 {
        Unmanaged<ThreadStart>.fromOpaque(arg).release()
        return false
    }
    return true
}
