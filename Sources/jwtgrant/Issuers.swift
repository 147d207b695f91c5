// Header section "Trusted token issuers".
import CJWTGrantHeader
import JWTGrantCore

@c @implementation
public func jwtgrant_register_issuer(_ ctx: OpaquePointer?, _ issuerJSON: UnsafePointer<CChar>?,
                                     _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        try s.registerIssuer(json: requiredString(issuerJSON, "issuer_json"))
    }
}

@c @implementation
public func jwtgrant_remove_issuer(_ ctx: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                   _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        try s.removeIssuer(name: requiredString(name, "name"))
    }
}

@c @implementation
public func jwtgrant_list_issuers(_ ctx: OpaquePointer?, _ issuersJSONOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                  _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    issuersJSONOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let out = try requiredOut(issuersJSONOut, "issuers_json_out")
        out.pointee = try jsonCString(s.listIssuers())
    }
}
