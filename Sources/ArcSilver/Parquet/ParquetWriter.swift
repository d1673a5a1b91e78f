import ArcCore

/// The codec of every page.
public enum ParquetCompression: String, Sendable, CaseIterable {
    /// SNAPPY is our own encoder of the raw block format (no library in Debian's base set).
    case zstd, gzip, snappy, none
}

public struct ParquetOptions: Sendable {
    /// zstd level 1. Measured on 2,000,000 generated spot aggTrades rows (release build, CPU
    /// time of write + finish): level 1 0.072 s per million rows and 11.16 MB, level 3 0.099 s
    /// and 10.80 MB: 38% more time for 3% less. (polars' zstd file of the same rows: 18.8 MB.)
    static let defaultZstdLevel = 1

    public var compression: ParquetCompression = .zstd
    /// The codec's level: zstd 1...19 (nil: 1), gzip 1...9 (nil: 6).
    public var compressionLevel: Int? = nil
    /// Rows in a full row group. A group also ends early once its buffered pages reach
    /// `rowGroupBytes`, so memory stays bounded whatever the rows hold.
    public var rowGroupRows: Int = 1 << 20
    /// Compressed bytes (pages and dictionaries) buffered for a row group before it is
    /// written out. With the pages being filled (about 8 MB at most), the buffers' slack and
    /// the codec, the writer stays under about 35 MB even for 26 columns of unique,
    /// incompressible strings; a spot aggTrades row group of 1 Mi rows is about 5.5 MB, so
    /// only wide or incompressible tables are cut by it.
    public var rowGroupBytes: Int = 12 << 20
    /// Raw values of the pages being filled, all columns together: 8 MB is 128 Ki rows a
    /// page for 8 numeric columns. A converter running several files at once divides it.
    public var pageBudget: Int = 8 << 20
    /// PLAIN bytes the dictionaries of double and string columns may grow to, together.
    public var dictionaryBudget: Int = 6 << 20
    /// FileMetaData.created_by, "<application> version <version>" as the format asks.
    public var createdBy: String = "arc version \(ArcVersion.current)"

    public init() {}
}

public struct ParquetSummary: Sendable, Equatable {
    public let rows: Int64
    /// The whole file's size.
    public let bytes: Int64
    public let rowGroups: Int
}

/// Writes a Parquet file to a sink as batches arrive: "PAR1", row groups of column chunks
/// (dictionary page, then data pages v1, each compressed), the FileMetaData footer, its
/// length and "PAR1". Flat schema, one leaf per column. Memory: one page per column being
/// filled plus the current row group's compressed pages and dictionaries.
public final class ParquetWriter {
    public let schema: [SilverColumn]
    public let options: ParquetOptions
    private let file: ParquetFileOutput
    private let columns: [ColumnWriter]
    private var rowGroups: [RowGroupMetadata] = []
    private var rowsInGroup = 0
    private var rows: Int64 = 0
    private var finished = false
    private let pageRows: Int

    public init(schema: [SilverColumn], sink: ByteSink, options: ParquetOptions = ParquetOptions()) throws {
        guard !schema.isEmpty else { throw ParquetError(.schema, "a file needs at least one column") }
        var names = Set<String>()
        for column in schema {
            guard !column.name.isEmpty, names.insert(column.name).inserted else {
                throw ParquetError(.schema, column: column.name, "column names must be distinct and not empty")
            }
        }
        guard options.rowGroupRows > 0, options.rowGroupBytes > 0 else {
            throw ParquetError(.schema, "rowGroupRows and rowGroupBytes must be positive")
        }
        self.schema = schema
        self.options = options
        file = ParquetFileOutput(sink: sink)
        let compressor = try PageCompressor(options.compression, level: options.compressionLevel)
        let body = ByteBuffer(capacity: 1 << 20)
        let limits = ColumnLimits(schema: schema, rowGroupBytes: options.rowGroupBytes, pageBudget: options.pageBudget,
                                  dictionaryBudget: options.dictionaryBudget)
        pageRows = limits.pageRows
        columns = schema.enumerated().map { i, column -> ColumnWriter in
            switch column.type {
            case .timestamp, .int64: return Int64ColumnWriter(column: column, index: i, limits: limits, compressor: compressor, body: body)
            case .double: return DoubleColumnWriter(column: column, index: i, limits: limits, compressor: compressor, body: body)
            case .boolean: return BooleanColumnWriter(column: column, index: i, limits: limits, compressor: compressor, body: body)
            case .string: return StringColumnWriter(column: column, index: i, limits: limits, compressor: compressor, body: body)
            }
        }
        try file.write(ParquetWriter.magic)
    }

    static let magic: [UInt8] = Array("PAR1".utf8)

    /// Appends the batch's rows. The batch is not kept: the caller may refill it at once.
    /// After an error the file is incomplete: abort the sink.
    public func write(_ batch: ColumnBatch) throws {
        guard !finished else { throw ParquetError(.finished, "write after finish") }
        try check(batch)
        let sliceRows = rowsPerSlice(batch)
        var start = 0
        while start < batch.rows {
            // The byte limit is looked at after each slice, so a slice holds a few MB at most.
            let n = min(batch.rows - start, options.rowGroupRows - rowsInGroup, sliceRows)
            for column in columns { try column.append(batch, rows: start..<start + n) }
            rowsInGroup += n
            start += n
            if rowsInGroup >= options.rowGroupRows || bufferedBytes >= options.rowGroupBytes {
                try writeRowGroup()
            }
        }
    }

    /// Writes the last row group and the footer; the sink is left for the caller to commit.
    public func finish(metadata: [(key: String, value: String)]) throws -> ParquetSummary {
        guard !finished else { throw ParquetError(.finished, "finish called twice") }
        finished = true
        if rowsInGroup > 0 { try writeRowGroup() }
        let footer = FileMetadata(schema: schema, numRows: rows, rowGroups: rowGroups,
                                  keyValues: metadata, createdBy: options.createdBy).encoded()
        try file.write(footer)
        try file.write(littleEndianBytes(UInt32(footer.count)))
        try file.write(ParquetWriter.magic)
        return ParquetSummary(rows: rows, bytes: file.offset, rowGroups: rowGroups.count)
    }

    /// Rows holding about 2 MB of raw values (8 bytes a number, the strings' own bytes).
    private func rowsPerSlice(_ batch: ColumnBatch) -> Int {
        guard batch.rows > 0 else { return pageRows }
        var bytes = 0
        for (i, column) in schema.enumerated() {
            bytes += column.type == .string ? batch.strings[i].bytes.count + 4 * batch.rows : 8 * batch.rows
        }
        let perRow = max(1, bytes / batch.rows)
        return max(1, min(pageRows, (2 << 20) / perRow))
    }

    private var bufferedBytes: Int { columns.reduce(0) { $0 + $1.bufferedBytes } }

    private func writeRowGroup() throws {
        let start = file.offset
        var chunks: [ColumnChunkMetadata] = []
        chunks.reserveCapacity(columns.count)
        for column in columns { chunks.append(try column.writeChunk(to: file)) }
        rowGroups.append(RowGroupMetadata(columns: chunks, numRows: Int64(rowsInGroup), fileOffset: start,
                                          ordinal: rowGroups.count))
        rows += Int64(rowsInGroup)
        rowsInGroup = 0
    }

    /// The batch must be built for this schema and hold `rows` values in every column.
    private func check(_ batch: ColumnBatch) throws {
        guard batch.schema == schema else {
            throw ParquetError(.schema, "the batch's schema differs from the file's")
        }
        for (i, column) in schema.enumerated() {
            let count: Int
            switch column.type {
            case .timestamp, .int64: count = batch.int64s[i].count
            case .double: count = batch.doubles[i].count
            case .boolean: count = batch.booleans[i].count
            case .string: count = batch.strings[i].count
            }
            guard count >= batch.rows else {
                throw ParquetError(.schema, column: column.name, "\(count) values for \(batch.rows) rows")
            }
            if column.optional && batch.present[i].count < batch.rows {
                throw ParquetError(.schema, column: column.name, "\(batch.present[i].count) presence flags for \(batch.rows) rows")
            }
        }
    }
}
