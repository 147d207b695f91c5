/// What one fetch of a JWKS endpoint produced.
public enum JWKSFetchResult: Sendable {
    /// The server answered. `maxAge` is the `Cache-Control: max-age` in
    /// seconds (0 for `no-store`/`no-cache`), nil when absent. The body is
    /// at most `sizeLimitBytes` long (a fetcher fails with "oversized"
    /// rather than truncate). The status is not judged here: the key set
    /// decides what a 3xx/4xx/5xx means.
    case response(status: Int, body: [UInt8], maxAge: Int?)
    /// No answer: the reason says which ("unreachable: ...", "timeout ...",
    /// "oversized ...", "TLS ...").
    case failure(String)
    /// The fetch was handed to the host, which will supply the document
    /// later (`RemoteKeySet.supply`). The current request cannot wait for it.
    case deferred
}
