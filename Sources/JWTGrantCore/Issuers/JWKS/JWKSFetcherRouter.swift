/// The fetcher of one context: the built-in libcurl fetcher, or the host's
/// fetch function once one is set (`jwtgrant_set_jwks_fetcher`). Each issuer
/// gets a fetcher from `fetcher(forIssuer:)` that reads the current choice at
/// every fetch, so setting or clearing the host function applies to issuers
/// registered before.
public final class JWKSFetcherRouter: @unchecked Sendable {
    /// A host fetch: the issuer's name (so the host can later hand the
    /// document in with `jwtgrant_issuer_set_jwks`), the URL and the options.
    public typealias HostFetch = @Sendable (_ issuerName: String, _ url: String,
                                            _ options: JWKSEndpointOptions) -> JWKSFetchResult

    private let builtin: any JWKSFetcher
    private let lock = ReadWriteLock()
    private var host: HostFetch? = nil

    public init(builtin: any JWKSFetcher = CurlJWKSFetcher()) { self.builtin = builtin }

    /// Sets the host fetch function; nil returns to the built-in fetcher.
    public func setHostFetch(_ fetch: HostFetch?) { lock.withWriteLock { host = fetch } }

    /// Whether a host fetch function is set.
    public var hasHostFetch: Bool { lock.withReadLock { host != nil } }

    /// The fetcher to give the key set of issuer `name`.
    public func fetcher(forIssuer name: String) -> any JWKSFetcher {
        CallbackJWKSFetcher { [self] url, options in
            if let h = lock.withReadLock({ host }) { return h(name, url, options) }
            return builtin.fetch(url: url, options: options)
        }
    }
}
