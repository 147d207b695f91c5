#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A value behind a pthread mutex (a `Lock`). Used instead of Synchronization.Mutex
/// because ThreadSanitizer understands pthread locks (it intercepts them),
/// while it cannot see the futex-based Mutex of the uninstrumented standard
/// library and reports false races through it.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = Lock()
    /// The value in memory of its own rather than a stored `var`: the lock
    /// already makes access exclusive, and a class's `var` would also pay a
    /// dynamic exclusivity check (swift_beginAccess) on every access.
    private let value: UnsafeMutablePointer<Value>

    public init(_ value: Value) {
        self.value = .allocate(capacity: 1)
        self.value.initialize(to: value)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
    }

    @inline(__always)
    public func withLock<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        try lock.withLock { () throws(E) -> T in try body(&value.pointee) }
    }
}

/// A pthread mutex guarding a section of code rather than a value. (A
/// `Locked<Void>` would do the same, but the exclusive access to its
/// zero-sized value is reported by ThreadSanitizer at the object's own
/// address, where it collides with unrelated reads of the object header.)
public final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
