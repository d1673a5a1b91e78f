import Glibc
import XCTest
import ArcCore
import ArcTestSupport
@testable import ArcSilver

/// Files written by ParquetWriter, read back by the real readers (pyarrow, DuckDB, polars).
final class ParquetWriterTests: XCTestCase {
    private var dir: TempDir!

    override func setUp() { dir = TempDir("arc-parquet") }
    override func tearDown() { dir.remove() }

    func testEveryTypeNullsAndDictionaryInEveryCompression() throws {
        let table = everyTypeTable(rows: 5_000)
        let keyValues = [(key: "arc.source", value: "BTCUSDT-aggTrades-2025-01-01.zip"), (key: "note", value: "prix é 🙂")]
        for compression in ParquetCompression.allCases {
            var options = ParquetOptions()
            options.compression = compression
            let path = dir.file("every-\(compression).parquet")
            let summary = try table.write(to: path, options: options, batchRows: 1_234, metadata: keyValues)
            XCTAssertEqual(summary.rows, 5_000)
            XCTAssertEqual(summary.rowGroups, 1)
            XCTAssertEqual(summary.bytes, Int64(dir.read("every-\(compression).parquet").count))
            let codec = ["zstd": "ZSTD", "gzip": "GZIP", "snappy": "SNAPPY", "none": "UNCOMPRESSED"][compression.rawValue]!
            let expectation = table.expectation(rowGroups: 1, codec: codec, keyValues: keyValues, encodings: [
                ("side", "RLE_DICTIONARY"), ("price", "RLE_DICTIONARY"), ("time", "DELTA_BINARY_PACKED"),
                ("id", "DELTA_BINARY_PACKED"), ("maker", "PLAIN"), ("note", "RLE_DICTIONARY"),
            ])
            try ParquetReaders.check(path, expectation: expectation, in: dir)
        }
    }

    func testSeveralRowGroupsAndPagesWithFallbackToPlain() throws {
        var random = SplitMix64(seed: 42)
        let schema = [SilverColumn("id", .int64), SilverColumn("time", .timestamp), SilverColumn("unique", .double),
                      SilverColumn("price", .double), SilverColumn("symbol", .string),
                      SilverColumn("maybe", .int64, optional: true)]
        var rows: [[ParquetCell]] = []
        var time: Int64 = 1_735_689_600_000_000
        var cents: Int64 = 6_000_000
        let symbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT"]
        for r in 0..<150_000 {
            time += Int64(random.next() % 700)
            cents += Int64(random.next() % 5) - 2
            // Extremes now and then: the deltas wrap and the readers must undo them.
            let id: Int64 = r % 50_000 == 7 ? .min : r % 50_000 == 8 ? .max : Int64(r) * 3
            rows.append([.int(id), .int(time), .double(Double(bitPattern: random.next() >> 2)),
                         .double(Double(cents) / 100), .string(symbols[Int(random.next() % 3)]),
                         random.next() % 10 == 0 ? .null : .int(Int64(random.next() % 1000) - 500)])
        }
        let table = ParquetTestTable(schema: schema, rows: rows)
        var options = ParquetOptions()
        options.rowGroupRows = 140_000
        let path = dir.file("groups.parquet")
        let summary = try table.write(to: path, options: options, batchRows: 7_777)
        XCTAssertEqual(summary.rowGroups, 2)
        try ParquetReaders.check(path, expectation: table.expectation(
            rowGroups: 2, codec: "ZSTD", keyValues: [],
            encodings: [("unique", "PLAIN"), ("price", "RLE_DICTIONARY"), ("symbol", "RLE_DICTIONARY"),
                        ("maybe", "DELTA_BINARY_PACKED")]), in: dir)
    }

    /// A dictionary that passes 1 MB stops growing: its pages stay, the rest go out PLAIN.
    func testFullDictionaryFallsBackToPlainWithinTheChunk() throws {
        let schema = [SilverColumn("name", .string), SilverColumn("n", .int64)]
        let pad = String(repeating: "x", count: 50)
        let rows: [[ParquetCell]] = (0..<60_000).map { [.string("value-\($0 / 3)-" + pad), .int(Int64($0))] }
        let table = ParquetTestTable(schema: schema, rows: rows)
        let path = dir.file("fallback.parquet")
        try table.write(to: path, options: ParquetOptions())
        try ParquetReaders.check(path, expectation: table.expectation(
            rowGroups: 1, codec: "ZSTD", keyValues: [],
            encodings: [("name", "RLE_DICTIONARY"), ("name", "PLAIN")]), in: dir)
    }

    /// Runs, short and long copies, incompressible stretches and several 64 KiB fragments,
    /// decompressed by pyarrow's snappy.
    func testSnappyRoundTripsThroughPyarrow() throws {
        var random = SplitMix64(seed: 3)
        var input: [UInt8] = []
        while input.count < 300_000 {
            switch random.next() % 4 {
            case 0: input += Array(repeating: UInt8(random.next() & 0xFF), count: Int(random.next() % 200))
            case 1: for _ in 0..<Int(random.next() % 3_000) { input.append(UInt8(random.next() & 0xFF)) }
            case 2: if input.count > 10 {
                let from = Int(random.next() % UInt64(input.count - 5))
                input += input[from..<min(input.count, from + Int(random.next() % 300) + 4)]
            }
            default: input += Array("agg_trade_id,price,quantity,60000.01,0.00012,".utf8)
            }
        }
        let out = ByteBuffer()
        input.withUnsafeBytes { SnappyEncoder.encode($0, into: out) }
        XCTAssertLessThan(out.count, input.count)
        dir.write("input.bin", input)
        dir.write("snappy.bin", Array(out.bytes))
        let script = dir.write("unsnappy.py", """
            import sys, pyarrow as pa
            raw = open(sys.argv[1], "rb").read(); packed = open(sys.argv[2], "rb").read()
            out = pa.Codec("snappy").decompress(packed, decompressed_size=len(raw)).to_pybytes()
            print("ok" if out == raw else f"differs: {len(out)} bytes for {len(raw)}")
            """)
        var options = Subprocess.Options()
        options.stdoutPath = dir.file("unsnappy.out")
        guard access(ParquetReaders.python, X_OK) == 0 else { return XCTFail("\(ParquetReaders.python) is missing") }
        let child = try Subprocess(executable: ParquetReaders.python, arguments: [ParquetReaders.python, script,
                                   dir.file("input.bin"), dir.file("snappy.bin")], options: options)
        XCTAssertEqual(child.wait(), 0)
        XCTAssertEqual(String(decoding: dir.read("unsnappy.out"), as: UTF8.self), "ok\n")
    }

    func testEmptyFileHasTheSchemaAndNoRows() throws {
        let table = everyTypeTable(rows: 0)
        let path = dir.file("empty.parquet")
        let summary = try table.write(to: path, options: ParquetOptions(), metadata: [(key: "rows", value: "0")])
        XCTAssertEqual(summary, ParquetSummary(rows: 0, bytes: summary.bytes, rowGroups: 0))
        try ParquetReaders.check(path, expectation: table.expectation(rowGroups: 0, codec: "ZSTD",
                                                                      keyValues: [(key: "rows", value: "0")]), in: dir)
    }

    /// Pages with no value at all: no dictionary to index, no min or max, every row null.
    func testColumnsWithOnlyNulls() throws {
        let schema: [SilverColumn] = [SilverColumn("id", .int64)] + [SilverType.timestamp, .int64, .double, .boolean, .string]
            .map { SilverColumn("null_\(ParquetTestTable.name($0))", $0, optional: true) }
        let rows: [[ParquetCell]] = (0..<300).map { [.int(Int64($0))] + Array(repeating: .null, count: 5) }
        let table = ParquetTestTable(schema: schema, rows: rows)
        let path = dir.file("nulls.parquet")
        try table.write(to: path, options: ParquetOptions(), batchRows: 100)
        try ParquetReaders.check(path, expectation: table.expectation(rowGroups: 1, codec: "ZSTD", keyValues: []), in: dir)
    }

    func testPagesAndDictionariesShrinkForWideSchemas() {
        let narrow = ColumnLimits(schema: (0..<8).map { SilverColumn("c\($0)", $0 < 6 ? .double : .int64) }, rowGroupBytes: 12 << 20)
        XCTAssertEqual(narrow.pageRows, 128 * 1024)
        XCTAssertEqual(narrow.dictionaryBytes, 1 << 20)
        let wide = ColumnLimits(schema: (0..<26).map { SilverColumn("c\($0)", $0 < 4 ? .string : .double) }, rowGroupBytes: 12 << 20)
        XCTAssertEqual(wide.pageRows, 32 * 1024)
        XCTAssertEqual(wide.pageBytes, 256 * 1024)
        XCTAssertEqual(wide.dictionaryBytes, (6 << 20) / 26)
        XCTAssertLessThanOrEqual(wide.pageRows * 8 * 26, 8 << 20)
    }

    func testRowGroupsEndAtTheByteLimit() throws {
        var random = SplitMix64(seed: 1)
        let schema = [SilverColumn("noise", .double)]
        let batch = ColumnBatch(schema: schema)
        for _ in 0..<300_000 { batch.doubles[0].append(Double(bitPattern: random.next() >> 2)) }
        batch.rows = 300_000
        var options = ParquetOptions()
        options.compression = .none
        options.rowGroupBytes = 1 << 20
        let sink = MemorySink()
        let writer = try ParquetWriter(schema: schema, sink: sink, options: options)
        try writer.write(batch)
        let summary = try writer.finish(metadata: [])
        // 2.4 MB of incompressible values: a group each time 1 MB is buffered (checked per page).
        XCTAssertEqual(summary.rowGroups, 3)
        XCTAssertEqual(summary.bytes, Int64(sink.bytes.count))
        XCTAssertEqual(Array(sink.bytes.prefix(4)), Array("PAR1".utf8))
        XCTAssertEqual(Array(sink.bytes.suffix(4)), Array("PAR1".utf8))
    }

    func testSinkFailurePassesThroughUnchanged() {
        let sink = MemorySink()
        sink.failure = SystemError("write", path: "/full/disk.parquet", errno: ENOSPC)
        XCTAssertThrowsError(try ParquetWriter(schema: [SilverColumn("a", .int64)], sink: sink)) { error in
            XCTAssertEqual((error as? SystemError)?.code, .diskFull)
            XCTAssertEqual((error as? SystemError)?.path, "/full/disk.parquet")
        }
    }

    func testBatchThatDoesNotFitIsRefused() throws {
        let schema = [SilverColumn("a", .int64), SilverColumn("b", .string, optional: true)]
        let writer = try ParquetWriter(schema: schema, sink: MemorySink())
        let other = ColumnBatch(schema: [SilverColumn("a", .int64)])
        XCTAssertThrowsError(try writer.write(other)) { XCTAssertEqual(($0 as? ParquetError)?.kind, .schema) }
        let short = ColumnBatch(schema: schema)
        short.int64s[0] = [1, 2]
        short.strings[1].append("x")
        short.strings[1].append("y")
        short.present[1] = [true]
        short.rows = 2
        XCTAssertThrowsError(try writer.write(short)) { error in
            XCTAssertEqual((error as? ParquetError)?.column, "b")
            XCTAssertEqual((error as? ParquetError)?.code, .parquetSchema)
        }
        _ = try writer.finish(metadata: [])
        XCTAssertThrowsError(try writer.write(short)) { XCTAssertEqual(($0 as? ParquetError)?.kind, .finished) }
    }

    // MARK: Tables

    /// Every SilverType required and optional, with nulls, repeats for the dictionaries,
    /// multi-byte UTF-8, an empty string, signed zeros, a NaN and extreme values.
    private func everyTypeTable(rows count: Int) -> ParquetTestTable {
        var random = SplitMix64(seed: 7)
        let schema = [
            SilverColumn("time", .timestamp), SilverColumn("id", .int64), SilverColumn("price", .double),
            SilverColumn("maker", .boolean), SilverColumn("side", .string),
            SilverColumn("close_time", .timestamp, optional: true), SilverColumn("count", .int64, optional: true),
            SilverColumn("qty", .double, optional: true), SilverColumn("best", .boolean, optional: true),
            SilverColumn("note", .string, optional: true),
        ]
        let notes = ["", "é", "🙂 ok", "plain ascii", "tab-free"]
        let specials: [Double] = [0.0, -0.0, 1e300, -1e-300, .nan, .leastNonzeroMagnitude]
        var rows: [[ParquetCell]] = []
        var time: Int64 = 1_735_689_600_123_456
        for r in 0..<count {
            time += Int64(random.next() % 1_000)
            let null = random.next() % 5 == 0
            rows.append([
                .int(time), .int(r == 3 ? .min : r == 4 ? .max : Int64(r) - 2_000),
                .double(Double(60_000 + Int(random.next() % 200)) / 100), .bool(random.next() % 2 == 0),
                .string(random.next() % 2 == 0 ? "BUY" : "SELL"),
                null ? .null : .int(time + 999),
                random.next() % 3 == 0 ? .null : .int(Int64(random.next() % 7)),
                null ? .null : .double(r < specials.count ? specials[r] : Double(random.next() % 100_000) / 100_000),
                random.next() % 4 == 0 ? .null : .bool(r % 3 == 0),
                random.next() % 6 == 0 ? .null : .string(notes[Int(random.next() % 5)]),
            ])
        }
        return ParquetTestTable(schema: schema, rows: rows)
    }
}

/// Deterministic test values (SplitMix64).
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A sink in memory that can be told to fail.
final class MemorySink: ByteSink {
    var bytes: [UInt8] = []
    var failure: (any Error)?
    func write(_ data: UnsafeRawBufferPointer) throws {
        if let failure { throw failure }
        bytes.append(contentsOf: data)
    }
    func commit() throws {}
    func abort() {}
}
