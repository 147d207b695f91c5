// libFuzzer entry point over the engine (built by Tests/Fuzz/run with
// -sanitize=fuzzer,address; compiled into one module with JWTGrantCore's
// sources, so internals are reachable). The first byte of an input picks
// the target; the rest is the data:
//   0  a compact JWS handed to verifyAssertion as is;
//   1  "header\npayload": both signed with the trusted issuer's Ed25519 key,
//      so that every claim rule after the signature is reached;
//   2  an issuer registration document (PEM, DER, JWK, JWKS parsing);
//   3  "authorization\nform body" at the token endpoint;
//   4  a server configuration document;
//   5  a JWKS document handed in for a "jwks" issuer;
//   6  a JSON document read by both the hot path's reader (simdjson,
//      JOSEObject) and jansson: any difference in verdict or value traps
//      (JSONDifferential, shared with the XCTest of the same name).
// Every call must return a status, never crash, leak or read out of bounds.

#if canImport(Glibc)
import Glibc
#endif

private final class Fixture: @unchecked Sendable {
    let server: AuthorizationServer
    let key: SigningKey
    /// The trusted issuer's key set: {"keys": [key's public JWK]}.
    let jwks: JSONValue
    init() {
        server = try! AuthorizationServer(configJSON: nil)
        server.clock.set(1_750_000_000)
        key = try! SigningKey.generate(.edDSA)
        jwks = JSONValue.object()
        let keys = JSONValue.array()
        keys.append(key.publicJWK)
        jwks.set("keys", keys)
        let reg = JSONValue.object()
        reg.set("name", .string("fuzz"))
        reg.set("issuer", .string("https://fuzz.example.com"))
        reg.set("alias", .string("https://alias.example.com"))
        reg.set("jwks", jwks)
        try! server.registerIssuer(json: reg.serialized())
        _ = try! server.clients.register(json:
            #"{"client_id":"app","client_secret":"secret-secret","grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer"],"scopes":["read","write"]}"#)
    }
}

nonisolated(unsafe) private var fixture: Fixture? = nil

private func split(_ b: UnsafeRawBufferPointer) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer) {
    guard let nl = b.firstIndex(of: 0x0A) else { return (b, UnsafeRawBufferPointer(rebasing: b[b.endIndex...])) }
    return (UnsafeRawBufferPointer(rebasing: b[..<nl]), UnsafeRawBufferPointer(rebasing: b[(nl + 1)...]))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    if fixture == nil { fixture = Fixture() }
    let f = fixture!
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    switch data[0] % 7 {
    case 0:
        _ = try? f.server.verifyAssertion(input)
    case 1:
        let (h, p) = split(input)
        let signingInput = Base64URL.encode(Array(h)) + "." + Base64URL.encode(Array(p))
        var text = signingInput
        let sig = text.withUTF8 { buf in try? f.key.sign(UnsafeRawBufferPointer(buf)) }
        guard let sig else { return 0 }
        var token = signingInput + "." + Base64URL.encode(sig)
        token.withUTF8 { buf in
            if let claims = try? f.server.verifyAssertion(UnsafeRawBufferPointer(buf)) { _ = claims.serialized() }
            if let text = try? f.server.verifyAssertionText(UnsafeRawBufferPointer(buf)) { free(text) }
        }
    case 2:
        let s = String(decoding: input, as: UTF8.self)
        if (try? f.server.registerIssuer(json: s)) != nil {
            for i in f.server.listIssuers().elements {
                if let n = i["name"]?.stringValue, n != "fuzz" { try? f.server.removeIssuer(name: n) }
            }
        }
    case 3:
        let (a, b) = split(input)
        _ = f.server.tokenEndpoint.handle(authorization: a, body: b)
    case 4:
        // Every configuration is parsed; a server is built only on the memory
        // store (a fuzzed "sqlite:PATH" would create files, a "redis://"
        // URL would resolve host names).
        let text = String(decoding: input, as: UTF8.self)
        if let config = try? ServerConfig(json: text), config.store == .memory {
            _ = try? AuthorizationServer(configJSON: text)
        }
    case 6:
        if let difference = JSONDifferential.disagreement(input) {
            fatalError("simdjson and jansson disagree: \(difference)")
        }
    default:
        if let doc = try? JSONValue.parse(input, what: "JWKS") {
            _ = try? f.server.supplyJWKS(issuerName: "fuzz", document: doc, maxAge: nil)
            // Put the fixture's own key back for the other targets.
            try! f.server.supplyJWKS(issuerName: "fuzz", document: f.jwks, maxAge: nil)
        }
    }
    return 0
}
