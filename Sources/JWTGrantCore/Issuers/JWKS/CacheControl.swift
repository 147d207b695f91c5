/// The part of `Cache-Control` (RFC 9111 5.2) that sets a JWKS lifetime.
enum CacheControl {
    /// The largest max-age kept; anything bigger saturates (the key set
    /// clamps to `maxTTL` anyway).
    static let ceiling = 1_000_000_000

    /// Accumulates the `Cache-Control` header values of one response.
    struct Accumulator {
        private(set) var maxAge: Int? = nil
        private(set) var noCache = false

        /// Reads one header value ("public, max-age=300").
        mutating func add(_ value: ArraySlice<UInt8>) {
            for raw in value.split(separator: UInt8(ascii: ",")) {
                let d = trim(raw)
                if let eq = d.firstIndex(of: UInt8(ascii: "=")) {
                    let name = lower(trim(d[d.startIndex..<eq]))
                    var v = trim(d[(eq + 1)...])
                    if v.count >= 2, v.first == UInt8(ascii: "\""), v.last == UInt8(ascii: "\"") {
                        v = v.dropFirst().dropLast()
                    }
                    if name == Array("max-age".utf8) {   // several: the smallest wins
                        if let n = digits(v) { maxAge = maxAge.map { min($0, n) } ?? n }
                    }
                } else {
                    let name = lower(d)
                    if name == Array("no-store".utf8) || name == Array("no-cache".utf8) { noCache = true }
                }
            }
        }

        /// The effective max-age: 0 for no-store/no-cache, nil when absent.
        var effectiveMaxAge: Int? { noCache ? 0 : maxAge }
    }

    /// Parses a whole header value; convenience for tests and hosts.
    static func maxAge(headerValue: String) -> Int? {
        var a = Accumulator()
        a.add(ArraySlice(headerValue.utf8))
        return a.effectiveMaxAge
    }

    private static func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 || l == 0x0d || l == 0x0a { s = s.dropLast() }
        return s
    }

    private static func lower(_ s: ArraySlice<UInt8>) -> [UInt8] {
        s.map { $0 >= 0x41 && $0 <= 0x5a ? $0 | 0x20 : $0 }
    }

    /// Decimal digits only, saturating at `ceiling`; nil when empty or not digits.
    private static func digits(_ s: ArraySlice<UInt8>) -> Int? {
        guard !s.isEmpty else { return nil }
        var n = 0
        for c in s {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            if n < ceiling { n = n * 10 + Int(c - 0x30) }
        }
        return min(n, ceiling)
    }
}
