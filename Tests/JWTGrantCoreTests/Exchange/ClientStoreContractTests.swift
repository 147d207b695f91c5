import XCTest
import Synchronization
@testable import JWTGrantCore

/// What every `ClientStore` must do. A sqlite or redis store runs
/// `checkClientStoreContract` on a fresh, empty instance.
func checkClientStoreContract(_ store: any ClientStore, file: StaticString = #filePath, line: UInt = #line) throws {
    let hash = ClientSecretHash(hashing: "s3cret")
    let client = Client(clientID: "contract-app", secretHash: hash,
                        grantTypes: [Client.jwtBearerGrantType], scopes: ["read", "write"])
    XCTAssertNil(try store.client(id: "contract-app"), file: file, line: line)
    try store.insert(client)

    // read back intact, including the secret hash
    let back = try XCTUnwrap(try store.client(id: "contract-app"), file: file, line: line)
    XCTAssertEqual(back.clientID, "contract-app", file: file, line: line)
    XCTAssertEqual(back.secretHash, hash, file: file, line: line)
    XCTAssertTrue(back.secretHash?.matches("s3cret") ?? false, file: file, line: line)
    XCTAssertEqual(back.grantTypes, [Client.jwtBearerGrantType], file: file, line: line)
    XCTAssertEqual(back.scopes, ["read", "write"], file: file, line: line)

    // ids are exact: no case folding, no prefix match
    XCTAssertNil(try store.client(id: "CONTRACT-APP"), file: file, line: line)
    XCTAssertNil(try store.client(id: "contract-ap"), file: file, line: line)

    // nil scopes (no scope may be requested) and a secretless client survive the round trip
    try store.insert(Client(clientID: "contract-pub", secretHash: nil, grantTypes: [], scopes: nil))
    let pub = try XCTUnwrap(try store.client(id: "contract-pub"), file: file, line: line)
    XCTAssertNil(pub.secretHash, file: file, line: line)
    XCTAssertNil(pub.scopes, file: file, line: line)

    // a taken id is .alreadyExists and the first client stays
    do {
        try store.insert(Client(clientID: "contract-app", secretHash: nil, grantTypes: [], scopes: nil))
        XCTFail("duplicate id accepted", file: file, line: line)
    } catch {
        XCTAssertEqual(error.code, .alreadyExists, file: file, line: line)
    }
    XCTAssertEqual(try store.client(id: "contract-app")?.secretHash, hash, file: file, line: line)

    // concurrent inserts of one id: exactly one wins
    let wins = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
        if (try? store.insert(Client(clientID: "contract-race", secretHash: nil, grantTypes: [], scopes: nil))) != nil {
            wins.add(1, ordering: .relaxed)
        }
    }
    XCTAssertEqual(wins.load(ordering: .relaxed), 1, file: file, line: line)

    // the auth method and grace secrets survive the round trip
    let graceHash = ClientSecretHash(hashing: "old")
    try store.insert(Client(clientID: "contract-basic", secretHash: hash, grantTypes: [], scopes: [],
                            authMethod: .clientSecretBasic,
                            graceSecrets: [GraceSecret(hash: graceHash, validUntil: 1_700_000_000)]))
    let basic = try XCTUnwrap(try store.client(id: "contract-basic"), file: file, line: line)
    XCTAssertEqual(basic.authMethod, .clientSecretBasic, file: file, line: line)
    XCTAssertEqual(basic.graceSecrets, [GraceSecret(hash: graceHash, validUntil: 1_700_000_000)], file: file, line: line)

    // update replaces atomically; an error thrown by the transform changes nothing
    let newHash = ClientSecretHash(hashing: "new")
    let updated = try store.update(id: "contract-app") { (c) throws(JWTGrantError) -> Client in c.withSecrets(newHash, grace: []) }
    XCTAssertEqual(updated?.secretHash, newHash, file: file, line: line)
    XCTAssertEqual(try store.client(id: "contract-app")?.secretHash, newHash, file: file, line: line)
    XCTAssertEqual(try store.client(id: "contract-app")?.scopes, ["read", "write"], file: file, line: line)
    XCTAssertThrowsError(try store.update(id: "contract-app") { (_) throws(JWTGrantError) -> Client in
        throw JWTGrantError(.invalidArgument, "refused")
    }, file: file, line: line)
    XCTAssertEqual(try store.client(id: "contract-app")?.secretHash, newHash, file: file, line: line)
    XCTAssertNil(try store.update(id: "contract-none") { (c) throws(JWTGrantError) -> Client in c }, file: file, line: line)
    XCTAssertNil(try store.client(id: "contract-none"), file: file, line: line)

    // concurrent updates of one client all apply (none is lost)
    try store.insert(Client(clientID: "contract-count", secretHash: nil, grantTypes: [], scopes: []))
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
        _ = try? store.update(id: "contract-count") { (c) throws(JWTGrantError) -> Client in
            Client(clientID: c.clientID, secretHash: nil, grantTypes: c.grantTypes + ["g"], scopes: [])
        }
    }
    XCTAssertEqual(try store.client(id: "contract-count")?.grantTypes.count, 8, file: file, line: line)

    // all() lists every client; remove is exact and reports absence
    let ids = Set(try store.all().map(\.id))
    XCTAssertEqual(ids, ["contract-app", "contract-pub", "contract-race", "contract-basic", "contract-count"],
                   file: file, line: line)
    XCTAssertFalse(try store.remove(id: "CONTRACT-APP"), file: file, line: line)
    XCTAssertTrue(try store.remove(id: "contract-app"), file: file, line: line)
    XCTAssertFalse(try store.remove(id: "contract-app"), file: file, line: line)
    XCTAssertNil(try store.client(id: "contract-app"), file: file, line: line)
    XCTAssertEqual(try store.all().count, 4, file: file, line: line)
    // a removed id can be registered again
    try store.insert(Client(clientID: "contract-app", secretHash: nil, grantTypes: [], scopes: nil))
}

final class ClientStoreContractTests: XCTestCase {
    func testMemoryClientStore() throws {
        try checkClientStoreContract(MemoryClientStore())
    }
}
