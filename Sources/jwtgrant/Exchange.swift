// Header sections "Applications", the token endpoint and "Access tokens this
// server issues".
#if canImport(Glibc)
import Glibc
#endif
import CJWTGrantHeader
import JWTGrantCore
import CJansson

@c @implementation
public func jwtgrant_register_client(_ ctx: OpaquePointer?, _ clientJSON: UnsafePointer<CChar>?,
                                     _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        try s.registerClient(json: try requiredString(clientJSON, "client_json"))
    }
}

@c @implementation
public func jwtgrant_remove_client(_ ctx: OpaquePointer?, _ clientID: UnsafePointer<CChar>?,
                                   _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        try s.clients.remove(id: try requiredString(clientID, "client_id"))
    }
}

@c @implementation
public func jwtgrant_list_clients(_ ctx: OpaquePointer?, _ clientsJSONOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                  _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    clientsJSONOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let out = try requiredOut(clientsJSONOut, "clients_json_out")
        out.pointee = try jsonCString(s.listClients())
    }
}

@c @implementation
public func jwtgrant_rotate_client_secret(_ ctx: OpaquePointer?, _ clientID: UnsafePointer<CChar>?,
                                          _ newSecret: UnsafePointer<CChar>?, _ graceSeconds: Int64,
                                          _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let id = try requiredString(clientID, "client_id")
        try s.clients.rotateSecret(id: id, newSecret: try requiredString(newSecret, "new_secret"),
                                   graceSeconds: graceSeconds)
    }
}

/// Hands a token response to the caller (either slot may be NULL).
/// Returns the status code to return.
private func deliver(_ response: TokenResponse, _ httpStatusOut: UnsafeMutablePointer<Int32>?,
                     _ responseOut: CStringOut?) -> Int32 {
    httpStatusOut?.pointee = response.httpStatus
    guard let responseOut else { return response.statusCode }
    guard let text = cString(response.serialized()) else {
        responseOut.pointee = nil
        httpStatusOut?.pointee = ErrorCode.outOfMemory.httpStatus
        return ErrorCode.outOfMemory.rawValue
    }
    responseOut.pointee = text
    return response.statusCode
}

@c @implementation
public func jwtgrant_exchange_token(_ ctx: OpaquePointer?, _ authorization: UnsafePointer<CChar>?,
                                    _ formBody: UnsafePointer<CChar>?, _ httpStatusOut: UnsafeMutablePointer<Int32>?,
                                    _ responseOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // Caller bugs (NULL ctx or status slot) are the host's fault, not the
    // client's: a 500 server_error answer, and JWTGRANT_EINVAL returned.
    guard let s = server(ctx), httpStatusOut != nil else {
        let what = ctx == nil ? "ctx is NULL" : "http_status_out is NULL"
        let r = deliver(TokenResponse(error: JWTGrantError(.internalError, what)), httpStatusOut, responseOut)
        return r == ErrorCode.outOfMemory.rawValue ? r : ErrorCode.invalidArgument.rawValue
    }
    guard createdHere(s) else {
        let r = deliver(TokenResponse(error: JWTGrantError(.internalError, ForkGuard.forkedContextReason)),
                        httpStatusOut, responseOut)
        return r == ErrorCode.outOfMemory.rawValue ? r : ErrorCode.invalidArgument.rawValue
    }
    let response: TokenResponse
    let header = authorization.map { UnsafeRawBufferPointer(start: $0, count: strlen($0)) }
    let body = formBody.map { UnsafeRawBufferPointer(start: $0, count: strlen($0)) }
    response = s.exchange(authorization: header, body: body)
    return deliver(response, httpStatusOut, responseOut)
}

@c @implementation
public func jwtgrant_token_body_limit(_ ctx: OpaquePointer?, _ limitOut: UnsafeMutablePointer<Int>?,
                                      _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        try requiredOut(limitOut, "limit_out").pointee = s.tokenEndpoint.maxBodySize
    }
}

@c @implementation
public func jwtgrant_jwks(_ ctx: OpaquePointer?, _ jwksOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                          _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jwksOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let out = try requiredOut(jwksOut, "jwks_json_out")
        out.pointee = try jsonCString(s.tokenEndpoint.jwksJSON())
    }
}

@c @implementation
public func jwtgrant_verify_access_token(_ ctx: OpaquePointer?, _ token: UnsafePointer<CChar>?,
                                         _ claimsOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                         _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    claimsOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        guard let token else { throw JWTGrantError(.invalidArgument, "token is NULL") }
        let claims = try s.tokenEndpoint.verifyAccessToken(UnsafeRawBufferPointer(start: token, count: strlen(token)))
        if let claimsOut { claimsOut.pointee = try jsonCString(claims) }
    }
}

@c @implementation
public func jwtgrant_verify_access_token_json(_ ctx: OpaquePointer?, _ token: UnsafePointer<CChar>?,
                                              _ claimsOut: UnsafeMutablePointer<UnsafeMutablePointer<json_t>?>?,
                                              _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    claimsOut?.pointee = nil
    return withServer(ctx, errorOut) { (s) throws(JWTGrantError) in
        let out = try requiredOut(claimsOut, "claims_out")
        guard let token else { throw JWTGrantError(.invalidArgument, "token is NULL") }
        out.pointee = newReference(
            try s.tokenEndpoint.verifyAccessToken(UnsafeRawBufferPointer(start: token, count: strlen(token))))
    }
}
