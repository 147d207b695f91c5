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

    // nil scopes (unrestricted) and a public client survive the round trip
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
}

final class ClientStoreContractTests: XCTestCase {
    func testMemoryClientStore() throws {
        try checkClientStoreContract(MemoryClientStore())
    }
}
