import Synchronization

/// A fixed-bucket histogram of durations, lock-free: recording is one
/// relaxed atomic increment. Buckets are logarithmic with four per power of
/// two (each bound about 19 % above the previous), from 1 us to about 2^26
/// us (67 s); the last bucket takes everything longer. A quantile is
/// reported as the upper bound of the bucket it falls in, so it is accurate
/// to one bucket (within +19 %).
public final class LatencyHistogram: @unchecked Sendable {
    public static let bucketCount = 4 * 26 + 1
    /// Upper bound of each bucket in microseconds (the last is infinite).
    public static let upperBounds: [Double] = (0..<bucketCount).map { i in
        i == bucketCount - 1 ? .infinity : pow2(Double(i + 1) / 4)
    }
    private let counts: UnsafeMutablePointer<Atomic<Int>>

    public init() {
        counts = .allocate(capacity: Self.bucketCount)
        for i in 0..<Self.bucketCount { (counts + i).initialize(to: Atomic<Int>(0)) }
    }

    deinit {
        counts.deinitialize(count: Self.bucketCount)
        counts.deallocate()
    }

    /// The bucket of a duration in microseconds.
    static func bucket(_ micros: Double) -> Int {
        guard micros.isFinite, micros > 1 else { return 0 }
        // log2 from the exponent and a 4-step mantissa search: no libm on the hot path.
        let e = micros.exponent                       // 2^e <= micros < 2^(e+1)
        guard e < 26 else { return bucketCount - 1 }
        let base = Int(e) * 4
        let m = micros.significand                    // [1, 2)
        let quarter = m <= 1.189207115002721 ? 0 : m <= 1.414213562373095 ? 1 : m <= 1.681792830507429 ? 2 : 3
        return min(base + quarter, bucketCount - 1)
    }

    public func record(microseconds: Double) {
        counts[Self.bucket(microseconds)].wrappingAdd(1, ordering: .relaxed)
    }

    /// The counts per bucket (a snapshot; concurrent recording may land
    /// between two loads, which a quantile tolerates).
    public func snapshot() -> [Int] {
        (0..<Self.bucketCount).map { counts[$0].load(ordering: .relaxed) }
    }

    /// The upper bound (microseconds) of the bucket holding quantile `q`
    /// of `snapshot`, or nil when it is empty.
    public static func quantile(_ q: Double, of snapshot: [Int]) -> Double? {
        let total = snapshot.reduce(0, &+)
        guard total > 0 else { return nil }
        let rank = max(1, Int((q * Double(total)).rounded(.up)))
        var seen = 0
        for (i, c) in snapshot.enumerated() {
            seen += c
            if seen >= rank {
                // The overflow bucket reports its lower bound.
                return i == bucketCount - 1 ? upperBounds[bucketCount - 2] : upperBounds[i]
            }
        }
        return upperBounds[bucketCount - 2]
    }
}

private func pow2(_ x: Double) -> Double {
    // 2^x for x >= 0 by squaring the quarter steps; exact enough for bounds.
    let whole = Int(x.rounded(.down))
    let frac = x - Double(whole)
    let q = frac == 0 ? 1.0 : frac == 0.25 ? 1.189207115002721 : frac == 0.5 ? 1.414213562373095 : 1.681792830507429
    return Double(sign: .plus, exponent: whole, significand: q)
}
