
/// Ready-to-use verification contexts for one (key, algorithm): a digest
/// context and a signature context already set up (EVP_PKEY_verify_init,
/// digest, padding, PSS parameters). A verification borrows one, uses it and
/// gives it back, so the hot path allocates nothing and never re-initialises;
/// when all are borrowed (many threads at once) a new pair is made.
final class VerifierPool: @unchecked Sendable {
    /// One digest context (EVP_MD_CTX*) and one signature context (EVP_PKEY_CTX*).
    struct Pair: @unchecked Sendable {
        let digest: OpaquePointer
        let verify: OpaquePointer
    }

    /// At most this many idle pairs are kept.
    static let capacity = 32

    let alg: JWSAlgorithm
    /// The EVP_PKEY* (one reference owned by the pool).
    let pkey: OpaquePointer
    /// The explicitly fetched EVP_MD* (owned).
    let md: OpaquePointer
    let idle = Locked<[Pair]>([])

    init(alg: JWSAlgorithm, pkey: OpaquePointer, md: OpaquePointer) {
        self.alg = alg
        self.pkey = pkey
        self.md = md
    }

    deinit { releaseOpenSSL() }

    @inline(__always)
    func take() -> Pair? {
        if let p = idle.withLock({ $0.popLast() }) { return p }
        return makePair()
    }

    @inline(__always)
    func give(_ p: Pair) {
        let kept = idle.withLock { list -> Bool in
            guard list.count < VerifierPool.capacity else { return false }
            list.append(p)
            return true
        }
        if !kept { free(p) }
    }
}
