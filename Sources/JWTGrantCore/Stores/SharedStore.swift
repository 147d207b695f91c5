/// What a shared store (SQLite, Redis) keeps besides replay records: the
/// registration documents of issuers and clients and the access-token
/// signing key, each under a name, plus a generation counter that every
/// change of a registration advances.
public enum DocumentKind: String, Sendable, CaseIterable {
    case issuer
    case client
    /// One document: the generated access-token signing key.
    case signingKey = "signing_key"
}

/// A store shared by several processes (and machines). Every operation is
/// atomic on its own; failures are `.unavailable` when the store cannot be
/// reached or answers late (the token endpoint answers 503), `.storeFailure`
/// when it answers with something unusable.
public protocol SharedStore: ReplayStore, AnyObject {
    /// The store in messages ("sqlite store /var/lib/x.db"), never a password.
    var label: String { get }
    /// The generation counter: changes whenever a registration is added or removed.
    func generation() throws(JWTGrantError) -> Int64
    /// Every document of `kind`, by name.
    func documents(_ kind: DocumentKind) throws(JWTGrantError) -> [(name: [UInt8], document: [UInt8])]
    /// Stores `document` under `name` unless one is stored there already.
    /// Returns nil when it was stored (and the generation advanced), or the
    /// document already stored. Atomic across processes.
    func insertDocument(_ kind: DocumentKind, name: [UInt8], document: [UInt8]) throws(JWTGrantError) -> [UInt8]?
    /// Removes the document `name`; whether there was one (the generation
    /// advances when there was).
    func removeDocument(_ kind: DocumentKind, name: [UInt8]) throws(JWTGrantError) -> Bool
    /// The document stored under `name`, or nil.
    func document(_ kind: DocumentKind, name: [UInt8]) throws(JWTGrantError) -> [UInt8]?
    /// Replaces the document `name` by `document` only if the stored one is
    /// still `expected` (compare-and-set); whether it was replaced (the
    /// generation advances when it was). Atomic across processes.
    func replaceDocument(_ kind: DocumentKind, name: [UInt8], expected: [UInt8],
                         document: [UInt8]) throws(JWTGrantError) -> Bool
}

enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}
