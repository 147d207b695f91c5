#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import JWTGrantCore

/// Shared helpers of the JOSE tests (no Foundation).
enum JOSETestSupport {
    /// The package root, from this file's path (Tests/JWTGrantCoreTests/JOSE/...).
    static var packageRoot: String {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }

    /// Tests/Vectors/wycheproof of this repository (a subset of the
    /// Wycheproof vectors, with their LICENSE and README). WYCHEPROOF_DIR overrides.
    static var wycheproofDirectory: String? {
        var candidates: [String] = []
        if let env = getenv("WYCHEPROOF_DIR") { candidates.append(String(cString: env)) }
        candidates.append(packageRoot + "/Tests/Vectors/wycheproof")
        for c in candidates where access(c + "/README.md", R_OK) == 0 { return c }
        return nil
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    static func listDirectory(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw -> String in
                let b = raw.bindMemory(to: UInt8.self)
                let end = b.firstIndex(of: 0) ?? b.count
                return String(decoding: UnsafeBufferPointer(rebasing: b[0..<end]), as: UTF8.self)
            }
            names.append(name)
        }
        return names.sorted()
    }

    static func loadJSON(_ path: String) throws -> JSONValue {
        guard let bytes = readFile(path) else { throw JWTGrantError(.notFound, "cannot read \(path)") }
        return try bytes.withUnsafeBytes { try JSONValue.parse($0, what: path) }
    }

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var hi: UInt8? = nil
        for c in s.utf8 {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x57
            case 0x41...0x46: v = c - 0x37
            default: continue
            }
            if let h = hi { out.append(h << 4 | v); hi = nil } else { hi = v }
        }
        return out
    }

    /// Parses the whole token (String) with the engine.
    static func parse(_ token: String, maxLength: Int = CompactJWS.defaultMaxLength,
                      payloadMustBeJSON: Bool = true) throws(JWTGrantError) -> CompactJWS {
        var t = token
        return try t.withUTF8 { buf in
            Result { () throws(JWTGrantError) -> CompactJWS in
                try CompactJWS.parse(UnsafeRawBufferPointer(buf), maxLength: maxLength,
                                     payloadMustBeJSON: payloadMustBeJSON)
            }
        }.get()
    }

    /// Parses and verifies a whole token with `key`; false on any failure.
    static func verifyToken(_ token: String, key: VerificationKey?, payloadMustBeJSON: Bool = false) -> Bool {
        guard let key, let jws = try? parse(token, payloadMustBeJSON: payloadMustBeJSON) else { return false }
        return verify(token, jws, key)
    }

    static func verify(_ token: String, _ jws: CompactJWS, _ key: VerificationKey) -> Bool {
        let bytes = Array(token.utf8)
        return bytes.withUnsafeBytes { t in
            jws.signature.withUnsafeBytes { s in
                key.verify(jws.algorithm, signingInput: UnsafeRawBufferPointer(rebasing: t[0..<jws.signingInputLength]),
                           signature: s)
            }
        }
    }

    static func verify(_ key: VerificationKey, _ alg: JWSAlgorithm, _ msg: [UInt8], _ sig: [UInt8]) -> Bool {
        msg.withUnsafeBytes { m in sig.withUnsafeBytes { s in key.verify(alg, signingInput: m, signature: s) } }
    }

    /// The engine error code `body` throws, nil when it does not throw.
    static func errorCode(_ body: () throws -> Void) -> ErrorCode? {
        do { try body(); return nil } catch let e as JWTGrantError { return e.code } catch { return .internalError }
    }
}
