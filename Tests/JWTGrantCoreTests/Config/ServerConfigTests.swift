import XCTest
@testable import JWTGrantCore

final class ServerConfigTests: XCTestCase {
    func testDefaultsAreTheProducts() throws {
        for json in [nil, "{}"] as [String?] {
            let c = try ServerConfig(json: json)
            XCTAssertEqual(c.issuer, "https://localhost:9443/oauth2/token")
            XCTAssertNil(c.tokenEndpoint)
            XCTAssertEqual(c.clockSkew, 0)
            XCTAssertEqual(c.jwksEndpoint.connectTimeoutMs, 1000)
            XCTAssertEqual(c.jwksEndpoint.readTimeoutMs, 1000)
            XCTAssertEqual(c.jwksEndpoint.sizeLimitBytes, 51200)
            XCTAssertTrue(c.enableIatValidation)
            XCTAssertEqual(c.iatValidityPeriod, 30)
            XCTAssertTrue(c.enableJWTCache)
            XCTAssertEqual(c.accessTokenLifetime, 3600)
            XCTAssertNil(c.accessTokenSigningKey)
            XCTAssertEqual(c.store, .memory)
        }
    }

    func testEveryFieldIsRead() throws {
        let c = try ServerConfig(json: """
        {"issuer":"https://as.example.com","token_endpoint":"https://as.example.com/oauth2/token",
         "clock_skew":30,
         "jwks_endpoint":{"connection_timeout":200,"read_timeout":300,"size_limit_bytes":4096},
         "grant_type":{"jwt":{"enable_iat_validation":false,"iat_validity_period":5,"enable_jwt_cache":false}},
         "access_token":{"lifetime":60,"algorithm":"EdDSA"},
         "store":"memory"}
        """)
        XCTAssertEqual(c.issuer, "https://as.example.com")
        XCTAssertEqual(c.tokenEndpoint, "https://as.example.com/oauth2/token")
        XCTAssertEqual(c.clockSkew, 30)
        XCTAssertEqual(c.jwksEndpoint.connectTimeoutMs, 200)
        XCTAssertEqual(c.jwksEndpoint.readTimeoutMs, 300)
        XCTAssertEqual(c.jwksEndpoint.sizeLimitBytes, 4096)
        XCTAssertFalse(c.enableIatValidation)
        XCTAssertEqual(c.iatValidityPeriod, 5)
        XCTAssertFalse(c.enableJWTCache)
        XCTAssertEqual(c.accessTokenLifetime, 60)
        XCTAssertEqual(c.accessTokenAlgorithm, "EdDSA")
    }

    func testUnknownFieldsAndWrongTypesNameTheField() {
        let cases: [(String, String)] = [
            (#"{"isuser":"x"}"#, "isuser"),
            (#"{"grant_type":{"jwt":{"enable_iat_validaton":true}}}"#, "grant_type.jwt.enable_iat_validaton"),
            (#"{"jwks_endpoint":{"read_timeout":"1000"}}"#, "jwks_endpoint.read_timeout"),
            (#"{"jwks_endpoint":{"read_timout":1000}}"#, "read_timout"),
            (#"{"clock_skew":1.5}"#, "clock_skew"),
            (#"{"clock_skew":-1}"#, "clock_skew"),
            (#"{"grant_type":{"jwt":{"enable_jwt_cache":"yes"}}}"#, "grant_type.jwt.enable_jwt_cache"),
            (#"{"issuer":""}"#, "issuer"),
            (#"{"access_token":{"algorithm":"HS256"}}"#, "access_token.algorithm"),
            (#"{"store":"sqlite:"}"#, "store"),
            (#"{"store":"postgres://db/x"}"#, "store"),
            (#"{"store":"redis://127.0.0.1"}"#, "port"),
            (#"{"store":"redis://:hunter2@host"}"#, "port"),
            (#"{"store":"redis://host:0"}"#, "port"),
            (#"{"store":"redis://host:99999"}"#, "port"),
            (#"{"store":"redis://host:6379/x"}"#, "database"),
            (#"{"store":"redis://user:pw@host:6379"}"#, "password"),
            (#"{"store":"redis://:6379"}"#, "host"),
            (#"{"store_options":{"command_timeout":0}}"#, "store_options.command_timeout"),
            (#"{"store_options":{"conect_timeout":10}}"#, "conect_timeout"),
            (#"{"store_options":{"key_prefix":7}}"#, "store_options.key_prefix"),
        ]
        for (json, field) in cases {
            XCTAssertThrowsError(try ServerConfig(json: json), json) { error in
                let e = error as? JWTGrantError
                XCTAssertEqual(e?.code, .invalidArgument, json)
                XCTAssertTrue(e?.reason.contains(field) ?? false, "\(json): \(e?.reason ?? "")")
            }
        }
    }

    func testStoreValues() throws {
        XCTAssertEqual(try ServerConfig(json: #"{"store":"memory"}"#).store, .memory)
        XCTAssertEqual(try ServerConfig(json: #"{"store":"sqlite:/var/lib/x.db"}"#).store, .sqlite(path: "/var/lib/x.db"))
        let r = try ServerConfig(json: #"{"store":"redis://:p@ss:w@rd@cache.example:6380/3"}"#)
        guard case .redis(let a) = r.store else { return XCTFail("not redis") }
        XCTAssertEqual(a.host, "cache.example")
        XCTAssertEqual(a.port, 6380)
        XCTAssertEqual(a.password, "p@ss:w@rd")
        XCTAssertEqual(a.database, 3)
        XCTAssertFalse(r.store.label.contains("p@ss"), "a label never shows the password")
        guard case .redis(let v6) = try ServerConfig(json: #"{"store":"redis://[::1]:6379"}"#).store else {
            return XCTFail("not redis")
        }
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.database, 0)
        XCTAssertNil(v6.password)
        let o = try ServerConfig(json: #"{"store_options":{"connect_timeout":100,"command_timeout":50,"key_prefix":"app1:","busy_timeout":2000}}"#).storeOptions
        XCTAssertEqual(o.connectTimeoutMs, 100)
        XCTAssertEqual(o.commandTimeoutMs, 50)
        XCTAssertEqual(o.keyPrefix, "app1:")
        XCTAssertEqual(o.busyTimeoutMs, 2000)
        let d = try ServerConfig(json: nil).storeOptions
        XCTAssertEqual([d.connectTimeoutMs, d.commandTimeoutMs], [250, 250])
        XCTAssertEqual(d.keyPrefix, "jwtgrant:")
    }

    func testMalformedRedisURLsNeverEchoThePassword() {
        for url in ["redis://:hunter2@host", "redis://:hunter2@:1", "redis://:hunter2@host:x/1"] {
            XCTAssertThrowsError(try ServerConfig(json: #"{"store":"\#(url)"}"#)) { error in
                XCTAssertFalse((error as? JWTGrantError)?.reason.contains("hunter2") ?? true)
            }
        }
    }

    func testMalformedJSONIsRefused() {
        for json in ["", "not json", "[]", "{\"a\":1,\"a\":2}", "{} trailing", "null"] {
            XCTAssertThrowsError(try ServerConfig(json: json), json) { error in
                XCTAssertEqual((error as? JWTGrantError)?.code, .invalidArgument)
            }
        }
    }
}

final class JSONErrorMessageTests: XCTestCase {
    func testParseErrorsNeverQuoteTheInput() {
        for text in [#"{"signing_key":"-----BEGIN PRIVATE KEY-----MIIsecret"#,
                     #"{"a":"secret-value" junk}"#, "secret-token-abc", #"{"a":1,"a":"secret-dup"}"#] {
            XCTAssertThrowsError(try JSONValue.parse(text, what: "doc")) { error in
                let reason = (error as? JWTGrantError)?.reason ?? ""
                XCTAssertFalse(reason.contains("secret"), reason)
                XCTAssertTrue(reason.hasPrefix("doc is not valid JSON"), reason)
            }
        }
    }
}
