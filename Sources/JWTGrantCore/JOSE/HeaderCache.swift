#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The JWS headers parsed last, one per thread stripe, by their exact
/// segment text. An issuer signs its assertions with one header (alg, kid,
/// typ), so consecutive tokens repeat it byte for byte; what `CompactJWS`
/// makes of a header segment (its base64url decoding, its JSON, the header
/// policy: alg, crit, b64, kid) depends on those bytes alone, so a segment
/// equal to the one remembered gets the same result without the work.
///
/// Only accepted headers are kept: a refused one is parsed (and refused)
/// every time. Each stripe holds one entry behind its own lock; a new header
/// replaces it. Memory is bounded by `Stripes.count` header segments of at
/// most `maxSegment` bytes (an ordinary header is well under 200).
final class HeaderCache: @unchecked Sendable {
    /// Longer header segments are parsed every time and never kept.
    static let maxSegment = 1024

    /// A header as `CompactJWS.parse` accepted it.
    struct Parsed {
        let header: JOSEObject
        let algorithm: JWSAlgorithm
        let kid: Identifier?
    }

    private struct Entry {
        /// The header segment (base64url text), compared byte for byte.
        let segment: [UInt8]
        let parsed: Parsed
    }

    /// Slot i is read and written only under `locks`' mutex i. Plain
    /// memory rather than `Locked` values: no dynamic exclusivity check
    /// (swift_beginAccess) on every verification.
    private let locks = Stripes()
    private let slots: UnsafeMutablePointer<Entry?>

    init() {
        slots = .allocate(capacity: Stripes.count)
        slots.initialize(repeating: nil, count: Stripes.count)
    }

    deinit {
        slots.deinitialize(count: Stripes.count)
        slots.deallocate()
    }

    /// The header remembered for exactly `segment` by the calling thread's
    /// stripe, or nil.
    func lookup(_ segment: UnsafeRawBufferPointer) -> Parsed? {
        let i = Stripes.current()
        return locks.withLock(i) { () -> Parsed? in
            guard let e = slots[i], e.segment.count == segment.count,
                  let base = segment.baseAddress else { return nil }
            let same = e.segment.withUnsafeBytes { mine -> Bool in
                guard let m = mine.baseAddress else { return false }
                return memcmp(m, base, segment.count) == 0
            }
            return same ? e.parsed : nil
        }
    }

    /// Remembers the accepted header of `segment` for the calling thread's stripe.
    func store(_ segment: UnsafeRawBufferPointer, _ parsed: Parsed) {
        guard segment.count <= Self.maxSegment else { return }
        let entry = Entry(segment: Array(segment), parsed: parsed)
        let i = Stripes.current()
        locks.withLock(i) { slots[i] = entry }
    }
}
