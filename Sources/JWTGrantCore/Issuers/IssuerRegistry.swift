/// The trusted token issuers of one server, by name and by `iss`. Reads
/// (every verification) take a shared lock for a dictionary lookup;
/// registration and removal take it exclusively. A verification that found
/// an issuer keeps using that object even if it is removed meanwhile; the
/// next lookup no longer finds it.
public final class IssuerRegistry: @unchecked Sendable {
    private let lock = ReadWriteLock()
    // Keyed by bytes (Identifier): never by Swift String equality.
    private var byName: [Identifier: TrustedIssuer] = [:]
    // By the `iss` bytes; probed with the token's borrowed bytes (ByteKey).
    private var byIssuer: [ByteKey: TrustedIssuer] = [:]

    public init() {}

    public func add(_ issuer: TrustedIssuer) throws(JWTGrantError) {
        try lock.withWriteLock { () throws(JWTGrantError) in
            if byName[issuer.nameID] != nil {
                throw JWTGrantError(.alreadyExists, "a trusted issuer named \"\(printable(issuer.name))\" exists")
            }
            if byIssuer[ByteKey(issuer.issuerID)] != nil {
                throw JWTGrantError(.alreadyExists, "a trusted issuer with that issuer value exists")
            }
            byName[issuer.nameID] = issuer
            byIssuer[ByteKey(issuer.issuerID)] = issuer
        }
    }

    @discardableResult
    public func remove(name: String) throws(JWTGrantError) -> TrustedIssuer {
        let removed = lock.withWriteLock { () -> TrustedIssuer? in
            guard let i = byName.removeValue(forKey: Identifier(name)) else { return nil }
            byIssuer.removeValue(forKey: ByteKey(i.issuerID))
            return i
        }
        guard let removed else {
            throw JWTGrantError(.notFound, "no trusted issuer named \"\(printable(name))\"")
        }
        removed.keySource.close()
        return removed
    }

    /// Swaps the key source of a registered issuer (a new inline JWKS). The
    /// issuer object is replaced whole, so a verification sees the old or the
    /// new keys, never a mix.
    public func replaceKeySource(of old: TrustedIssuer, with source: any KeySource) throws(JWTGrantError) {
        let replacement = TrustedIssuer(name: old.name, issuer: old.issuer, alias: old.alias, keySource: source,
                                        policy: old.policy)
        let replaced = lock.withWriteLock { () -> Bool in
            guard byName[old.nameID] === old else { return false }
            byName[old.nameID] = replacement
            byIssuer[ByteKey(old.issuerID)] = replacement
            return true
        }
        guard replaced else {
            throw JWTGrantError(.notFound, "trusted issuer \"\(printable(old.name))\" was removed or changed meanwhile")
        }
        old.keySource.close()
    }

    /// The issuer whose `iss` value is exactly (byte for byte) `iss`.
    @inline(__always)
    public func lookup(iss: Identifier) -> TrustedIssuer? {
        lock.withReadLock { byIssuer[ByteKey(iss)] }
    }

    /// The issuer whose `iss` value is exactly `iss` (bytes borrowed for the
    /// lookup only: nothing is allocated).
    @inline(__always)
    public func lookup(issBytes iss: UnsafeRawBufferPointer) -> TrustedIssuer? {
        lock.withReadLock { byIssuer[ByteKey(borrowing: iss)] }
    }

    /// The issuer registered under exactly (byte for byte) `name`.
    public func lookup(name: Identifier) -> TrustedIssuer? {
        lock.withReadLock { byName[name] }
    }

    public func lookup(name: String) -> TrustedIssuer? { lookup(name: Identifier(name)) }

    /// All issuers, sorted by name.
    public func all() -> [TrustedIssuer] {
        lock.withReadLock { byName.values.sorted { $0.nameID < $1.nameID } }
    }

    /// Stops every key source (server shutdown).
    public func closeAll() {
        for i in all() { i.keySource.close() }
    }
}
