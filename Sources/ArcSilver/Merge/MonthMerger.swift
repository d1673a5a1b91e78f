import ArcCore

/// Writes a month's rows from its daily archives into one Parquet file: days in date
/// order, each day's rows in time order, exact duplicate rows dropped. Days whose rows are
/// in order stream through (memory bounded); a day with rows out of order is held and
/// sorted first, so memory grows with that one day.
final class MonthMerger {
    private let writer: ParquetWriter
    private let timeColumn: Int
    private let batchRows: Int
    private var out: ColumnBatch
    /// The time of the current run of equal times, and the hashes of its rows kept so far.
    private var runTime = Int64.min
    private var runHashes = Set<UInt64>()
    /// Batches of a day being held for sorting.
    private var held: [ColumnBatch] = []
    private(set) var rows: Int64 = 0
    private(set) var duplicatesDropped: Int64 = 0

    init(schema: [SilverColumn], timeColumn: Int, writer: ParquetWriter, batchRows: Int = 65_536) {
        self.writer = writer
        self.timeColumn = timeColumn
        self.batchRows = batchRows
        out = ColumnBatch(schema: schema, capacity: batchRows)
    }

    /// A batch of a day whose rows are in time order.
    func add(_ batch: ColumnBatch) throws {
        for r in 0..<batch.rows { try take(batch, r) }
    }

    /// A batch of a day whose rows are not in order: kept (a copy) until `endSortedDay`.
    func hold(_ batch: ColumnBatch) {
        let copy = ColumnBatch(schema: batch.schema, capacity: batch.rows)
        for r in 0..<batch.rows { copy.appendRow(of: batch, r) }
        held.append(copy)
    }

    /// Sorts the held day by time (a stable sort: rows of equal time keep their order) and
    /// writes it.
    func endSortedDay() throws {
        var order: [(batch: Int32, row: Int32)] = []
        for (b, batch) in held.enumerated() {
            for r in 0..<batch.rows { order.append((Int32(b), Int32(r))) }
        }
        let times = held.map { $0.int64s[timeColumn] }
        let sorted = order.enumerated().sorted { a, b in
            let ta = times[Int(a.element.batch)][Int(a.element.row)], tb = times[Int(b.element.batch)][Int(b.element.row)]
            return ta != tb ? ta < tb : a.offset < b.offset
        }
        for (_, place) in sorted { try take(held[Int(place.batch)], Int(place.row)) }
        held = []
    }

    private func take(_ batch: ColumnBatch, _ r: Int) throws {
        let t = batch.int64s[timeColumn][r]
        if t != runTime {
            runTime = t
            runHashes.removeAll(keepingCapacity: true)
        }
        guard runHashes.insert(batch.hashRow(r)).inserted else {
            duplicatesDropped += 1
            return
        }
        out.appendRow(of: batch, r)
        rows += 1
        if out.rows == batchRows {
            try writer.write(out)
            out.removeAll()
        }
    }

    func finish() throws {
        if out.rows > 0 {
            try writer.write(out)
            out.removeAll()
        }
    }
}
