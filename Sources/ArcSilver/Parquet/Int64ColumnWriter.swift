/// INT64 columns (ids, counts, microsecond timestamps): DELTA_BINARY_PACKED pages.
final class Int64ColumnWriter: ColumnWriter {
    private var values: [Int64] = []
    private var chunk = MinMax<Int64>()

    override init(column: SilverColumn, index: Int, limits: ColumnLimits, compressor: PageCompressor, body: ByteBuffer) {
        super.init(column: column, index: index, limits: limits, compressor: compressor, body: body)
        values.reserveCapacity(limits.pageRows)
    }

    override func stage(_ batch: ColumnBatch, rows: Range<Int>) -> Int {
        appendPresent(batch.int64s[index], of: batch, rows, to: &values)
        return rows.count
    }

    override func encodeValues() -> (ParquetFormat.Encoding, ParquetStatistics) {
        var page = MinMax<Int64>()
        values.withUnsafeBufferPointer { v in
            if var lo = v.first {
                var hi = lo
                for x in v {
                    lo = Swift.min(lo, x)
                    hi = Swift.max(hi, x)
                }
                page = MinMax(min: lo, max: hi)
            }
            DeltaBinaryPackedEncoder.encode(v, into: body)
        }
        values.removeAll(keepingCapacity: true)
        chunk.merge(page, less: <)
        return (.deltaBinaryPacked, Int64ColumnWriter.statistics(page))
    }

    override func chunkStatistics() -> ParquetStatistics { Int64ColumnWriter.statistics(chunk) }

    override func resetChunk() { chunk = MinMax() }

    private static func statistics(_ range: MinMax<Int64>) -> ParquetStatistics {
        ParquetStatistics(minValue: range.min.map(littleEndianBytes), maxValue: range.max.map(littleEndianBytes))
    }
}

/// BOOLEAN columns: PLAIN, one bit a value, least significant bit first.
final class BooleanColumnWriter: ColumnWriter {
    private var values: [Bool] = []
    private var chunk = MinMax<Bool>()

    override init(column: SilverColumn, index: Int, limits: ColumnLimits, compressor: PageCompressor, body: ByteBuffer) {
        super.init(column: column, index: index, limits: limits, compressor: compressor, body: body)
        values.reserveCapacity(limits.pageRows)
    }

    override func stage(_ batch: ColumnBatch, rows: Range<Int>) -> Int {
        appendPresent(batch.booleans[index], of: batch, rows, to: &values)
        return rows.count
    }

    override func encodeValues() -> (ParquetFormat.Encoding, ParquetStatistics) {
        var sawTrue = false
        var sawFalse = false
        body.reserve(values.count / 8 + 8)
        var writer = BitWriter(body.end)
        for v in values {
            writer.put(v ? 1 : 0, width: 1)
            if v { sawTrue = true } else { sawFalse = true }
        }
        body.count = writer.finish() - body.base
        var page = MinMax<Bool>()
        if sawTrue || sawFalse { page = MinMax(min: !sawFalse, max: sawTrue) }
        values.removeAll(keepingCapacity: true)
        chunk.merge(page, less: { !$0 && $1 })
        return (.plain, BooleanColumnWriter.statistics(page))
    }

    override func chunkStatistics() -> ParquetStatistics { BooleanColumnWriter.statistics(chunk) }

    override func resetChunk() { chunk = MinMax() }

    private static func statistics(_ range: MinMax<Bool>) -> ParquetStatistics {
        ParquetStatistics(minValue: range.min.map { [$0 ? 1 : 0] }, maxValue: range.max.map { [$0 ? 1 : 0] })
    }
}

extension ColumnWriter {
    /// Appends the values of `rows` a row has (all of them for a required column: an
    /// optional column's missing values are written as definition levels, not values).
    func appendPresent<T>(_ source: [T], of batch: ColumnBatch, _ rows: Range<Int>, to values: inout [T]) {
        if column.optional {
            let present = batch.present[index]
            for r in rows where present[r] { values.append(source[r]) }
        } else {
            values.append(contentsOf: source[rows])
        }
    }
}
