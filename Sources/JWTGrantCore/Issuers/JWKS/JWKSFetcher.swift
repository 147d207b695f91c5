/// Fetches a JWKS document. Implementations must be callable from several
/// threads at once and must bound the time they take by the options'
/// timeouts.
public protocol JWKSFetcher: Sendable {
    func fetch(url: String, options: JWKSEndpointOptions) -> JWKSFetchResult
}
