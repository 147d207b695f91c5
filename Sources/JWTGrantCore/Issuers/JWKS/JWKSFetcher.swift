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

/// Fetches a JWKS document. Implementations must be callable from several
/// threads at once and must bound the time they take by the options'
/// timeouts.
public protocol JWKSFetcher: Sendable {
    func fetch(url: String, options: JWKSEndpointOptions) -> JWKSFetchResult
}

/// A fetcher implemented by the host (a server with its own event loop, a
/// test): a closure that gets the URL and options and returns the result.
/// The C shell builds one around a `jwtgrant_jwks_fetch_fn`.
public struct CallbackJWKSFetcher: JWKSFetcher {
    public typealias Body = @Sendable (_ url: String, _ options: JWKSEndpointOptions) -> JWKSFetchResult
    private let body: Body

    public init(_ body: @escaping Body) { self.body = body }

    public func fetch(url: String, options: JWKSEndpointOptions) -> JWKSFetchResult {
        body(url, options)
    }
}
