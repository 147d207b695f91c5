/// One authorization server: what a `jwtgrant_ctx` is. Safe to use from many
/// threads at once.
public final class AuthorizationServer: @unchecked Sendable {
    public let clock: AdjustableClock

    public init(configJSON: String?, clock: AdjustableClock = AdjustableClock()) throws(JWTGrantError) {
        self.clock = clock
    }
}
