/// What every column's writer shares: the rows of the page being filled, its definition
/// levels (optional columns), and the page's passage to `ColumnChunkPages`. A subclass per
/// type stages values its own way and encodes them.
class ColumnWriter {
    let column: SilverColumn
    let limits: ColumnLimits
    /// The column's position in the schema and in every batch.
    let index: Int
    let pages: ColumnChunkPages
    /// The page body being encoded, shared by every column (one page is encoded at a time).
    let body: ByteBuffer
    private var levels: [UInt8] = []
    private(set) var rowsInPage = 0
    private var pageNulls = 0
    private var chunkNulls: Int64 = 0

    init(column: SilverColumn, index: Int, limits: ColumnLimits, compressor: PageCompressor, body: ByteBuffer) {
        self.column = column
        self.limits = limits
        self.index = index
        self.body = body
        pages = ColumnChunkPages(column: column, compressor: compressor, retainedBytes: limits.retainedBytes)
        if column.optional { levels.reserveCapacity(limits.pageRows) }
    }

    /// Bytes held until the row group ends (compressed pages and dictionaries).
    var bufferedBytes: Int { pages.bufferedBytes + dictionaryBytes }

    func append(_ batch: ColumnBatch, rows: Range<Int>) throws {
        var row = rows.lowerBound
        let present = batch.present[index]
        while row < rows.upperBound {
            let n = min(rows.upperBound - row, limits.pageRows - rowsInPage)
            let taken = stage(batch, rows: row..<row + n)
            if column.optional {
                present.withUnsafeBufferPointer { p in
                    for r in row..<row + taken {
                        levels.append(p[r] ? 1 : 0)
                        if !p[r] { pageNulls += 1 }
                    }
                }
            }
            rowsInPage += taken
            row += taken
            if rowsInPage == limits.pageRows || pageIsFull { try flushPage() }
        }
    }

    /// Encodes and compresses the page being filled, if it has rows.
    func flushPage() throws {
        guard rowsInPage > 0 else { return }
        body.removeAll(keepingCapacity: 8 << 20)
        if column.optional {
            // v1 data page: the levels' byte length, then the levels (RLE hybrid, 1 bit).
            let lengthAt = body.count
            body.append(uint32: 0)
            levels.withUnsafeBufferPointer { RleHybridEncoder.encode($0, width: 1, into: body) }
            body.patch(uint32: UInt32(body.count - lengthAt - 4), at: lengthAt)
        }
        var (encoding, statistics) = encodeValues()
        statistics.nullCount = Int64(pageNulls)
        try pages.addDataPage(body.bytes, numValues: rowsInPage, encoding: encoding, statistics: statistics)
        chunkNulls += Int64(pageNulls)
        levels.removeAll(keepingCapacity: true)
        rowsInPage = 0
        pageNulls = 0
    }

    /// Ends the column chunk: the last page, the dictionary page, then writes it all to
    /// `file` and starts afresh for the next row group.
    func writeChunk(to file: ParquetFileOutput) throws -> ColumnChunkMetadata {
        try flushPage()
        try finishDictionary()
        var statistics = chunkStatistics()
        statistics.nullCount = chunkNulls
        let metadata = try pages.write(to: file, statistics: statistics)
        chunkNulls = 0
        resetChunk()
        return metadata
    }

    // MARK: For subclasses

    /// Copies the values of `rows` (skipping absent ones) into the page; returns how many
    /// rows it took: all, unless the page filled up by size first (at least one).
    func stage(_ batch: ColumnBatch, rows: Range<Int>) -> Int { fatalError("abstract") }
    /// Whether the page must go out before more rows (a size limit other than rows).
    var pageIsFull: Bool { false }
    /// Appends the staged values to `body`, clears them, and says how they were encoded
    /// with the page's min/max (null count filled in here).
    func encodeValues() -> (ParquetFormat.Encoding, ParquetStatistics) { fatalError("abstract") }
    var dictionaryBytes: Int { 0 }
    /// Hands the dictionary page to `pages` when data pages used it.
    func finishDictionary() throws {}
    func chunkStatistics() -> ParquetStatistics { ParquetStatistics() }
    func resetChunk() {}
}

/// How big a page and a dictionary may grow. Both shrink for wide schemas so that the
/// pages being filled (one per column) and the dictionaries (one per double or string
/// column) stay within a fixed budget however many columns there are.
struct ColumnLimits {
    /// Rows in a page: 128 Ki (1 MB of 8-byte values, what pyarrow and polars aim at too)
    /// up to 8 columns, fewer beyond so all pages being filled hold about 8 MB at most.
    let pageRows: Int
    /// Bytes of a PLAIN string page.
    let pageBytes: Int
    /// PLAIN size at which a dictionary stops growing: 1 MB (pyarrow's default), less when
    /// more than 6 columns have one.
    let dictionaryBytes: Int
    /// A column's share of the row group's byte budget.
    let retainedBytes: Int

    /// Values after which a chunk's first page tells whether its dictionary pays.
    let dictionaryTrial: Int

    init(schema: [SilverColumn], rowGroupBytes: Int, pageBudget: Int = 8 << 20, dictionaryBudget: Int = 6 << 20) {
        retainedBytes = max(64 << 10, rowGroupBytes / max(schema.count, 1))
        let fit = pageBudget / (8 * max(schema.count, 1))
        var rows = 128 * 1024
        while rows > fit && rows > 4096 { rows /= 2 }
        pageRows = rows
        dictionaryTrial = min(rows, 16 * 1024)
        pageBytes = rows * 8
        let dictionaries = schema.filter { $0.type == .double || $0.type == .string }.count
        dictionaryBytes = min(1 << 20, dictionaryBudget / max(dictionaries, 1))
    }
}

/// Running min and max of one page or chunk, in the column's own order.
struct MinMax<Value> {
    var min: Value?
    var max: Value?

    mutating func merge(_ other: MinMax, less: (Value, Value) -> Bool) {
        if let m = other.min, min == nil || less(m, min!) { min = m }
        if let m = other.max, max == nil || less(max!, m) { max = m }
    }
}

/// PLAIN bytes of a statistic.
@inline(__always)
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}
