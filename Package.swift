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

// The library uses no Regex and no `firstRange`-style string algorithms, so
// the Swift targets skip the implicit import of _StringProcessing: with the
// standard library linked statically, that import alone pulls about 1.3 MB of
// _StringProcessing and _RegexParser into libjwtgrant.so.
let noStringProcessing: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import"]),
]

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

        // The JSON reader of the hot path (JWS header, claims set): simdjson
        // behind a plain C interface, as strict as jansson. C++ stays inside
        // this target; the Swift targets import only its C header.
        .target(
            name: "CJOSEJSON",
            cxxSettings: [.unsafeFlags(["-O2", "-fno-rtti"])],
            linkerSettings: [.linkedLibrary("simdjson")]
        ),

        // The engine: pure Swift, no Foundation, no C ABI concerns.
        .target(
            name: "JWTGrantCore",
            dependencies: ["COpenSSL", "CJansson", "CSodium", "CCurl", "CJOSEJSON", "CSQLite", "CHiredis"],
            swiftSettings: noStringProcessing
        ),

        // The thin C-ABI shell that becomes libjwtgrant.so.
        .target(
            name: "jwtgrant",
            dependencies: ["JWTGrantCore", "CJWTGrantHeader"],
            exclude: ["exports.map"],
            swiftSettings: noStringProcessing,
            linkerSettings: [
                .unsafeFlags([
                    "-static-stdlib",
                    "-use-ld=lld",
                    "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/jwtgrant/exports.map",
                    "-Xlinker", "-soname=libjwtgrant.so.1",
                    // Relative relocations packed (DT_RELR, glibc >= 2.36 as in Debian 12):
                    // the metadata pointers of the static Swift runtime need 350 KB less.
                    "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
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
    ],
    cxxLanguageStandard: .cxx17
)
