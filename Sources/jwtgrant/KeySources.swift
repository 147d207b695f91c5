// Header section "JWKS endpoints: host-side fetching".
#if canImport(Glibc)
import Glibc
#endif
import CJWTGrantHeader
import JWTGrantCore

/// The host's fetch function and its user_data, carried into the engine.
private struct HostFetchFunction: @unchecked Sendable {
    let fn: jwtgrant_jwks_fetch_fn     // @convention(c), non-optional here
    let userData: UnsafeMutableRawPointer?
}

/// The sinks whose fetch function is running. A sink pointer the host passes
/// back is used only if it is in this set, so a stale or made-up pointer is
/// JWTGRANT_EINVAL instead of a use-after-free.
private let liveSinks = Locked<[UInt: JWKSFetchSink]>([:])

private func liveSink(_ p: OpaquePointer?) -> JWKSFetchSink? {
    guard let p else { return nil }
    let key = UInt(bitPattern: UnsafeRawPointer(p))
    return liveSinks.withLock { $0[key] }
}

@c @implementation
public func jwtgrant_set_jwks_fetcher(_ ctx: OpaquePointer?, _ fn: jwtgrant_jwks_fetch_fn?,
                                      _ userData: UnsafeMutableRawPointer?,
                                      _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        guard let fn else {
            s.jwksFetchers.setHostFetch(nil)
            return
        }
        let host = HostFetchFunction(fn: fn, userData: userData)
        s.jwksFetchers.setHostFetch { issuerName, url, options in
            let sink = JWKSFetchSink(sizeLimit: options.sizeLimitBytes)
            let raw = Unmanaged.passUnretained(sink).toOpaque()
            let key = UInt(bitPattern: raw)
            liveSinks.withLock { $0[key] = sink }
            let rc: Int32 = issuerName.withCString { n in
                url.withCString { u in
                    host.fn(host.userData, n, u, Int32(clamping: options.totalTimeoutMs),
                            Int32(clamping: options.sizeLimitBytes), OpaquePointer(raw))
                }
            }
            liveSinks.withLock { _ = $0.removeValue(forKey: key) }
            return sink.finish(returnCode: rc)       // seals the sink
        }
    }
}

@c @implementation
public func jwtgrant_jwks_fetch_result(_ sink: OpaquePointer?, _ httpStatus: Int32,
                                       _ body: UnsafePointer<CChar>?, _ len: Int,
                                       _ maxAge: Int32) -> Int32 {
    guard let s = liveSink(sink) else { return ErrorCode.invalidArgument.rawValue }
    // size_t arrives as Int: a length above Int.max is negative here.
    guard len >= 0, body != nil || len == 0 else { return ErrorCode.invalidArgument.rawValue }
    let buf = UnsafeRawBufferPointer(start: body, count: body == nil ? 0 : len)
    return s.deliver(status: Int(httpStatus), body: buf, maxAge: Int(maxAge))
        ? 0 : ErrorCode.invalidArgument.rawValue
}

@c @implementation
public func jwtgrant_jwks_fetch_error(_ sink: OpaquePointer?, _ reason: UnsafePointer<CChar>?) -> Int32 {
    guard let s = liveSink(sink) else { return ErrorCode.invalidArgument.rawValue }
    let text = reason.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strnlen($0, 512)),
                                   as: UTF8.self) } ?? ""
    return s.fail(text) ? 0 : ErrorCode.invalidArgument.rawValue
}

@c @implementation
public func jwtgrant_issuer_set_jwks(_ ctx: OpaquePointer?, _ issuerName: UnsafePointer<CChar>?,
                                     _ jwksJSON: UnsafePointer<CChar>?, _ maxAgeSeconds: Int32,
                                     _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let name = try requiredString(issuerName, "issuer_name")
        let text = try requiredString(jwksJSON, "jwks_json")
        let doc = try JSONValue.parseObject(text, what: "jwks_json")
        let maxAge: Int? = maxAgeSeconds < 0 ? nil : Int(maxAgeSeconds)
        try s.supplyJWKS(issuerName: name, document: doc, maxAge: maxAge)
    }
}
