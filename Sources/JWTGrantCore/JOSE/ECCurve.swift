/// The NIST curves of the ES* algorithms, with the group order needed to
/// range-check raw r||s signatures without touching a bignum library.
enum ECCurve: Sendable {
    case p256, p384, p521

    /// The JWK "crv" name.
    var jwkName: String {
        switch self {
        case .p256: return "P-256"
        case .p384: return "P-384"
        case .p521: return "P-521"
        }
    }

    /// The OpenSSL group name.
    var openSSLName: String {
        switch self {
        case .p256: return "prime256v1"
        case .p384: return "secp384r1"
        case .p521: return "secp521r1"
        }
    }

    /// Bytes of one coordinate or one of r, s (RFC 7518 3.4).
    var coordinateLength: Int {
        switch self {
        case .p256: return 32
        case .p384: return 48
        case .p521: return 66
        }
    }

    var algorithm: JWSAlgorithm {
        switch self {
        case .p256: return .es256
        case .p384: return .es384
        case .p521: return .es512
        }
    }

    /// The group order n, big-endian, `coordinateLength` bytes.
    var order: [UInt8] {
        switch self {
        case .p256: return ECCurve.n256
        case .p384: return ECCurve.n384
        case .p521: return ECCurve.n521
        }
    }

    init?(jwkName: String) {
        switch Identifier(jwkName) {
        case "P-256": self = .p256
        case "P-384": self = .p384
        case "P-521": self = .p521
        default: return nil
        }
    }

    init?(openSSLName: String) {
        switch Identifier(openSSLName) {
        case "prime256v1", "P-256", "secp256r1": self = .p256
        case "secp384r1", "P-384": self = .p384
        case "secp521r1", "P-521": self = .p521
        default: return nil
        }
    }

    private static let n256 = hexBytes(
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
    private static let n384 = hexBytes(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973")
    private static let n521 = hexBytes(
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409")

    /// Decodes constant hex text (only used on the literals above).
    private static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var hi: UInt8? = nil
        for c in hex.utf8 {
            let v: UInt8 = c <= 0x39 ? c &- 0x30 : (c | 0x20) &- 0x57
            if let h = hi { out.append(h << 4 | v); hi = nil } else { hi = v }
        }
        return out
    }
}
