// Header section "Library": version, status names, memory.
#if canImport(Glibc)
import Glibc
#endif
import CJWTGrantHeader
import JWTGrantCore

private let versionString: StaticString = "1.0.0"

@c @implementation
public func jwtgrant_version() -> UnsafePointer<CChar>! {
    UnsafeRawPointer(versionString.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func jwtgrant_version_number() -> Int32 {
    JWTGRANT_VERSION_MAJOR * 1_000_000 + JWTGRANT_VERSION_MINOR * 1_000 + JWTGRANT_VERSION_PATCH
}

private func staticCString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func jwtgrant_status_name(_ status: Int32) -> UnsafePointer<CChar>! {
    if status == 0 { return staticCString("JWTGRANT_OK") }
    guard let code = ErrorCode(rawValue: status) else { return staticCString("JWTGRANT_UNKNOWN") }
    return staticCString(code.statusName)
}

@c @implementation
public func jwtgrant_oauth_error(_ status: Int32) -> UnsafePointer<CChar>? {
    if status == 0 { return nil }
    guard let code = ErrorCode(rawValue: status) else { return staticCString("server_error") }
    return staticCString(code.oauthError)
}

@c @implementation
public func jwtgrant_free(_ ptr: UnsafeMutableRawPointer?) {
    free(ptr)
}
