// swift-tools-version:5.3
// Fuzz targets for arc's parsers of outside input (libFuzzer, with AddressSanitizer).
// A package of its own so the root package's build is untouched; it depends on the root
// package by path. Build and run through the root Makefile (`make fuzz`, `make fuzz-smoke`)
// or Fuzz/fuzz.sh; see that script for the flags.
//
// Tools version 5.3 on purpose: later versions rename an executable's `main` for testing,
// and a fuzz target has no main of its own (libFuzzer's is linked in; -parse-as-library).
//
// Which target imports which module (its row below, and the imports of its main.swift):
//
//   target               corpus               modules            what it reads
//   fuzz-ndjson          Corpus/ndjson        ArcCore            JSONScanner, Record, RecordBuilder, JSONText, JSONValue
//   fuzz-lines           Corpus/lines         ArcCore            LineReader/LineBuffer, RecordInput
//   fuzz-s3-listing      Corpus/s3-listing    ArcCore            ListObjects.parse, S3Reply, XMLScanner, URLEncoding
//   fuzz-s3-error        Corpus/s3-error      ArcCore            error bodies (Transfer.errorDetail, S3Error, errorDocument), header lines
//   fuzz-toml            Corpus/toml          ArcTOML            TOML.parse
//   fuzz-workflow        Corpus/workflow      ArcWorkflow        WorkflowLoader.parse (TOML, keys, graph)
//   fuzz-cron            Corpus/cron          ArcSchedule        CronSchedule.parse, next, firings
//   fuzz-tzif            Corpus/tzif          ArcSchedule        TZifParser, TimeZoneRules, PosixTimeZoneRule
//   fuzz-log-line        Corpus/log-line      ArcLogs, ArcCore   LogReader, LogEntry, Redactor, log writers
//   fuzz-where           Corpus/where         ArcLogs, ArcCore   WhereExpression, ByteRegex
//   fuzz-otlp-traces     Corpus/otlp-traces   ArcTraces, ArcCore OTLPTraceDecoder; Telemetry's OTLPJSON writes back
//   fuzz-otlp-protobuf   Corpus/otlp-protobuf ArcTraces, ArcCore ProtobufReader, OTLPTraceDecoder/OTLPLogDecoder.decodeProtobuf
//   fuzz-span-record     Corpus/span-record   ArcTraces, ArcCore StoredSpan(record:), span NDJSON, Waterfall
//   fuzz-http-request    Corpus/http-request  ArcHTTPServer, ArcCore HTTPConnection over bytes, Gzip
//   fuzz-secrets         Corpus/secrets       ArcCore            Secrets.redact (what every log line, span and error passes)
//   fuzz-dotenv          Corpus/dotenv        ArcWorkflow        DotEnv.parse (wf-run's env_file)
//   fuzz-csv-table       Corpus/csv-table     ArcSilver, ArcCore TableParser and its checks, CheckReport's JSON
//   fuzz-zip             Corpus/zip           ArcSilver, ArcCore ZipEntryReader (a downloaded archive, fed in pieces)
//   fuzz-html-index      Corpus/html-index    ArcCollect         HTMLIndex.parse (a CDN's directory index page)
//   fuzz-gzip            Corpus/gzip          ArcSilver, ArcCore GzipReader (Bybit's csv.gz, fed in pieces), against zlib's reading
//   fuzz-checksum        Corpus/checksum      ArcCollect, ArcCore ChecksumFile.parse (SHA-256, MD5), ArchiveChecksum.read, EmptyGzip
//   (fuzz-zip and fuzz-gzip share FuzzContainers: the piece-fed reading and ContainerError's checks)
import PackageDescription

// modules: the root package's products a target imports; local: this package's support targets.
let targets: [(name: String, modules: [String], local: [String])] = [
    ("fuzz-ndjson", ["ArcCore"], []),
    ("fuzz-lines", ["ArcCore"], []),
    ("fuzz-s3-listing", ["ArcCore"], []),
    ("fuzz-s3-error", ["ArcCore"], []),
    ("fuzz-toml", ["ArcTOML"], []),
    ("fuzz-workflow", ["ArcWorkflow"], []),
    ("fuzz-cron", ["ArcSchedule"], []),
    ("fuzz-tzif", ["ArcSchedule"], []),
    ("fuzz-log-line", ["ArcLogs", "ArcCore"], []),
    ("fuzz-where", ["ArcLogs", "ArcCore"], []),
    ("fuzz-otlp-traces", ["ArcTraces", "ArcCore"], ["FuzzSpans"]),
    ("fuzz-otlp-protobuf", ["ArcTraces", "ArcCore"], ["FuzzSpans"]),
    ("fuzz-span-record", ["ArcTraces", "ArcCore"], ["FuzzSpans"]),
    ("fuzz-http-request", ["ArcHTTPServer", "ArcCore"], []),
    ("fuzz-secrets", ["ArcCore"], []),
    ("fuzz-dotenv", ["ArcWorkflow", "ArcCore"], []),
    ("fuzz-csv-table", ["ArcSilver", "ArcCore"], []),
    ("fuzz-zip", ["ArcSilver", "ArcCore"], ["FuzzContainers"]),
    ("fuzz-html-index", ["ArcCollect"], []),
    ("fuzz-gzip", ["ArcSilver", "ArcCore"], ["FuzzContainers"]),
    ("fuzz-checksum", ["ArcCollect", "ArcCore"], []),
]

let package = Package(
    name: "arc-fuzz",
    // The root package (its directory name varies: main, a worktree), named so products resolve.
    dependencies: [.package(name: "arc", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        // The span checks fuzz-otlp-traces, fuzz-otlp-protobuf and fuzz-span-record share.
        .target(name: "FuzzSpans", dependencies: ["FuzzSupport", .product(name: "ArcTraces", package: "arc"),
                                                  .product(name: "ArcCore", package: "arc")]),
        // The piece-fed reading and error checks fuzz-zip and fuzz-gzip share.
        .target(name: "FuzzContainers", dependencies: ["FuzzSupport", .product(name: "ArcSilver", package: "arc"),
                                                       .product(name: "ArcCore", package: "arc")]),
    ] + targets.map { t in
        .target(name: t.name, dependencies: ["FuzzSupport"] + t.local.map { .target(name: $0) }
                    + t.modules.map { .product(name: $0, package: "arc") })
    }
)
