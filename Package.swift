// swift-tools-version:5.9
// arc: collect exchange market-data archives, verified, into a data lake.
// No Swift package dependencies: system C libraries only (libcurl, SQLite, libcrypto).
import PackageDescription

let package = Package(
    name: "arc",
    products: [
        .executable(name: "arc-discover", targets: ["arc-discover"]),
        .executable(name: "arc-plan", targets: ["arc-plan"]),
        .executable(name: "arc-collect", targets: ["arc-collect"]),
        .executable(name: "s3x", targets: ["s3x"]),
        .executable(name: "telem-log", targets: ["telem-log"]),
        .executable(name: "telem-trace", targets: ["telem-trace"]),
        .executable(name: "wf-run", targets: ["wf-run"]),
        .library(name: "ArcCore", targets: ["ArcCore"]),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "ArcCore", dependencies: ["CCurl", "CSQLite", "CCrypto", "CZlib"]),
        .executableTarget(name: "arc-discover", dependencies: ["ArcCore"]),
        .executableTarget(name: "arc-plan", dependencies: ["ArcCore"]),
        .executableTarget(name: "arc-collect", dependencies: ["ArcCore"]),
        .executableTarget(name: "s3x", dependencies: ["ArcCore"]),
        .executableTarget(name: "telem-log", dependencies: ["ArcCore"]),
        .executableTarget(name: "telem-trace", dependencies: ["ArcCore"]),
        .executableTarget(name: "wf-run", dependencies: ["ArcCore"]),
        .testTarget(name: "ArcCoreTests", dependencies: ["ArcCore"]),
    ],
    swiftLanguageVersions: [.v5]
)
