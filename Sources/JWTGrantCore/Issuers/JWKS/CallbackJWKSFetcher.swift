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
