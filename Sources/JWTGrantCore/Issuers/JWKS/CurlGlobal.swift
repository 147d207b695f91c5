import CCurl

/// `curl_global_init` runs exactly once per process, before the first easy
/// handle or URL handle: Swift initialises a global `let` lazily under
/// `swift_once`, which is thread-safe. The library never calls
/// `curl_global_cleanup` (a host may share libcurl with us).
enum CurlGlobal {
    private static let initResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Whether libcurl is usable; call before any other libcurl function.
    static func ensureInitialized() -> Bool { initResult == CURLE_OK }
}
