/// The `scope` syntax of RFC 6749 section 3.3:
/// `scope = scope-token *( SP scope-token )`,
/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
enum ScopeSyntax {
    static func isValidToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy { c in
            c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)
        }
    }

    /// The scope tokens of a `scope` parameter, duplicates removed, in order;
    /// nil when it breaks the grammar (empty token, double or edge space,
    /// forbidden character).
    static func parse(_ value: String) -> [Identifier]? {
        var out: [Identifier] = []
        var seen: Set<Identifier> = []
        for part in value.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false) {
            let token = Identifier(bytes: Array(part))
            guard isValidToken(token) else { return nil }
            if seen.insert(token).inserted { out.append(token) }
        }
        return out
    }

    static func isValidToken(_ token: Identifier) -> Bool {
        !token.isEmpty && token.bytes.allSatisfy { c in
            c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)
        }
    }
}
