import CSodium
import Synchronization
@testable import JWTGrantCore

/// A stand-in for the JOSE signer: a compact JWS with an HMAC-SHA256
/// "signature" under a per-instance key, labelled with any alg name. Enough to
/// test that the endpoint signs what it should and that tampering is caught.
final class FakeSigner: AccessTokenSigner, @unchecked Sendable {
    let algorithm: String
    let kid: String
    let publicJWK: JSONValue
    private let key: [UInt8]

    init(algorithm: String = "ES256", kid: String = "fake-kid") {
        self.algorithm = algorithm
        self.kid = kid
        self.key = SodiumRuntime.randomBytes(32)
        let jwk = JSONValue.object()
        jwk.set("kty", .string("oct-fake"))
        jwk.set("kid", .string(kid))
        jwk.set("alg", .string(algorithm))
        self.publicJWK = jwk
    }

    private func mac(_ input: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let bytes = Array(input.utf8) + [0]   // never empty
        bytes.withUnsafeBufferPointer { i in
            key.withUnsafeBufferPointer { k in
                out.withUnsafeMutableBufferPointer { o in
                    var state = crypto_auth_hmacsha256_state()
                    _ = crypto_auth_hmacsha256_init(&state, k.baseAddress!, k.count)
                    _ = crypto_auth_hmacsha256_update(&state, i.baseAddress!, UInt64(i.count - 1))
                    _ = crypto_auth_hmacsha256_final(&state, o.baseAddress!)
                }
            }
        }
        return out
    }

    private static func b64(_ s: String) -> String {
        SodiumBase64.encode(Array(s.utf8), variant: SodiumBase64.urlSafeNoPadding)
    }

    func sign(header: JSONValue, payload: JSONValue) throws(JWTGrantError) -> String {
        let input = Self.b64(header.serialized()) + "." + Self.b64(payload.serialized())
        return input + "." + SodiumBase64.encode(mac(input), variant: SodiumBase64.urlSafeNoPadding)
    }

    func verifySignature(_ token: UnsafeRawBufferPointer) throws(JWTGrantError) -> (header: JSONValue, claims: JSONValue) {
        let text = String(decoding: token, as: UTF8.self)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw JWTGrantError(.malformed, "not a compact JWS") }
        func decode(_ s: String) throws(JWTGrantError) -> [UInt8] {
            var s = s
            guard let d = s.withUTF8({ SodiumBase64.decode(UnsafeRawBufferPointer($0), variant: SodiumBase64.urlSafeNoPadding) })
            else { throw JWTGrantError(.malformed, "bad base64url") }
            return d
        }
        let headerBytes = try decode(parts[0]), claimBytes = try decode(parts[1]), sig = try decode(parts[2])
        let header = try JSONValue.parseObject(String(decoding: headerBytes, as: UTF8.self), what: "JWS header", code: .malformed)
        guard header["alg"]?.stringEquals(algorithm) == true else { throw JWTGrantError(.algorithm, "alg is not ours") }
        guard sig == mac(parts[0] + "." + parts[1]) else { throw JWTGrantError(.signature, "the signature does not verify") }
        let claims = try JSONValue.parse(String(decoding: claimBytes, as: UTF8.self), what: "JWS payload", code: .malformed)
        return (header, claims)
    }
}

/// A stand-in for the RFC 7523 pipeline. Assertions are plain text:
/// `ok.<sub>.<jti>` verifies with those claims; `nosub.<jti>` verifies
/// without a sub; anything else fails with `.signature`. With `consume`,
/// a jti seen before fails with `.replay`, atomically.
final class FakeVerifier: Sendable {
    let consumed = Locked<Set<String>>([])
    let calls = Atomic<Int>(0)

    var verifier: AssertionVerifier {
        { (assertion, use) throws(JWTGrantError) -> VerifiedGrant in
            try self.grant(try self.verify(assertion, consume: true))
        }
    }

    /// What the real pipeline hands the token endpoint: the sub as is
    /// (subject_format "{sub}") and the issuer value as idp.
    func grant(_ claims: JSONValue) -> VerifiedGrant {
        VerifiedGrant(claims: claims, subject: claims["sub"]?.stringValue, idp: "https://idp.example")
    }

    func verify(_ assertion: UnsafeRawBufferPointer, consume: Bool) throws(JWTGrantError) -> JSONValue {
        calls.add(1, ordering: .relaxed)
        let parts = String(decoding: assertion, as: UTF8.self).split(separator: ".").map(String.init)
        let claims = JSONValue.object()
        claims.set("iss", .string("https://idp.example"))
        claims.set("_issuer_name", .string("idp"))
        let jti: String
        if parts.count == 3 && parts[0] == "ok" {
            claims.set("sub", .string(parts[1]))
            jti = parts[2]
        } else if parts.count == 2 && parts[0] == "nosub" {
            jti = parts[1]
        } else {
            throw JWTGrantError(.signature, "the assertion signature does not verify")
        }
        claims.set("jti", .string(jti))
        if consume {
            let fresh = consumed.withLock { $0.insert(jti).inserted }
            guard fresh else { throw JWTGrantError(.replay, "the assertion was used before") }
        }
        return claims
    }
}

/// Calls `body` with the UTF-8 bytes of `s` (nil stays nil).
func withOptionalBytes<T>(_ s: String?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
    guard var s else { return body(nil) }
    return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}

func withBytes<T>(_ s: String, _ body: (UnsafeRawBufferPointer) throws(JWTGrantError) -> T) throws(JWTGrantError) -> T {
    var s = s
    return try s.withUTF8 { b in
        Result { () throws(JWTGrantError) -> T in try body(UnsafeRawBufferPointer(b)) }
    }.get()
}
