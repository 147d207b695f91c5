/// The JWS algorithms (RFC 7518 section 3, RFC 8037) this engine verifies and
/// signs with. HS* and "none" are deliberately absent: an assertion signed
/// with a shared secret or not at all is never accepted.
public enum JWSAlgorithm: String, Sendable, CaseIterable {
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    case edDSA = "EdDSA"

    /// The signature family, which fixes the key type.
    enum Family: Sendable { case rsaPKCS1, rsaPSS, ecdsa, edDSA }

    var family: Family {
        switch self {
        case .rs256, .rs384, .rs512: return .rsaPKCS1
        case .ps256, .ps384, .ps512: return .rsaPSS
        case .es256, .es384, .es512: return .ecdsa
        case .edDSA: return .edDSA
        }
    }

    /// The hash size in bytes (also the PSS salt length); 0 for EdDSA.
    var hashLength: Int {
        switch self {
        case .rs256, .ps256, .es256: return 32
        case .rs384, .ps384, .es384: return 48
        case .rs512, .ps512, .es512: return 64
        case .edDSA: return 0
        }
    }

    /// The curve an ES* algorithm is bound to (RFC 7518 3.4).
    var curve: ECCurve? {
        switch self {
        case .es256: return .p256
        case .es384: return .p384
        case .es512: return .p521
        default: return nil
        }
    }

    /// A dense index for per-algorithm tables.
    var index: Int {
        switch self {
        case .rs256: return 0
        case .rs384: return 1
        case .rs512: return 2
        case .ps256: return 3
        case .ps384: return 4
        case .ps512: return 5
        case .es256: return 6
        case .es384: return 7
        case .es512: return 8
        case .edDSA: return 9
        }
    }

    /// The bit of this algorithm in an allow-mask.
    var bit: UInt16 { UInt16(1) << UInt16(index) }

    /// Parses a JWS "alg" value exactly (case-sensitive, as RFC 7515 4.1.1
    /// requires), without creating a String.
    init?(bytes: UnsafeRawBufferPointer) {
        if bytes.count == 5, bytes[0] == UInt8(ascii: "E"), bytes[1] == UInt8(ascii: "d"),
           bytes[2] == UInt8(ascii: "D"), bytes[3] == UInt8(ascii: "S"), bytes[4] == UInt8(ascii: "A") {
            self = .edDSA
            return
        }
        guard bytes.count == 5, bytes[1] == UInt8(ascii: "S") else { return nil }
        let bits: Int
        switch (bytes[2], bytes[3], bytes[4]) {
        case (UInt8(ascii: "2"), UInt8(ascii: "5"), UInt8(ascii: "6")): bits = 0
        case (UInt8(ascii: "3"), UInt8(ascii: "8"), UInt8(ascii: "4")): bits = 1
        case (UInt8(ascii: "5"), UInt8(ascii: "1"), UInt8(ascii: "2")): bits = 2
        default: return nil
        }
        switch (bytes[0], bits) {
        case (UInt8(ascii: "R"), 0): self = .rs256
        case (UInt8(ascii: "R"), 1): self = .rs384
        case (UInt8(ascii: "R"), _): self = .rs512
        case (UInt8(ascii: "P"), 0): self = .ps256
        case (UInt8(ascii: "P"), 1): self = .ps384
        case (UInt8(ascii: "P"), _): self = .ps512
        case (UInt8(ascii: "E"), 0): self = .es256
        case (UInt8(ascii: "E"), 1): self = .es384
        case (UInt8(ascii: "E"), _): self = .es512
        default: return nil
        }
    }
}
