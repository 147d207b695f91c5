#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CCurl

/// Owns one libcurl easy handle, its request header list and its error
/// buffer; all freed in `deinit`. One transfer per instance.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private var headers: UnsafeMutablePointer<curl_slist>? = nil
    let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        guard CurlGlobal.ensureInitialized(), let h = curl_easy_init() else { return nil }
        handle = h
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = jg_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headers { curl_slist_free_all(headers) }
        errorBuffer.deallocate()
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: Int) -> Bool {
        jg_curl_setopt_long(handle, option, value) == CURLE_OK
    }

    /// libcurl copies string options (since 7.17), so the C string need not outlive the call.
    @discardableResult
    func set(_ option: CURLoption, _ value: String) -> Bool {
        value.withCString { jg_curl_setopt_ptr(handle, option, $0) == CURLE_OK }
    }

    @discardableResult
    func set(_ option: CURLoption, pointer: UnsafeRawPointer?) -> Bool {
        jg_curl_setopt_ptr(handle, option, pointer) == CURLE_OK
    }

    /// Adds a request header ("Accept: application/json").
    func addHeader(_ line: String) {
        if let l = curl_slist_append(headers, line) { headers = l }
        _ = jg_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, UnsafeRawPointer(headers))
    }

    func perform() -> CURLcode { curl_easy_perform(handle) }

    func responseCode() -> Int {
        var code = 0
        _ = jg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// The detail libcurl wrote into the error buffer, if any.
    var errorDetail: String {
        let s = String(cString: errorBuffer)
        return s.hasSuffix("\n") ? String(s.dropLast()) : s
    }
}
