// Header section "Server context".
import CJWTGrantHeader
import JWTGrantCore

@c @implementation
public func jwtgrant_ctx_new(_ out: UnsafeMutablePointer<OpaquePointer?>?,
                             _ configJSON: UnsafePointer<CChar>?,
                             _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "out is NULL", errorOut) }
    out.pointee = nil
    do {
        let config = try configJSON.map { (p) throws(JWTGrantError) -> String in try requiredString(p, "config_json") }
        let s = try AuthorizationServer(configJSON: config)
        out.pointee = OpaquePointer(Unmanaged.passRetained(s).toOpaque())
    } catch {
        return fail(error, errorOut)
    }
    clearError(errorOut)
    return 0
}

@c @implementation
public func jwtgrant_ctx_free(_ ctx: OpaquePointer?) {
    guard let ctx else { return }
    let handle = Unmanaged<AuthorizationServer>.fromOpaque(UnsafeRawPointer(ctx))
    // In a child of fork() the parent's context is left alone (its memory
    // leaks in the child): tearing it down would wait for JWKS threads that
    // do not exist here and take locks that threads of the parent may have
    // held at the fork.
    guard handle._withUnsafeGuaranteedRef({ createdHere($0) }) else { return }
    handle.release()
}

@c @implementation
public func jwtgrant_ctx_set_time(_ ctx: OpaquePointer?, _ unixTime: Int64,
                                  _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        guard unixTime >= 0 else { throw JWTGrantError(.invalidArgument, "unix_time must not be negative") }
        s.clock.set(unixTime)
    }
}
