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
        let token = try observedBounds(s, assertion)
        if let claimsJSONOut {
            claimsJSONOut.pointee = try s.verifyAssertionText(token)
        } else {
            s.refreshIfDue()
            try s.observedVerification(token) { (_) throws(JWTGrantError) in }
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
        let token = try observedBounds(s, assertion)
        out.pointee = newReference(try s.verifyAssertion(token))
    }
}

/// The assertion's bytes within `max_assertion_size`; a refusal (NULL, too
/// large) is counted and reported as a verification like any other.
private func observedBounds(_ s: AuthorizationServer, _ assertion: UnsafePointer<CChar>?) throws(JWTGrantError) -> UnsafeRawBufferPointer {
    do {
        return try boundedBytes(assertion, "assertion", limit: s.config.maxAssertionBytes)
    } catch {
        s.audit.verification(error, facts: ValidationFacts(), now: s.clock.now())
        throw error
    }
}
