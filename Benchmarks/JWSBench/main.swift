// jwtgrant-bench: verification cost of the engine (CompactJWS.parse +
// VerificationKey.verify) against raw OpenSSL with a context prepared once
// per key, on one realistic assertion per algorithm. Prints figures and
// ratios; never fails on timing.
import COpenSSL
import CSodium
import JWTGrantCore
#if canImport(Glibc)
import Glibc
#endif


func die(_ message: String) -> Never {
    print("jwtgrant-bench: \(message)")
    exit(2)
}

/// A fresh key pair made with OpenSSL directly, so the baseline has its own EVP_PKEY.
func generateKey(_ alg: JWSAlgorithm) -> OpaquePointer {
    let type: String
    switch alg {
    case .es256: type = "EC"
    case .edDSA: type = "ED25519"
    default: type = "RSA"
    }
    guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil), EVP_PKEY_keygen_init(ctx) == 1 else { die("keygen") }
    defer { EVP_PKEY_CTX_free(ctx) }
    if type == "EC" { _ = EVP_PKEY_CTX_set_group_name(ctx, "P-256") }
    if type == "RSA" { _ = EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) }
    var pkey: OpaquePointer? = nil
    guard EVP_PKEY_generate(ctx, &pkey) == 1, let k = pkey else { die("keygen") }
    return k
}

func privatePEM(_ pkey: OpaquePointer) -> String {
    guard let bio = BIO_new(BIO_s_mem()) else { die("BIO") }
    defer { BIO_free(bio) }
    guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else { die("PEM") }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = BIO_read(bio, &buf, Int32(buf.count))
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<Int(n)])
    }
    return String(decoding: out, as: UTF8.self)
}

func md(_ alg: JWSAlgorithm) -> OpaquePointer? {
    alg == .edDSA ? nil : EVP_sha256()
}

/// Raw OpenSSL: EVP_DigestVerifyInit once, then copy per verification.
final class RawVerifier {
    let pkey: OpaquePointer
    let alg: JWSAlgorithm
    let template: OpaquePointer?

    init(pkey: OpaquePointer, alg: JWSAlgorithm) {
        self.pkey = pkey
        self.alg = alg
        if alg == .edDSA { template = nil; return }
        guard let ctx = EVP_MD_CTX_new() else { die("ctx") }
        var pctx: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(ctx, &pctx, md(alg), nil, pkey) == 1 else { die("DigestVerifyInit") }
        if alg == .ps256 {
            _ = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING)
            _ = EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256())
            _ = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32)
        }
        template = ctx
    }

    @inline(never)
    func verify(_ input: UnsafeRawBufferPointer, _ sig: UnsafeRawBufferPointer) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        let s = sig.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if let template {
            guard EVP_MD_CTX_copy_ex(ctx, template) == 1,
                  EVP_DigestVerifyUpdate(ctx, input.baseAddress, input.count) == 1 else { return false }
            return EVP_DigestVerifyFinal(ctx, s, sig.count) == 1
        }
        // Ed25519: one-shot EVP_DigestVerify (no digest context to copy).
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else { return false }
        return EVP_DigestVerify(ctx, s, sig.count, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count) == 1
    }
}

/// DER ECDSA-Sig-Value from raw r||s (baseline precomputes it once).
func derFromRaw(_ raw: [UInt8]) -> [UInt8] {
    guard let sig = ECDSA_SIG_new() else { die("ECDSA_SIG_new") }
    defer { ECDSA_SIG_free(sig) }
    let h = raw.count / 2
    let r = BN_bin2bn(raw, Int32(h), nil), s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + h, Int32(h), nil) }
    _ = ECDSA_SIG_set0(sig, r, s)
    var out: UnsafeMutablePointer<UInt8>? = nil
    let n = i2d_ECDSA_SIG(sig, &out)
    guard n > 0, let o = out else { die("i2d_ECDSA_SIG") }
    defer { jg_openssl_free(o) }
    return Array(UnsafeBufferPointer(start: o, count: Int(n)))
}

/// Thread CPU time in seconds: time spent waiting for a core on a shared
/// machine does not count (wall time would mostly measure the neighbours).
func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func mintAssertion(_ key: SigningKey) -> [UInt8] {
    let header = JSONValue.object()
    header.set("typ", .string("JWT"))
    let now = Int64(1_790_000_000)
    let claims = JSONValue.object()
    claims.set("iss", .string("https://login.example-idp.com/8f1a2c3d-4b5e-6f70-8192-a3b4c5d6e7f8/v2.0"))
    claims.set("sub", .string("service-account-7d2e1f0c@workloads.example.com"))
    claims.set("aud", .string("https://auth.example.net/oauth2/token"))
    claims.set("iat", .integer(now))
    claims.set("nbf", .integer(now))
    claims.set("exp", .integer(now + 300))
    claims.set("jti", .string("b3f1c9a2-57d4-4e8b-9a61-0c2d7e4f8a13"))
    claims.set("scope", .string("orders.read orders.write"))
    claims.set("tid", .string("8f1a2c3d-4b5e-6f70-8192-a3b4c5d6e7f8"))
    guard let token = try? key.compact(header: header, payload: claims) else { die("compact") }
    return Array(token.utf8)
}

// `jwtgrant-bench --parse-only`: a long CompactJWS.parse loop, for profilers.
if CommandLine.arguments.contains("--parse-only") {
    let alg = CommandLine.arguments.compactMap { JWSAlgorithm(rawValue: $0) }.first ?? .es256
    let pkey = generateKey(alg)
    guard let signing = try? SigningKey(pem: privatePEM(pkey), algorithm: alg) else { die("SigningKey(pem:)") }
    let token = mintAssertion(signing)
    var failures = 0
    let t0 = cpuNow()
    token.withUnsafeBytes { tok in
        for _ in 0..<200_000 where (try? CompactJWS.parse(tok)) == nil { failures += 1 }
    }
    print("parse: \(Int((cpuNow() - t0) / 200_000 * 1e9)) ns per \(token.count)-byte token, \(failures) failures")
    exit(0)
}

let iterations: [JWSAlgorithm: Int] = [.rs256: 1000, .ps256: 1000, .es256: 600, .edDSA: 600]
let rounds = 31
print("jwtgrant-bench: \(rounds) interleaved rounds per algorithm; thread CPU time, median (and best) ns/verify")
print("alg     token  openssl(ns)  engine(ns)  engine/openssl  best-round ratio  [engine halves]")
var summary: [(JWSAlgorithm, Double, Double)] = []
for alg in [JWSAlgorithm.rs256, .ps256, .es256, .edDSA] {
    let pkey = generateKey(alg)
    guard let signing = try? SigningKey(pem: privatePEM(pkey), algorithm: alg) else { die("SigningKey(pem:)") }
    let token = mintAssertion(signing)
    let key = signing.verificationKey
    let raw = RawVerifier(pkey: pkey, alg: alg)

    // The baseline's signing input and signature (DER for ES256), computed once.
    let dot2 = token.lastIndex(of: UInt8(ascii: "."))!
    let input = Array(token[0..<dot2])
    var sig = Base64URL.decode(String(decoding: token[(dot2 + 1)...], as: UTF8.self))!
    if alg == .es256 { sig = derFromRaw(sig) }

    var rawTimes: [Double] = [], engineTimes: [Double] = [], parseTimes: [Double] = [], verifyTimes: [Double] = []
    let n = iterations[alg] ?? 1000
    var failures = 0
    token.withUnsafeBytes { tok in
        input.withUnsafeBytes { inp in
            sig.withUnsafeBytes { sg in
                // Warm-up and sanity.
                if !raw.verify(inp, sg) { failures += 1 }
                for _ in 0..<rounds {
                    var t0 = cpuNow()
                    for _ in 0..<n where !raw.verify(inp, sg) { failures += 1 }
                    rawTimes.append((cpuNow() - t0) / Double(n) * 1e9)

                    t0 = cpuNow()
                    for _ in 0..<n {
                        guard let jws = try? CompactJWS.parse(tok) else { failures += 1; continue }
                        let ok = jws.signature.withUnsafeBytes { s in
                            key.verify(jws.algorithm, signingInput: UnsafeRawBufferPointer(rebasing: tok[0..<jws.signingInputLength]),
                                       signature: s)
                        }
                        if !ok { failures += 1 }
                    }
                    engineTimes.append((cpuNow() - t0) / Double(n) * 1e9)

                    // The two halves of the engine separately.
                    t0 = cpuNow()
                    for _ in 0..<n where (try? CompactJWS.parse(tok)) == nil { failures += 1 }
                    parseTimes.append((cpuNow() - t0) / Double(n) * 1e9)
                    if let jws = try? CompactJWS.parse(tok) {
                        t0 = cpuNow()
                        jws.signature.withUnsafeBytes { s in
                            let si = UnsafeRawBufferPointer(rebasing: tok[0..<jws.signingInputLength])
                            for _ in 0..<n where !key.verify(jws.algorithm, signingInput: si, signature: s) { failures += 1 }
                        }
                        verifyTimes.append((cpuNow() - t0) / Double(n) * 1e9)
                    }
                }
            }
        }
    }
    let r = median(rawTimes), e = median(engineTimes)
    let best = (engineTimes.min() ?? 0) / (rawTimes.min() ?? 1)
    summary.append((alg, r, e))
    let name = alg.rawValue + String(repeating: " ", count: max(0, 7 - alg.rawValue.count))
    print("\(name) \(token.count)    \(Int(r))       \(Int(e))       \((e / r * 1000).rounded() / 1000)"
          + "          \((best * 1000).rounded() / 1000)"
          + "   [parse \(Int(median(parseTimes))) ns, verify \(Int(median(verifyTimes))) ns]"
          + (failures > 0 ? "   (\(failures) FAILED VERIFICATIONS)" : ""))
    EVP_PKEY_free(pkey)
}
// The performance targets of the library, printed beside the measured
// ratios for reading; a benchmark reports, it never judges or gates.
print("ratio engine/OpenSSL (median) and the target for it:")
for (alg, r, e) in summary {
    let target: Double? = alg == .rs256 ? 1.10 : alg == .es256 ? 1.05 : alg == .edDSA ? 0.60 : nil
    let ratio = e / r
    print("  \(alg.rawValue): \((ratio * 1000).rounded() / 1000)"
          + (target.map { "   target <= \($0)" + (alg == .edDSA ? " (of OpenSSL Ed25519)" : "") } ?? ""))
}
