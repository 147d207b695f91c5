// Helpers shared by the exported functions: C strings in and out, error
// messages, and the handle <-> object mapping. Nothing here may trap on what
// a caller passes.
#if canImport(Glibc)
import Glibc
#endif
import JWTGrantCore
import CJansson

typealias CStringOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

/// A malloc'd copy of `s` that the caller frees with jwtgrant_free (nil on OOM).
@inline(__always)
func cString(_ s: String) -> UnsafeMutablePointer<CChar>? {
    strdup(s)
}

/// Clears an optional error slot (success path).
@inline(__always)
func clearError(_ errorOut: CStringOut?) {
    errorOut?.pointee = nil
}

/// Reports `error` through the optional error slot and returns its status.
@inline(__always)
func fail(_ error: JWTGrantError, _ errorOut: CStringOut?) -> Int32 {
    errorOut?.pointee = cString(error.reason)
    return error.code.rawValue
}

@inline(__always)
func fail(_ code: ErrorCode, _ reason: String, _ errorOut: CStringOut?) -> Int32 {
    fail(JWTGrantError(code, reason), errorOut)
}

/// The server behind a `jwtgrant_ctx *`, or nil for NULL.
@inline(__always)
func server(_ ctx: OpaquePointer?) -> AuthorizationServer? {
    guard let ctx else { return nil }
    return Unmanaged<AuthorizationServer>.fromOpaque(UnsafeRawPointer(ctx)).takeUnretainedValue()
}

/// Whether `s` was created in this process (not before a fork()).
@inline(__always)
func createdHere(_ s: AuthorizationServer) -> Bool {
    s.forkGeneration == ForkGuard.generation
}

/// Runs `body` with the server of `ctx`, mapping NULL, a context created
/// before a fork() (ForkGuard) and thrown errors to status codes and messages.
@inline(__always)
func withServer(_ ctx: OpaquePointer?, _ errorOut: CStringOut?,
                _ body: (AuthorizationServer) throws(JWTGrantError) -> Void) -> Int32 {
    guard let s = server(ctx) else { return fail(.invalidArgument, "ctx is NULL", errorOut) }
    guard createdHere(s) else {
        return fail(.invalidArgument, ForkGuard.forkedContextReason, errorOut)
    }
    do {
        try body(s)
    } catch {
        return fail(error, errorOut)
    }
    clearError(errorOut)
    return 0
}

/// A required C string argument as Swift text; `.invalidArgument` for NULL or invalid UTF-8.
@inline(__always)
func requiredString(_ p: UnsafePointer<CChar>?, _ name: String) throws(JWTGrantError) -> String {
    guard let p else { throw JWTGrantError(.invalidArgument, "\(name) is NULL") }
    // Invalid UTF-8 is refused, never repaired into something else.
    guard let s = String(validating: UnsafeRawBufferPointer(start: p, count: strlen(p)), as: UTF8.self) else {
        throw JWTGrantError(.invalidArgument, "\(name) is not valid UTF-8")
    }
    return s
}

/// A required output slot; throws for NULL.
@inline(__always)
func requiredOut<T>(_ p: UnsafeMutablePointer<T>?, _ name: String) throws(JWTGrantError) -> UnsafeMutablePointer<T> {
    guard let p else { throw JWTGrantError(.invalidArgument, "\(name) is NULL") }
    return p
}

/// The bytes of a C string argument without copying. Reads at most
/// `limit + 1` bytes, so a huge input is refused without scanning it all.
@inline(__always)
func boundedBytes(_ p: UnsafePointer<CChar>?, _ name: String, limit: Int) throws(JWTGrantError) -> UnsafeRawBufferPointer {
    guard let p else { throw JWTGrantError(.invalidArgument, "\(name) is NULL") }
    let n = strnlen(p, limit + 1)
    guard n <= limit else { throw JWTGrantError(.malformed, "\(name) is larger than \(limit) bytes") }
    return UnsafeRawBufferPointer(start: p, count: n)
}

/// `value` as JSON text for an out-parameter (malloc'd; jwtgrant_free).
@inline(__always)
func jsonCString(_ value: JSONValue) throws(JWTGrantError) -> UnsafeMutablePointer<CChar> {
    guard let text = value.serializedCString() else {
        throw JWTGrantError(.outOfMemory, "out of memory for the JSON result")
    }
    return text
}

/// A new jansson reference to `value` for a `json_t **` out-parameter.
@inline(__always)
func newReference(_ value: JSONValue) -> UnsafeMutablePointer<json_t>? {
    json_incref(value.raw)
}
