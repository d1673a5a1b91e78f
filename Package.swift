// swift-tools-version:6.1
// arc: collect exchange market-data archives, verified, into a data lake.
//
// The target list is the architecture. From the bottom:
//   C*             system C libraries (libcurl, SQLite, libpq, libcrypto, zlib, libzstd), nothing else
//                  (and CChecksum, a header of inline C: hardware CRC-32C)
//   ArcCore        what every tool shares: Support, Records (NDJSON), CLI (one spec ->
//                  parser, help, man, completions), Store (the database and migrations),
//                  Transfer (the libcurl multi engine), S3, Telemetry, the Tool runtime
//   ArcTOML, ArcSchedule, ArcHTTPServer
//                  parsers and a server with one job each, over ArcCore only
//   ArcCollect ArcQueue ArcSilver ArcS3x ArcLogs ArcTraces ArcWorkflow
//                  one library per tool family, over ArcCore (and the leaves above)
//   arc-discover arc-plan arc-collect arc-queue arc-check arc-convert s3x telem-log telem-trace wf-run
//                  a main.swift each, over its family only
// A target never imports one beside or above it; what two families share moves down into
// ArcCore. No Swift package dependencies, and no Foundation in any tool. The fuzz targets
// are a package of their own over this one's library products (Fuzz/Package.swift).
import PackageDescription

/// Every Swift target: Swift 6 mode (the tools version's default) with complete
/// concurrency checking, and members visible only through an explicit import.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// No `-cross-module-optimization`: measured with callgrind, it made arc-plan and
/// telem-log slower (2.6% and 4% more instructions than one module had been), because
/// code serialized for other modules keeps its runtime exclusivity checks. Hot paths that
/// cross a module boundary are plain calls instead (one per line; see LineBuffer.takeLine).
func library(_ name: String, _ dependencies: [Target.Dependency], path: String? = nil) -> Target {
    .target(name: name, dependencies: dependencies, path: path, swiftSettings: strict)
}

func tool(_ name: String, _ family: String) -> Target {
    .executableTarget(name: name, dependencies: [.target(name: family)], swiftSettings: strict)
}

func tests(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .testTarget(name: name, dependencies: dependencies + ["ArcTestSupport"], swiftSettings: strict)
}

let package = Package(
    name: "arc",
    products: [
        .executable(name: "arc-discover", targets: ["arc-discover"]),
        .executable(name: "arc-plan", targets: ["arc-plan"]),
        .executable(name: "arc-collect", targets: ["arc-collect"]),
        .executable(name: "arc-queue", targets: ["arc-queue"]),
        .executable(name: "arc-check", targets: ["arc-check"]),
        .executable(name: "arc-convert", targets: ["arc-convert"]),
        .executable(name: "s3x", targets: ["s3x"]),
        .executable(name: "telem-log", targets: ["telem-log"]),
        .executable(name: "telem-trace", targets: ["telem-trace"]),
        .executable(name: "wf-run", targets: ["wf-run"]),
        .library(name: "ArcCore", targets: ["ArcCore"]),
        .library(name: "ArcTOML", targets: ["ArcTOML"]),
        .library(name: "ArcSchedule", targets: ["ArcSchedule"]),
        .library(name: "ArcHTTPServer", targets: ["ArcHTTPServer"]),
        .library(name: "ArcCollect", targets: ["ArcCollect"]),
        .library(name: "ArcQueue", targets: ["ArcQueue"]),
        .library(name: "ArcSilver", targets: ["ArcSilver"]),
        .library(name: "ArcS3x", targets: ["ArcS3x"]),
        .library(name: "ArcLogs", targets: ["ArcLogs"]),
        .library(name: "ArcTraces", targets: ["ArcTraces"]),
        .library(name: "ArcWorkflow", targets: ["ArcWorkflow"]),
    ],
    targets: [
        // libcurl, libpq and libcrypto are loaded with dlopen when first used (see each
        // shim.h), so no tool links them, and they have no pkg-config (its --libs would).
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CPq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // glibc's _GNU_SOURCE calls (syncfs); no library of its own.
        .systemLibrary(name: "CSystem"),
        // Header-only (static inline C): CRC-32C with the CPU's instruction, CRC combination.
        .systemLibrary(name: "CChecksum"),
        // Header-only (static inline C): telem-log's prefilter loops with AVX2 where the CPU has it.
        .systemLibrary(name: "CByteScan"),

        library("ArcCore", ["CCurl", "CSQLite", "CPq", "CCrypto", "CZlib", "CSystem", "CChecksum"]),

        library("ArcTOML", ["ArcCore"]),
        library("ArcSchedule", ["ArcCore"]),
        library("ArcHTTPServer", ["ArcCore", "CZlib"]),

        library("ArcCollect", ["ArcCore"]),
        // The work queue's own tool (depth, metrics, retry, push), over the queue in ArcCore.
        library("ArcQueue", ["ArcCore", "ArcHTTPServer"]),
        // The silver stage: zip, CSV and Parquet beside the checks and the converter.
        library("ArcSilver", ["ArcCore", "CZlib", "CZstd"]),
        library("ArcS3x", ["ArcCore"]),
        library("ArcLogs", ["ArcCore", "CByteScan"]),
        library("ArcTraces", ["ArcCore", "ArcHTTPServer"]),
        library("ArcWorkflow", ["ArcCore", "ArcTOML", "ArcSchedule"]),

        tool("arc-discover", "ArcCollect"),
        tool("arc-plan", "ArcCollect"),
        tool("arc-collect", "ArcCollect"),
        tool("arc-queue", "ArcQueue"),
        tool("arc-check", "ArcSilver"),
        tool("arc-convert", "ArcSilver"),
        tool("s3x", "ArcS3x"),
        tool("telem-log", "ArcLogs"),
        tool("telem-trace", "ArcTraces"),
        tool("wf-run", "ArcWorkflow"),

        // What the unit tests share (temporary directories, captured logs, a local HTTP
        // server with injected faults), as NIOTestUtils is to swift-nio's tests.
        .target(name: "ArcTestSupport", dependencies: ["ArcCore"], path: "Tests/ArcTestSupport",
                swiftSettings: strict),
        tests("ArcCoreTests", ["ArcCore"]),
        tests("ArcTOMLTests", ["ArcTOML"]),
        tests("ArcScheduleTests", ["ArcSchedule"]),
        tests("ArcHTTPServerTests", ["ArcHTTPServer"]),
        tests("ArcCollectTests", ["ArcCollect"]),
        tests("ArcSilverTests", ["ArcSilver"]),
        tests("ArcS3xTests", ["ArcS3x"]),
        tests("ArcLogsTests", ["ArcLogs"]),
        tests("ArcTracesTests", ["ArcTraces"]),
        tests("ArcWorkflowTests", ["ArcWorkflow"]),
    ]
)
