#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Ready-to-use verification contexts for one (key, algorithm): a digest
/// context and a signature context already set up (EVP_PKEY_verify_init,
/// digest, padding, PSS parameters). A verification borrows one, uses it and
/// gives it back, so the hot path allocates nothing and never re-initialises;
/// when none is idle (many threads at once) a new pair is made.
///
/// The idle pairs are kept in stripes, each with its own mutex on cache lines
/// of its own, and a thread uses the stripe its id hashes to: threads on
/// different cores do not share a lock or a cache line on the hot path.
final class VerifierPool: @unchecked Sendable {
    /// One digest context (EVP_MD_CTX*) and one signature context (EVP_PKEY_CTX*).
    struct Pair: @unchecked Sendable {
        let digest: OpaquePointer
        let verify: OpaquePointer
    }

    static let stripeCount = Stripes.count
    /// Idle pairs kept per stripe (32 in all).
    static let slotsPerStripe = 4
    /// A stripe: the mutex at 0, the idle count at 64, the slots from 80;
    /// 256 bytes, aligned to 128 (two cache lines, prefetcher pairs too).
    private static let stripeBytes = 256
    private static let countOffset = 64
    private static let slotsOffset = 80

    let alg: JWSAlgorithm
    /// The EVP_PKEY* (one reference owned by the pool).
    let pkey: OpaquePointer
    /// The explicitly fetched EVP_MD* (owned).
    let md: OpaquePointer
    private let stripes: UnsafeMutableRawPointer

    init(alg: JWSAlgorithm, pkey: OpaquePointer, md: OpaquePointer) {
        self.alg = alg
        self.pkey = pkey
        self.md = md
        stripes = UnsafeMutableRawPointer.allocate(byteCount: Self.stripeCount * Self.stripeBytes, alignment: 128)
        stripes.initializeMemory(as: UInt8.self, repeating: 0, count: Self.stripeCount * Self.stripeBytes)
        for i in 0..<Self.stripeCount {
            pthread_mutex_init(mutex(stripes + i * Self.stripeBytes), nil)
        }
    }

    deinit {
        releaseOpenSSL()
        for i in 0..<Self.stripeCount { pthread_mutex_destroy(mutex(stripes + i * Self.stripeBytes)) }
        stripes.deallocate()
    }

    @inline(__always) private func mutex(_ stripe: UnsafeMutableRawPointer) -> UnsafeMutablePointer<pthread_mutex_t> {
        stripe.assumingMemoryBound(to: pthread_mutex_t.self)
    }

    /// The calling thread's stripe.
    @inline(__always) private func stripe() -> UnsafeMutableRawPointer {
        stripes + Stripes.current() * Self.stripeBytes
    }

    @inline(__always)
    func take() -> Pair? {
        let s = stripe()
        pthread_mutex_lock(mutex(s))
        let count = s.load(fromByteOffset: Self.countOffset, as: Int.self)
        var pair: Pair? = nil
        if count > 0 {
            pair = s.load(fromByteOffset: Self.slotsOffset + (count - 1) * MemoryLayout<Pair>.stride, as: Pair.self)
            s.storeBytes(of: count - 1, toByteOffset: Self.countOffset, as: Int.self)
        }
        pthread_mutex_unlock(mutex(s))
        return pair ?? makePair()
    }

    @inline(__always)
    func give(_ p: Pair) {
        let s = stripe()
        pthread_mutex_lock(mutex(s))
        let count = s.load(fromByteOffset: Self.countOffset, as: Int.self)
        let kept = count < Self.slotsPerStripe
        if kept {
            s.storeBytes(of: p, toByteOffset: Self.slotsOffset + count * MemoryLayout<Pair>.stride, as: Pair.self)
            s.storeBytes(of: count + 1, toByteOffset: Self.countOffset, as: Int.self)
        }
        pthread_mutex_unlock(mutex(s))
        if !kept { free(p) }
    }

    /// Takes every idle pair out (for release).
    func drain() -> [Pair] {
        var out: [Pair] = []
        for i in 0..<Self.stripeCount {
            let s = stripes + i * Self.stripeBytes
            pthread_mutex_lock(mutex(s))
            let count = s.load(fromByteOffset: Self.countOffset, as: Int.self)
            for k in 0..<count {
                out.append(s.load(fromByteOffset: Self.slotsOffset + k * MemoryLayout<Pair>.stride, as: Pair.self))
            }
            s.storeBytes(of: 0, toByteOffset: Self.countOffset, as: Int.self)
            pthread_mutex_unlock(mutex(s))
        }
        return out
    }
}
