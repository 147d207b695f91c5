// Header section "Assertions and the token endpoint": verification.
#if canImport(Glibc)
import Glibc
#endif
import CJWTGrantHeader
import JWTGrantCore

@c @implementation
public func jwtgrant_verify_assertion(_ ctx: OpaquePointer?, _ assertion: UnsafePointer<CChar>?,
                                      _ claimsJSONOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                      _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    claimsJSONOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let token = try boundedBytes(assertion, "assertion", limit: s.config.maxAssertionBytes)
        let claims = try s.verifyAssertion(token)
        if let claimsJSONOut { claimsJSONOut.pointee = try jsonCString(claims) }
    }
}
