// A Binance, Bybit or KuCoin CSV through TableParser and its checks, as arc-check and
// arc-convert read one. The input's first line is an archive key, optionally after its
// source and a space (`kucoin data/spot/...`): it picks the layout and the period; when it
// is not a key, one of a few is chosen from the input's hash. The rest is the CSV.
// Properties: no crash; fed whole, byte by byte or in chunks chosen from the input, the
// batches and the report are the same; every batch column holds the batch's rows; rows
// emitted plus rows refused never exceed the rows read; every finding's message is one
// line; the status is fail exactly when a finding is; the check object is valid JSON.
import FuzzSupport
@testable import ArcSilver
@testable import ArcCore

private let fallbackKeys = [
    "data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-01-01.zip",
    "data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-01.zip",
    "data/futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-2024-03-01.zip",
    "data/option/daily/EOHSummary/BTCUSDT/BTCUSDT-EOHSummary-2024-03-01.zip",
    "data/futures/cm/daily/liquidationSnapshot/BTCUSD_PERP/BTCUSD_PERP-liquidationSnapshot-2024-03-01.zip",
    "data/spot/monthly/klines/BTCUSDT/1w/BTCUSDT-1w-2024-02.zip",
    "trading/BTCUSDT/BTCUSDT2024-03-01.csv.gz",
    "spot/BTCUSDT/BTCUSDT-2024-02.csv.gz",
    "kucoin data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-01.zip",
    "kucoin data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip",
]

/// `KEY` or `SOURCE KEY`.
private func archiveIdentity(of line: String) -> ArchiveIdentity? {
    let parts = line.split(separator: " ", maxSplits: 1)
    if parts.count == 2 { return try? ArchiveIdentity(path: String(parts[1]), source: String(parts[0])) }
    return try? ArchiveIdentity(path: line)
}

/// What a parse produced, to compare two feeds of the same input.
private struct Outcome: Equatable {
    var batchRows: [Int] = []
    var values: [UInt64] = []
    var strings: [[UInt8]] = []
    var findings: [Finding] = []
    var rows = 0
}

private func run(_ csv: [UInt8], _ identity: ArchiveIdentity, _ dataset: Dataset, sizes: [Int], batchRows: Int) -> Outcome {
    let parser = TableParser(dataset: dataset, identity: identity, batchRows: batchRows)
    var out = Outcome()
    func take(_ b: ColumnBatch) {
        fuzzCheck(b.rows >= 1 && b.rows <= batchRows, "a batch of \(b.rows) rows")
        out.batchRows.append(b.rows)
        for (i, column) in b.schema.enumerated() {
            switch column.type {
            case .timestamp, .int64:
                fuzzCheck(b.int64s[i].count == b.rows, "column \(column.name) has \(b.int64s[i].count) values for \(b.rows) rows")
                out.values += b.int64s[i].map { UInt64(bitPattern: $0) }
            case .double:
                fuzzCheck(b.doubles[i].count == b.rows, "column \(column.name): \(b.doubles[i].count) values")
                out.values += b.doubles[i].map(\.bitPattern)
            case .boolean:
                fuzzCheck(b.booleans[i].count == b.rows, "column \(column.name): \(b.booleans[i].count) values")
                out.values += b.booleans[i].map { $0 ? 1 : 0 }
            case .string:
                fuzzCheck(b.strings[i].count == b.rows, "column \(column.name): \(b.strings[i].count) values")
                out.strings += (0..<b.rows).map { Array(b.strings[i].bytes[b.strings[i].range($0)]) }
            }
            if column.optional { fuzzCheck(b.present[i].count == b.rows, "presence of \(column.name)") }
        }
        parser.recycle(b)
    }
    do {
        try csv.withUnsafeBytes { raw in
            var offset = 0, n = 0
            while offset < raw.count {
                let size = min(sizes[n % sizes.count], raw.count - offset)
                n += 1
                try parser.consume(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + size]), emit: take)
                offset += size
            }
        }
        let report = try parser.finish(emit: take)
        out.findings = report.findings
        out.rows = report.rows
        let emitted = out.batchRows.reduce(0, +)
        fuzzCheck(report.rowsEmitted == emitted, "report says \(report.rowsEmitted) rows emitted, batches held \(emitted)")
        // A file no row of which fits is one unknown_layout finding counting every row.
        let refused = emitted == 0 && report.finding(.unknownLayout)?.count == report.rows ? report.rows
            : (report.finding(.badField)?.count ?? 0) + (report.finding(.badRow)?.count ?? 0)
        fuzzCheck(emitted + refused == report.rows, "\(emitted) emitted + \(refused) refused != \(report.rows) read")
        for f in report.findings {
            fuzzCheck(!f.message.contains("\n"), "a message of several lines: \(f.message)")
            fuzzCheck(f.lines.count <= Tally.maxLines && f.ranges.count <= Tally.maxRanges, "unbounded examples in \(f.code)")
        }
        fuzzCheck((report.status == .fail) == report.findings.contains { $0.severity == .fail }, "status \(report.status)")
        var builder = RecordBuilder()
        builder.begin()
        report.write(into: &builder)
        builder.end()
        do { _ = try JSONValue(parsing: Array(builder.bytes.dropLast())) } catch {
            fuzzFail("the check object is not JSON: \(fuzzShow(builder.bytes))")
        }
    } catch {
        fuzzFail("the parser threw: \(error)")
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSVTable(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    var choices = FuzzChoices(input)
    let newline = input.firstIndex(of: 0x0A) ?? input.count
    let firstLine = String(decoding: input[..<newline], as: UTF8.self)
    var identity = archiveIdentity(of: firstLine)
    var csv = Array(input[min(newline + 1, input.count)...])
    if identity == nil || (try? Dataset.of(identity!)) == nil {
        identity = archiveIdentity(of: fallbackKeys[choices.int(0...fallbackKeys.count - 1)])
        csv = input
    }
    guard let identity, let dataset = try? Dataset.of(identity) else { fuzzFail("a fallback key does not parse") }
    let batchRows = choices.int(1...50)
    let whole = run(csv, identity, dataset, sizes: [max(csv.count, 1)], batchRows: batchRows)
    let sizes = (0..<choices.int(1...4)).map { _ in choices.int(1...97) }
    let chunked = run(csv, identity, dataset, sizes: sizes, batchRows: batchRows)
    fuzzCheck(whole == chunked, "chunks of \(sizes) gave another result than one chunk")
    if csv.count < 512 {
        let bytewise = run(csv, identity, dataset, sizes: [1], batchRows: batchRows)
        fuzzCheck(whole == bytewise, "byte by byte gave another result")
    }
    return 0
}
