/// The identity of a used assertion in a replay store: opaque bytes, compared
/// and hashed byte for byte (never as a Swift `String`, whose equality is
/// Unicode canonical equivalence). Built only by `ReplayRule`; stores keep
/// the bytes as they are (a SQLite BLOB, a Redis key suffix).
public struct ReplayKey: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The key made of a string's UTF-8 bytes (tests and fixed keys).
    public init(_ text: String) { self.bytes = Array(text.utf8) }
}
