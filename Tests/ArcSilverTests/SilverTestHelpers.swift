import XCTest
@testable import ArcSilver
import ArcCore

/// The rows of a parse, gathered from all its batches, and its report.
struct ParsedTable {
    var schema: [SilverColumn] = []
    var int64s: [[Int64]] = []
    var doubles: [[Double]] = []
    var booleans: [[Bool]] = []
    var strings: [[String]] = []
    var present: [[Bool]] = []
    var rows = 0
    var batches = 0
    var report = CheckReport()

    mutating func append(_ b: ColumnBatch) {
        if schema.isEmpty {
            schema = b.schema
            int64s = Array(repeating: [], count: schema.count)
            doubles = int64s.map { _ in [] }
            booleans = int64s.map { _ in [] }
            strings = int64s.map { _ in [] }
            present = int64s.map { _ in [] }
        }
        for i in schema.indices {
            int64s[i] += b.int64s[i]
            doubles[i] += b.doubles[i]
            booleans[i] += b.booleans[i]
            strings[i] += (0..<b.strings[i].count).map { String(decoding: b.strings[i].bytes[b.strings[i].range($0)], as: UTF8.self) }
            present[i] += b.present[i]
            XCTAssertTrue([b.int64s[i].count, b.doubles[i].count, b.booleans[i].count, b.strings[i].count].contains(b.rows))
        }
        rows += b.rows
        batches += 1
    }

    func column(_ name: String) -> Int { schema.firstIndex { $0.name == name }! }
    func ints(_ name: String) -> [Int64] { int64s[column(name)] }
    func doubles(_ name: String) -> [Double] { doubles[column(name)] }
    func bools(_ name: String) -> [Bool] { booleans[column(name)] }
    func texts(_ name: String) -> [String] { strings[column(name)] }

    /// The finding codes, in order.
    var codes: [String] { report.findings.map(\.code.rawValue) }
}

/// Parses `csv` as the archive `key` names, fed in chunks of `chunk` bytes (all at once
/// when nil), or in the sizes `sizes` repeats.
func parse(_ csv: String, key: String, chunk: Int? = nil, sizes: [Int]? = nil, batchRows: Int = 65_536,
           file: StaticString = #filePath, line: UInt = #line) throws -> ParsedTable {
    let identity = try ArchiveIdentity(path: key)
    let parser = TableParser(dataset: try Dataset.of(identity), identity: identity, batchRows: batchRows)
    var table = ParsedTable()
    let bytes = Array(csv.utf8)
    let pattern = sizes ?? [chunk ?? max(bytes.count, 1)]
    try bytes.withUnsafeBytes { raw in
        var offset = 0, n = 0
        while offset < raw.count {
            let size = min(pattern[n % pattern.count], raw.count - offset)
            n += 1
            try parser.consume(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + size])) { table.append($0); parser.recycle($0) }
            offset += size
        }
    }
    table.report = try parser.finish { table.append($0); parser.recycle($0) }
    return table
}

/// Microseconds at a UTC date and time.
func micros(_ date: String, _ h: Int = 0, _ m: Int = 0, _ s: Int = 0) -> Int64 {
    Int64(Day(date)!.daysSinceEpoch) * 86_400_000_000 + Int64(h * 3600 + m * 60 + s) * 1_000_000
}

func millisText(_ date: String, _ h: Int = 0, _ m: Int = 0, _ s: Int = 0) -> String { String(micros(date, h, m, s) / 1000) }
