#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CCurl

/// Which JWKS endpoint URLs may be registered: `https` only, except `http`
/// to a loopback host (`127.0.0.0/8`, `::1`, `localhost`) for local
/// development. Anything else (`file://`, `ftp://`, `http` to another host,
/// a URL with user information or whitespace, a string that is not an
/// absolute URL) is refused with `.invalidArgument`.
///
/// Parsing is libcurl's (`curl_url`), the same parser that later fetches the
/// URL, so the policy judges exactly what would be requested.
public enum JWKSURLPolicy {
    /// The longest URL accepted.
    public static let maxLength = 2048

    /// Throws `.invalidArgument` with a reason when `url` may not be used as a
    /// JWKS endpoint.
    public static func validate(_ url: String) throws(JWTGrantError) {
        _ = try check(url)
    }

    /// `validate`, returning whether the host is a loopback host.
    @_optimize(size)
    static func check(_ url: String) throws(JWTGrantError) -> Bool {
        let bytes = Array(url.utf8)
        if bytes.isEmpty { throw refuse("is empty") }
        if bytes.count > maxLength { throw refuse("is longer than \(maxLength) bytes") }
        // Whitespace and control characters: curl would refuse some and
        // percent-encode others; a JWKS URL never legitimately has them.
        if bytes.contains(where: { $0 <= 0x20 || $0 == 0x7f }) {
            throw refuse("contains whitespace or control characters")
        }
        guard CurlGlobal.ensureInitialized(), let h = curl_url() else {
            throw JWTGrantError(.outOfMemory, "jwks_uri: cannot allocate a URL parser")
        }
        defer { curl_url_cleanup(h) }

        // No default or guessed scheme: "example.com/jwks" is not a URL here.
        let rc = curl_url_set(h, CURLUPART_URL, url, UInt32(CURLU_NON_SUPPORT_SCHEME))
        guard rc == CURLUE_OK else {
            throw refuse("is not an absolute URL (\(String(cString: curl_url_strerror(rc))))")
        }
        guard let scheme = part(h, CURLUPART_SCHEME)?.lowercased() else {
            throw refuse("has no scheme")
        }
        if part(h, CURLUPART_USER) != nil || part(h, CURLUPART_PASSWORD) != nil {
            throw refuse("must not contain user information (user:password@)")
        }
        if scheme != "https" && scheme != "http" {
            throw refuse("uses the scheme \"\(printable(scheme, limit: 32))\"; only https is allowed (http for loopback hosts)")
        }
        guard let host = part(h, CURLUPART_HOST), !host.isEmpty else {
            throw refuse("has no host")
        }
        switch scheme {
        case "https":
            return isLoopbackHost(host)
        case "http":
            if isLoopbackHost(host) { return true }
            throw refuse("uses http to a non-loopback host; use https (http is allowed only for 127.0.0.0/8, ::1 and localhost)")
        default:
            throw refuse("uses the scheme \"\(printable(scheme, limit: 32))\"; only https is allowed (http for loopback hosts)")
        }
    }

    /// Whether `host` (as in a URL: IPv6 in brackets) is a loopback host:
    /// `localhost`, an IPv4 address in 127.0.0.0/8, `::1`, or an IPv4-mapped
    /// 127.0.0.0/8 address.
    public static func isLoopbackHost(_ host: String) -> Bool {
        var h = host.lowercased()
        if h == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, h, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        if h.hasPrefix("[") && h.hasSuffix("]") {
            h = String(h.dropFirst().dropLast())
            if let pct = h.firstIndex(of: "%") { h = String(h[..<pct]) }   // zone id
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, h, &v6) == 1 else { return false }
            return withUnsafeBytes(of: &v6) { b -> Bool in
                let loop: [UInt8] = Array(repeating: 0, count: 15) + [1]
                if b.elementsEqual(loop) { return true }
                // ::ffff:127.x.y.z
                let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xff, 0xff]
                return b.prefix(12).elementsEqual(mappedPrefix) && b[12] == 127
            }
        }
        return false
    }

    private static func part(_ h: OpaquePointer, _ which: CURLUPart) -> String? {
        var out: UnsafeMutablePointer<CChar>? = nil
        guard curl_url_get(h, which, &out, 0) == CURLUE_OK, let p = out else { return nil }
        defer { curl_free(p) }
        return String(cString: p)
    }


    private static func refuse(_ what: String) -> JWTGrantError {
        JWTGrantError(.invalidArgument, "jwks_uri \(what)")
    }
}
