/// Reads the members of a JSON object that configures something, strictly:
/// wrong types are errors naming the field, and `finish()` rejects any member
/// that was not read (so a typo is never silently ignored).
public struct StrictObjectReader {
    private let object: JSONValue
    private let path: String
    private var seen: Set<Identifier> = []

    /// - Parameter path: the name of this object in messages ("" for the top level).
    public init(_ object: JSONValue, path: String = "") throws(JWTGrantError) {
        guard object.isObject else {
            throw JWTGrantError(.invalidArgument, "\(path.isEmpty ? "document" : path) must be a JSON object")
        }
        self.object = object
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member `key`; nil when absent. A JSON null is present (and so a
    /// type error for every reader below): absence is spelled by leaving
    /// the member out.
    private mutating func member(_ key: String) -> JSONValue? {
        seen.insert(Identifier(key))
        return object[key]
    }

    public mutating func string(_ key: String, allowEmpty: Bool = false) throws(JWTGrantError) -> String? {
        guard let v = member(key) else { return nil }
        guard let s = v.stringValue else { throw JWTGrantError(.invalidArgument, "\(name(key)) must be a string") }
        if !allowEmpty && s.isEmpty { throw JWTGrantError(.invalidArgument, "\(name(key)) must not be empty") }
        if s.utf8.contains(0) { throw JWTGrantError(.invalidArgument, "\(name(key)) must not contain NUL") }
        return s
    }

    public mutating func requiredString(_ key: String) throws(JWTGrantError) -> String {
        guard let s = try string(key) else { throw JWTGrantError(.invalidArgument, "\(name(key)) is required") }
        return s
    }

    public mutating func bool(_ key: String) throws(JWTGrantError) -> Bool? {
        guard let v = member(key) else { return nil }
        guard let b = v.boolValue else { throw JWTGrantError(.invalidArgument, "\(name(key)) must be true or false") }
        return b
    }

    /// An integer within `range` (a JSON integer; reals are refused).
    public mutating func integer(_ key: String, in range: ClosedRange<Int64>) throws(JWTGrantError) -> Int64? {
        guard let v = member(key) else { return nil }
        guard let i = v.integerValue else { throw JWTGrantError(.invalidArgument, "\(name(key)) must be an integer") }
        guard range.contains(i) else {
            throw JWTGrantError(.invalidArgument, "\(name(key)) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return i
    }

    /// A number (integer or fraction) within `range`.
    public mutating func number(_ key: String, in range: ClosedRange<Double>) throws(JWTGrantError) -> Double? {
        guard let v = member(key) else { return nil }
        guard let d = v.numberValue, range.contains(d) else {
            throw JWTGrantError(.invalidArgument,
                                "\(name(key)) must be a number between \(range.lowerBound) and \(range.upperBound)")
        }
        return d
    }

    public mutating func stringArray(_ key: String) throws(JWTGrantError) -> [String]? {
        guard let v = member(key) else { return nil }
        guard v.isArray else { throw JWTGrantError(.invalidArgument, "\(name(key)) must be an array of strings") }
        var out: [String] = []
        for e in v.elements {
            guard let s = e.stringValue, !s.isEmpty, !s.utf8.contains(0) else {
                throw JWTGrantError(.invalidArgument, "\(name(key)) must be an array of non-empty strings")
            }
            out.append(s)
        }
        return out
    }

    /// A nested object, read by its own strict reader.
    public mutating func object(_ key: String) throws(JWTGrantError) -> StrictObjectReader? {
        guard let v = member(key) else { return nil }
        return try StrictObjectReader(v, path: name(key))
    }

    /// The raw member (for values with their own parser, such as an inline JWKS).
    public mutating func raw(_ key: String) -> JSONValue? { member(key) }

    /// Rejects any member that was not read.
    public func finish() throws(JWTGrantError) {
        for key in object.keys where !seen.contains(Identifier(key)) {
            throw JWTGrantError(.invalidArgument, "unknown field \"\(name(printable(key)))\"")
        }
    }
}
