// Header section "Audit trail and counters".
import CJWTGrantHeader
import JWTGrantCore

private struct HostLogFunction: @unchecked Sendable {
    let fn: jwtgrant_log_fn            // @convention(c), non-optional here
    let userData: UnsafeMutableRawPointer?
}

@c @implementation
public func jwtgrant_set_log_callback(_ ctx: OpaquePointer?, _ fn: jwtgrant_log_fn?,
                                      _ userData: UnsafeMutableRawPointer?,
                                      _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        guard let fn else {
            s.audit.setSink(nil)
            return
        }
        let host = HostLogFunction(fn: fn, userData: userData)
        s.audit.setSink(LogSink { level, event in host.fn(host.userData, level, event) })
    }
}

@c @implementation
public func jwtgrant_stats(_ ctx: OpaquePointer?, _ statsJSONOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                           _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    statsJSONOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let out = try requiredOut(statsJSONOut, "stats_json_out")
        out.pointee = try jsonCString(s.statsJSON())
    }
}
