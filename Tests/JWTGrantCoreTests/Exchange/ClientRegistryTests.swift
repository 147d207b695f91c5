import XCTest
import Synchronization
@testable import JWTGrantCore

final class ClientRegistryTests: XCTestCase {
    private let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    private func assertRejected(_ json: String, _ code: ErrorCode, mentioning word: String? = nil,
                                in registry: ClientRegistry = ClientRegistry(),
                                file: StaticString = #filePath, line: UInt = #line) {
        do {
            try registry.register(json: json)
            XCTFail("accepted \(json)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, code, json, file: file, line: line)
            if let word { XCTAssertTrue(error.reason.contains(word), "\(error.reason) should name \(word)", file: file, line: line) }
        }
    }

    func testRegisterFullClient() throws {
        let r = ClientRegistry()
        let c = try r.register(json: #"{"client_id":"app","client_secret":"s3cret","grant_types":["\#(grant)"],"scopes":["read","write"]}"#)
        XCTAssertEqual(c.clientID, "app")
        XCTAssertTrue(c.isConfidential)
        XCTAssertTrue(c.allowsGrant(Identifier(grant)))
        XCTAssertEqual(c.scopes, ["read", "write"])
        XCTAssertTrue(c.allowsScopes(["read"]))
        XCTAssertFalse(c.allowsScopes(["read", "admin"]))
        XCTAssertNotNil(try r.client(id: "app"))
        XCTAssertNil(try r.client(id: "APP"))
    }

    func testDefaults() throws {
        let c = try ClientRegistry().register(json: #"{"client_id":"app","client_secret":"s"}"#)
        XCTAssertTrue(c.isConfidential)
        XCTAssertFalse(c.isPublic)
        XCTAssertNil(c.authMethod)
        XCTAssertTrue(c.accepts(.clientSecretBasic))
        XCTAssertTrue(c.accepts(.clientSecretPost))
        XCTAssertFalse(c.accepts(.none))
        XCTAssertEqual(c.grantTypes, [])
        XCTAssertNil(c.scopes)
        XCTAssertTrue(c.allowsScopes([]))
        XCTAssertFalse(c.allowsScopes(["anything"]), "absent scopes mean no scope may be requested")
        XCTAssertFalse(c.allowsScopes(["read"]))
    }

    func testEmptyScopeListAllowsNoScope() throws {
        let c = try ClientRegistry().register(json: #"{"client_id":"a","client_secret":"s","scopes":[]}"#)
        XCTAssertFalse(c.allowsScopes(["read"]))
        XCTAssertTrue(c.allowsScopes([]))
    }

    func testAuthMethods() throws {
        let r = ClientRegistry()
        let pub = try r.register(json: #"{"client_id":"pub","token_endpoint_auth_method":"none"}"#)
        XCTAssertTrue(pub.isPublic)
        XCTAssertFalse(pub.isConfidential)
        XCTAssertTrue(pub.accepts(.none))
        XCTAssertFalse(pub.accepts(.clientSecretBasic))
        XCTAssertFalse(pub.accepts(.clientSecretPost))
        let basic = try r.register(json: #"{"client_id":"b","client_secret":"s","token_endpoint_auth_method":"client_secret_basic"}"#)
        XCTAssertEqual(basic.authMethod, .clientSecretBasic)
        XCTAssertTrue(basic.accepts(.clientSecretBasic))
        XCTAssertFalse(basic.accepts(.clientSecretPost))
        XCTAssertFalse(basic.accepts(.none))
        let post = try r.register(json: #"{"client_id":"p","client_secret":"s","token_endpoint_auth_method":"client_secret_post"}"#)
        XCTAssertFalse(post.accepts(.clientSecretBasic))
        XCTAssertTrue(post.accepts(.clientSecretPost))

        XCTAssertEqual(try r.authenticate(clientID: "pub", secret: nil, method: .none).clientID, "pub")
        XCTAssertEqual(try r.authenticate(clientID: "b", secret: "s", method: .clientSecretBasic).clientID, "b")
        XCTAssertEqual(try r.authenticate(clientID: "p", secret: "s", method: .clientSecretPost).clientID, "p")
        for (id, secret, method) in [("pub", "x", ClientAuthMethod.clientSecretPost), ("pub", "", .clientSecretBasic),
                                     ("b", "s", .clientSecretPost), ("p", "s", .clientSecretBasic),
                                     ("b", nil, .none), ("ghost", nil, .none), ("PUB", nil, .none)] as [(String, String?, ClientAuthMethod)] {
            XCTAssertThrowsError(try r.authenticate(clientID: id, secret: secret, method: method), "\(id)") { error in
                XCTAssertEqual((error as? JWTGrantError)?.code, .invalidClient)
            }
        }
    }

    /// A client without a secret could never authenticate: refused unless
    /// it is declared public, and a public client may not have a secret.
    func testSecretlessClientMustBePublic() {
        assertRejected(#"{"client_id":"a"}"#, .invalidArgument, mentioning: "client_secret")
        assertRejected(#"{"client_id":"a"}"#, .invalidArgument, mentioning: "token_endpoint_auth_method")
        assertRejected(#"{"client_id":"a","token_endpoint_auth_method":"client_secret_basic"}"#, .invalidArgument,
                       mentioning: "client_secret")
        assertRejected(#"{"client_id":"a","client_secret":"s","token_endpoint_auth_method":"none"}"#, .invalidArgument,
                       mentioning: "client_secret")
        assertRejected(#"{"client_id":"a","client_secret":"s","token_endpoint_auth_method":"private_key_jwt"}"#,
                       .invalidArgument, mentioning: "token_endpoint_auth_method")
        assertRejected(#"{"client_id":"a","client_secret":"s","token_endpoint_auth_method":"NONE"}"#,
                       .invalidArgument, mentioning: "token_endpoint_auth_method")
        assertRejected(#"{"client_id":"a","client_secret":"s","token_endpoint_auth_method":1}"#,
                       .invalidArgument, mentioning: "token_endpoint_auth_method")
    }

    func testInvalidDocuments() {
        assertRejected("", .invalidArgument)
        assertRejected("[]", .invalidArgument)
        assertRejected("{}", .invalidArgument, mentioning: "client_id")
        assertRejected(#"{"client_id":""}"#, .invalidArgument, mentioning: "client_id")
        assertRejected(#"{"client_id":7}"#, .invalidArgument, mentioning: "client_id")
        assertRejected(#"{"client_id":"a","client_secret":7}"#, .invalidArgument, mentioning: "client_secret")
        assertRejected(#"{"client_id":"a","client_secret":""}"#, .invalidArgument, mentioning: "client_secret")
        assertRejected(#"{"client_id":"a","client_secret":null}"#, .invalidArgument, mentioning: "client_secret")
        assertRejected(#"{"client_id":"a","grant_types":"\#(grant)"}"#, .invalidArgument, mentioning: "grant_types")
        assertRejected(#"{"client_id":"a","grant_types":[1]}"#, .invalidArgument, mentioning: "grant_types")
        assertRejected(#"{"client_id":"a","scopes":"read"}"#, .invalidArgument, mentioning: "scopes")
        assertRejected(#"{"client_id":"a","scopes":["two words"]}"#, .invalidArgument, mentioning: "scopes")
        assertRejected(#"{"client_id":"a","client_id":"b"}"#, .invalidArgument)
    }

    func testSyntaxErrorsDoNotQuoteTheSecret() {
        for json in [#"{"client_id":"a","client_secret":s3cretvalue}"#, #"{"client_id":"a","client_secret":"s3cretvalue}"#,
                     #"{"client_id":"a","client_secret":"s3cretvalue",}"#] {
            do {
                try ClientRegistry().register(json: json)
                XCTFail("accepted \(json)")
            } catch {
                XCTAssertEqual(error.code, .invalidArgument)
                XCTAssertFalse(error.reason.contains("s3cret"), error.reason)
                XCTAssertTrue(error.reason.contains("client_json"), error.reason)
                XCTAssertTrue(error.reason.contains("line 1"), error.reason)
            }
        }
    }

    func testUnknownFieldIsNamed() {
        assertRejected(#"{"client_id":"a","grant_type":["x"]}"#, .invalidArgument, mentioning: "grant_type")
        assertRejected(#"{"client_id":"a","redirect_uris":[]}"#, .invalidArgument, mentioning: "redirect_uris")
    }

    func testDuplicateIdIsAlreadyExists() throws {
        let r = ClientRegistry()
        try r.register(json: #"{"client_id":"app","client_secret":"one"}"#)
        assertRejected(#"{"client_id":"app","client_secret":"two"}"#, .alreadyExists, in: r)
        // the first registration stands
        XCTAssertNoThrow(try r.authenticate(clientID: "app", secret: "one"))
    }

    func testSecretIsStoredOnlyAsSaltedHash() throws {
        let r = ClientRegistry()
        let a = try r.register(json: #"{"client_id":"a","client_secret":"same-secret"}"#)
        let b = try r.register(json: #"{"client_id":"b","client_secret":"same-secret"}"#)
        let ha = try XCTUnwrap(a.secretHash), hb = try XCTUnwrap(b.secretHash)
        XCTAssertEqual(ha.salt.count, 16)
        XCTAssertEqual(ha.digest.count, 32)
        XCTAssertNotEqual(ha.salt, hb.salt)
        XCTAssertNotEqual(ha.digest, hb.digest, "equal secrets must not have equal hashes")
        XCTAssertNotEqual(ha.digest, Array("same-secret".utf8) + [UInt8](repeating: 0, count: 21))
    }

    func testAuthenticate() throws {
        let r = ClientRegistry()
        try r.register(json: #"{"client_id":"app","client_secret":"s3cret"}"#)
        try r.register(json: #"{"client_id":"pub","token_endpoint_auth_method":"none"}"#)
        XCTAssertEqual(try r.authenticate(clientID: "app", secret: "s3cret").clientID, "app")
        var reasons: Set<String> = []
        for (id, secret) in [("app", "wrong"), ("app", "s3cret "), ("app", ""), ("ghost", "s3cret"), ("pub", ""), ("pub", "x")] {
            do {
                _ = try r.authenticate(clientID: id, secret: secret)
                XCTFail("authenticated \(id)")
            } catch {
                XCTAssertEqual(error.code, .invalidClient)
                reasons.insert(error.reason)
            }
        }
        XCTAssertEqual(reasons.count, 1, "one generic message whatever failed")
    }

    func testStoredHashRoundTrips() throws {
        let h = ClientSecretHash(hashing: "abc")
        let restored = try XCTUnwrap(ClientSecretHash(salt: h.salt, digest: h.digest))
        XCTAssertTrue(restored.matches("abc"))
        XCTAssertFalse(restored.matches("abd"))
        XCTAssertNil(ClientSecretHash(salt: [1, 2, 3], digest: h.digest))
        // every byte of the digest takes part in the comparison
        for i in [0, 15, 31] {
            var d = h.digest
            d[i] ^= 0x01
            XCTAssertFalse(try XCTUnwrap(ClientSecretHash(salt: h.salt, digest: d)).matches("abc"), "byte \(i)")
        }
        var s = h.salt
        s[15] ^= 0x01
        XCTAssertFalse(try XCTUnwrap(ClientSecretHash(salt: s, digest: h.digest)).matches("abc"), "the salt keys the hash")
    }

    func testKeyedBlake2bKnownAnswer() {
        // BLAKE2b-256 keyed with 16 zero bytes over "abc"; the reference value
        // was computed with Python's hashlib.blake2b(b"abc", digest_size=32, key=bytes(16)).
        let d = ClientSecretHash.hash("abc", salt: [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(d.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(),
                       "c737b01ac68269dc5c3269bd29503af379dafcabd962f2d0eeb421e6c2ec9dfd")
    }

    func testConcurrentRegistrationOfOneIdHasOneWinner() {
        let r = ClientRegistry()
        let wins = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            if (try? r.register(json: #"{"client_id":"race","client_secret":"s\#(i)"}"#)) != nil {
                wins.add(1, ordering: .relaxed)
            }
        }
        XCTAssertEqual(wins.load(ordering: .relaxed), 1)
    }
}
