import XCTest
@testable import JWTGrantCore

/// Refusal reasons are built only from static text and the server's own
/// configuration, never from a token or a request. In the files a token or a
/// token request passes through, every string interpolation must be one of
/// the audited expressions below; a new call site interpolating anything
/// else (a kid, an alg, a claim value) fails here. The Python suite checks
/// the same property on every refusal at run time (helpers.assert_no_token_text).
final class MessageDisciplineTests: XCTestCase {
    static let tokenPath = [
        "JOSE/CompactJWS.swift", "JOSE/Base64URL.swift", "JOSE/ECDSASignature.swift",
        "Validation", "Issuers/StaticKeySource.swift", "Issuers/JWKSURIKeySource.swift",
        "Issuers/JWKS/RemoteKeySet.swift", "Exchange/TokenRequest.swift", "Exchange/FormBody.swift",
        "Exchange/TokenEndpoint.swift", "Exchange/BasicCredentials.swift", "Exchange/ClientRegistry.swift",
        "Exchange/SigningKeySigner.swift", "Stores",
    ]

    /// Each audited interpolation and why it holds no caller text.
    static let audited: [String: String] = [
        "maxLength": "configured size limit",
        "what": "StaticString: the segment's name",
        "what()": "built by FormBody.describe: known parameter names only",
        "name": "StaticString: the claim's name (NumericDate.read)",
        "printable(issuer.name)": "the server's own issuer registration",
        "kind": "\"certificate\" or \"jwks\"",
        "url": "the configured jwks_uri",
        "lastError ?? \"no key set available\"": "fetch outcome of the configured endpoint (no token text)",
        "lastError ?? \"fetch failed\"": "fetch outcome of the configured endpoint (no token text)",
        "printable(s)": "a scope of client_json (the server's own registration)",
        "e": "lastError, as above",
        "e.reason": "a nested error of this same audited set",
        "error.reason": "a nested error of this same audited set",
        "options.retryAfterFailure": "configuration",
        "options.sizeLimitBytes": "configuration",
        "status": "the endpoint's HTTP status number",
        "Client.jwtBearerGrantType": "a constant",
        "Self.maxSize": "a constant",
        "maxSize": "the configured body limit (max_assertion_size + a constant)",
        "Self.describe(name)": "known parameter names only, else \"a parameter\"",
        "id.text": "a known parameter name (FormBody.describe)",
        "capacity": "configured store capacity",
        // The shared stores (SQLite, Redis): the configured location, the
        // library's own operations and what the store or the OS answered
        // them; the replay key (which holds a token's iss and jti) never.
        "label": "StoreLocation.label: the configured path or host:port/db, never a password",
        "c.label": "StoreLocation.label, as above",
        "shared.label": "StoreLocation.label, as above",
        "a.label": "RedisAddress.label: the configured host:port/db, never a password",
        "printable(path, limit: 200)": "the configured SQLite path",
        "printable(h)": "the configured Redis host",
        "host": "the configured Redis host",
        "port": "the configured Redis port",
        "database": "the configured Redis database number",
        "address.database": "the configured Redis database number",
        "commandTimeoutMs": "configuration (store_options.command_timeout)",
        "kind.rawValue": "DocumentKind: issuer, client or signing_key",
        "doing": "the store operation, from the library's constants",
        "why": "the OS, SQLite or hiredis error text about the store connection or file",
        "Self.errorText(c)": "hiredis's error text about the connection",
        "Self.errorText(ctx)": "hiredis's error text about the connection",
        "printable(e, limit: 120)": "the Redis server's error reply to one of the library's own commands",
        "version": "the schema version recorded in the database file",
        "schemaVersion": "a constant",
    ]

    func testTokenPathMessagesInterpolateOnlyAuditedValues() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/JWTGrantCore")
        var files: [String] = []
        for p in Self.tokenPath {
            var isDir: ObjCBool = false
            let full = root.appendingPathComponent(p).path
            XCTAssertTrue(FileManager.default.fileExists(atPath: full, isDirectory: &isDir), p)
            if isDir.boolValue {
                for f in try FileManager.default.contentsOfDirectory(atPath: full) where f.hasSuffix(".swift") {
                    files.append(p + "/" + f)
                }
            } else {
                files.append(p)
            }
        }
        var offences: [String] = []
        var seen = 0
        for f in files {
            let text = try String(contentsOfFile: root.appendingPathComponent(f).path, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.trimmingCharacters(in: .whitespaces).hasPrefix("//") { continue }
                for expr in Self.interpolations(in: String(line)) {
                    seen += 1
                    if Self.audited[expr] == nil { offences.append("\(f):\(n + 1): \\(\(expr))") }
                }
            }
        }
        XCTAssertGreaterThan(seen, 10, "the scan found interpolations")
        XCTAssertEqual(offences, [], "a message may not repeat token or request text; audit new interpolations here")
    }

    /// The expressions inside `\( ... )` on one line (balanced parentheses).
    static func interpolations(in line: String) -> [String] {
        var out: [String] = []
        let chars = Array(line)
        var i = 0
        while i + 1 < chars.count {
            if chars[i] == "\\", chars[i + 1] == "(" {
                var depth = 1, j = i + 2
                while j < chars.count, depth > 0 {
                    if chars[j] == "(" { depth += 1 } else if chars[j] == ")" { depth -= 1 }
                    j += 1
                }
                out.append(String(chars[(i + 2)..<max(i + 2, j - 1)]))
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    func testTheScannerSeesInterpolations() {
        XCTAssertEqual(Self.interpolations(in: #"x "\(a) and \(printable(b.c)) \(f(g(h)))""#),
                       ["a", "printable(b.c)", "f(g(h))"])
    }
}
