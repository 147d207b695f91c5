// swift-tools-version:6.0
import PackageDescription

// libjwtgrant: an embeddable OAuth 2.0 JWT Bearer grant (RFC 7523) server.
// The product is libjwtgrant.so with a plain C ABI (include/jwtgrant.h); its
// core is Swift, linked with the Swift standard library statically, so callers
// need no Swift toolchain.
// `-z defs` turns a missing symbol into a link error instead of a dlopen
// failure. Sanitizer builds (scripts/test, JWTGRANT_SANITIZER_BUILD=1) leave
// the sanitizer runtime's symbols for the test executable to provide.
let noUndefinedSymbols: [String] = Context.environment["JWTGRANT_SANITIZER_BUILD"] == nil
    ? ["-Xlinker", "-z", "-Xlinker", "defs"] : []

let package = Package(
    name: "jwtgrant",
    products: [
        .library(name: "jwtgrant", type: .dynamic, targets: ["jwtgrant"]),
    ],
    targets: [
        // System libraries from Debian: module.modulemap + shim.h only.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson",
                       providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium",
                       providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis",
                       providers: [.apt(["libhiredis-dev"])]),
        // The public header as a Clang module, so that `@c @implementation`
        // checks every exported Swift function against its C prototype.
        .systemLibrary(name: "CJWTGrantHeader"),

        // The engine: pure Swift, no Foundation, no C ABI concerns.
        .target(
            name: "JWTGrantCore",
            dependencies: ["COpenSSL", "CJansson", "CSodium", "CCurl", "CSQLite", "CHiredis"]
        ),

        // The thin C-ABI shell that becomes libjwtgrant.so.
        .target(
            name: "jwtgrant",
            dependencies: ["JWTGrantCore", "CJWTGrantHeader"],
            exclude: ["exports.map"],
            linkerSettings: [
                .unsafeFlags([
                    "-static-stdlib",
                    "-use-ld=lld",
                    "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/jwtgrant/exports.map",
                    "-Xlinker", "-soname=libjwtgrant.so.1",
                ] + noUndefinedSymbols),
            ]
        ),

        // Verification benchmark: the engine against raw OpenSSL (prints figures only).
        .executableTarget(name: "jwtgrant-bench", dependencies: ["JWTGrantCore", "COpenSSL", "CSodium"],
                          path: "Benchmarks/JWSBench"),

        .testTarget(
            name: "JWTGrantCoreTests",
            dependencies: ["JWTGrantCore"],
            // Test fixtures are read from the source tree (#filePath), not bundled.
            exclude: ["Fixtures"]
        ),
    ]
)
