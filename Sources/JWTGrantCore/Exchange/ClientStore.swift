/// Where registered clients live. The registry talks only to this protocol, so
/// a sqlite or redis store can hold clients (the secret as its
/// `ClientSecretHash` salt and digest) without changes elsewhere.
public protocol ClientStore: Sendable {
    /// Adds `client`; throws `.alreadyExists` when its id is taken (atomically:
    /// of two concurrent inserts of one id exactly one succeeds).
    func insert(_ client: Client) throws(JWTGrantError)
    /// The client with `clientID`, or nil. Throws `.storeFailure` when the
    /// store cannot answer.
    func client(id clientID: String) throws(JWTGrantError) -> Client?
    /// Removes the client with `clientID`; false when there was none.
    func remove(id clientID: String) throws(JWTGrantError) -> Bool
    /// Replaces the client with `clientID` by `transform(current)`,
    /// atomically (no other update of that client in between); nil when there
    /// is no such client. An error thrown by `transform` leaves it unchanged.
    func update(id clientID: String,
                _ transform: (Client) throws(JWTGrantError) -> Client) throws(JWTGrantError) -> Client?
    /// Every client, in no particular order.
    func all() throws(JWTGrantError) -> [Client]
}
