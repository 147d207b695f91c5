#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A small set of pthread mutexes, each on cache lines of its own, and the
/// stripe a thread uses (its id hashed): state kept per stripe lets threads
/// on different cores work without sharing a lock or a cache line.
final class Stripes: @unchecked Sendable {
    static let count = 8
    private static let stride = 128
    private let block: UnsafeMutableRawPointer

    init() {
        block = UnsafeMutableRawPointer.allocate(byteCount: Self.count * Self.stride, alignment: Self.stride)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: Self.count * Self.stride)
        for i in 0..<Self.count { pthread_mutex_init(mutex(i), nil) }
    }

    deinit {
        for i in 0..<Self.count { pthread_mutex_destroy(mutex(i)) }
        block.deallocate()
    }

    @inline(__always) private func mutex(_ i: Int) -> UnsafeMutablePointer<pthread_mutex_t> {
        (block + i * Self.stride).assumingMemoryBound(to: pthread_mutex_t.self)
    }

    /// The calling thread's stripe, 0..<count.
    @inline(__always) static func current() -> Int {
        let id = UInt64(UInt(pthread_self()))
        return Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> 61)
    }

    @inline(__always)
    func withLock<T>(_ i: Int, _ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex(i))
        defer { pthread_mutex_unlock(mutex(i)) }
        return try body()
    }
}
