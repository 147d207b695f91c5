// Header section "Assertions and the token endpoint": verification.
#if canImport(Glibc)
import Glibc
#endif
import CJWTGrantHeader
import JWTGrantCore
import CJansson

@c @implementation
public func jwtgrant_verify_assertion(_ ctx: OpaquePointer?, _ assertion: UnsafePointer<CChar>?,
                                      _ claimsJSONOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                      _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    claimsJSONOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let token = try boundedBytes(assertion, "assertion", limit: s.config.maxAssertionBytes)
        if let claimsJSONOut {
            claimsJSONOut.pointee = try s.verifyAssertionText(token)
        } else {
            s.refreshIfDue()
            _ = try s.validator.validate(token, consume: false)
        }
    }
}

@c @implementation
public func jwtgrant_verify_assertion_json(_ ctx: OpaquePointer?, _ assertion: UnsafePointer<CChar>?,
                                           _ claimsOut: UnsafeMutablePointer<UnsafeMutablePointer<json_t>?>?,
                                           _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    claimsOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let out = try requiredOut(claimsOut, "claims_out")
        let token = try boundedBytes(assertion, "assertion", limit: s.config.maxAssertionBytes)
        out.pointee = newReference(try s.verifyAssertion(token))
    }
}
