/// Client credentials from an `Authorization: Basic` header
/// (`client_secret_basic`, RFC 6749 section 2.3.1 and RFC 7617).
///
/// The header value is `Basic` (any case), one or more spaces, and the
/// strict standard base64 (with padding) of `client_id ":" client_secret`,
/// where each half was form-urlencoded before encoding (RFC 6749 2.3.1), so
/// an id containing `:` arrives as `%3A`. Optional whitespace around the whole
/// value is ignored (RFC 9110 5.5). Every failure is `.invalidClient` and
/// never echoes the header.
public struct BasicCredentials: Sendable {
    public let clientID: String
    public let clientSecret: String

    public init(clientID: String, clientSecret: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    /// The longest Authorization header value accepted, in bytes.
    public static let maxSize = 8 * 1024

    public init(parsing header: UnsafeRawBufferPointer) throws(JWTGrantError) {
        guard header.count <= Self.maxSize else {
            throw JWTGrantError(.invalidClient, "the Authorization header is longer than \(Self.maxSize) bytes")
        }
        let v = Self.trimmed(header)
        guard v.count > 5, Self.schemeIsBasic(v), v[5] == 0x20 else {
            throw JWTGrantError(.invalidClient, "the Authorization header does not use the Basic scheme")
        }
        var i = 5
        while i < v.count && v[i] == 0x20 { i += 1 }
        let token = UnsafeRawBufferPointer(rebasing: v[i...])
        guard !token.isEmpty, let decoded = SodiumBase64.decode(token, variant: SodiumBase64.standard) else {
            throw JWTGrantError(.invalidClient, "the Basic credentials are not valid base64")
        }
        guard let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else {
            throw JWTGrantError(.invalidClient, "the Basic credentials have no ':' between client id and secret")
        }
        let parts = decoded.withUnsafeBytes { b in
            (FormBody.decodeComponent(UnsafeRawBufferPointer(rebasing: b[..<colon])),
             FormBody.decodeComponent(UnsafeRawBufferPointer(rebasing: b[(colon + 1)...])))
        }
        guard let id = parts.0, let secret = parts.1 else {
            throw JWTGrantError(.invalidClient, "the Basic credentials are not form-urlencoded UTF-8")
        }
        guard !id.isEmpty else {
            throw JWTGrantError(.invalidClient, "the Basic credentials have an empty client id")
        }
        clientID = id
        clientSecret = secret
    }

    private static func schemeIsBasic(_ v: UnsafeRawBufferPointer) -> Bool {
        // "basic": ORing 0x20 folds ASCII upper case onto lower case
        v[0] | 0x20 == 0x62 && v[1] | 0x20 == 0x61 && v[2] | 0x20 == 0x73 && v[3] | 0x20 == 0x69 && v[4] | 0x20 == 0x63
    }

    /// `header` without leading and trailing spaces and tabs.
    private static func trimmed(_ header: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var lo = 0, hi = header.count
        while lo < hi && (header[lo] == 0x20 || header[lo] == 0x09) { lo += 1 }
        while hi > lo && (header[hi - 1] == 0x20 || header[hi - 1] == 0x09) { hi -= 1 }
        return UnsafeRawBufferPointer(rebasing: header[lo..<hi])
    }
}
