/// DOUBLE columns: dictionary-encoded while that pays (prices and quantities repeat a
/// lot within a day), PLAIN otherwise. The chunk's first values decide (16 Ki of them, or
/// the first page if shorter): when over half are distinct the dictionary is dropped and
/// they go out PLAIN (a near-unique column such as a quote quantity would only pay for
/// indices on top of the values, and the hashing). A
/// dictionary that reaches `limits.dictionaryBytes` stops growing: its pages stay, the
/// chunk's later pages are PLAIN (readers accept a chunk that mixes the two).
final class DoubleColumnWriter: ColumnWriter {
    private let dictionary = UInt64Dictionary()
    private var useDictionary = true
    /// Whether a data page of this chunk already refers to the dictionary.
    private var dictionaryUsed = false
    private var indices: [UInt32] = []
    private var values: [Double] = []
    private var chunk = MinMax<Double>()
    private var chunkNaNs: Int64 = 0

    override init(column: SilverColumn, index: Int, limits: ColumnLimits, compressor: PageCompressor, body: ByteBuffer) {
        super.init(column: column, index: index, limits: limits, compressor: compressor, body: body)
        indices.reserveCapacity(limits.pageRows)
    }

    private var dictionaryIsFull: Bool { dictionary.plainSize >= limits.dictionaryBytes }

    override var pageIsFull: Bool { useDictionary && dictionaryIsFull }

    override var dictionaryBytes: Int { useDictionary || dictionaryUsed ? dictionary.plainSize * 3 / 2 : 0 }

    override func stage(_ batch: ColumnBatch, rows: Range<Int>) -> Int {
        let source = batch.doubles[index]
        let present = batch.present[index]
        let optional = column.optional
        guard useDictionary else {
            if optional {
                for r in rows where present[r] { values.append(source[r]) }
            } else {
                values.append(contentsOf: source[rows])
            }
            return rows.count
        }
        var staged = indices
        indices = []
        defer { indices = staged }
        let limit = limits.dictionaryBytes / 8
        let dictionary = self.dictionary
        let taken = source.withUnsafeBufferPointer { v in
            for r in rows {
                if optional && !present[r] { continue }
                staged.append(dictionary.index(of: v[r].bitPattern))
                if dictionary.count >= limit { return r - rows.lowerBound + 1 }
            }
            return rows.count
        }
        if !dictionaryUsed && staged.count >= limits.dictionaryTrial && dictionary.count * 2 > staged.count {
            swap(&staged, &indices)
            abandonDictionary()
            swap(&staged, &indices)
        }
        return taken
    }

    /// Mostly distinct: PLAIN for the rest of this chunk, starting with the staged values.
    private func abandonDictionary() {
        for i in indices { values.append(Double(bitPattern: dictionary.values[Int(i)])) }
        indices.removeAll(keepingCapacity: true)
        dictionary.removeAll(releasing: true)
        useDictionary = false
    }

    override func encodeValues() -> (ParquetFormat.Encoding, ParquetStatistics) {
        if useDictionary && !dictionaryUsed && dictionary.count * 2 > indices.count && indices.count > 0 {
            abandonDictionary()
        }
        var page = MinMax<Double>()
        var nans: Int64 = 0
        let encoding: ParquetFormat.Encoding
        if useDictionary && dictionary.count == 0 {
            // Every row of the page is null: nothing to index, an empty PLAIN page.
            encoding = .plain
        } else if useDictionary {
            let entries = dictionary.values
            for i in indices { DoubleColumnWriter.include(Double(bitPattern: entries[Int(i)]), &page, &nans) }
            // Never 0 bits: some readers mishandle a zero-width index stream.
            let width = Swift.max(1, bitWidth(UInt64(dictionary.count - 1)))
            body.append(byte: UInt8(width))
            indices.withUnsafeBufferPointer { RleHybridEncoder.encode($0, width: width, into: body) }
            indices.removeAll(keepingCapacity: true)
            dictionaryUsed = true
            encoding = .rleDictionary
            if dictionaryIsFull { useDictionary = false }
        } else {
            for v in values { DoubleColumnWriter.include(v, &page, &nans) }
            values.withUnsafeBytes { body.append($0) } // little-endian IEEE 754, as PLAIN is
            values.removeAll(keepingCapacity: true)
            encoding = .plain
        }
        chunk.merge(page, less: <)
        chunkNaNs += nans
        return (encoding, DoubleColumnWriter.statistics(page, nans: nans))
    }

    override func finishDictionary() throws {
        guard dictionaryUsed else { return }
        try pages.setDictionaryPage(UnsafeRawBufferPointer(start: dictionary.values, count: dictionary.plainSize),
                                    numValues: dictionary.count)
    }

    override func chunkStatistics() -> ParquetStatistics { DoubleColumnWriter.statistics(chunk, nans: chunkNaNs) }

    override func resetChunk() {
        dictionary.removeAll()
        useDictionary = true
        dictionaryUsed = false
        chunk = MinMax()
        chunkNaNs = 0
    }

    /// NaN is left out of min and max (the format forbids it there) and counted instead.
    @inline(__always)
    private static func include(_ v: Double, _ range: inout MinMax<Double>, _ nans: inout Int64) {
        if v.isNaN {
            nans += 1
            return
        }
        if range.min == nil || v < range.min! { range.min = v }
        if range.max == nil || v > range.max! { range.max = v }
    }

    /// A zero minimum is written as -0.0 and a zero maximum as +0.0, as the format asks:
    /// a reader then never prunes a page holding the other zero.
    private static func statistics(_ range: MinMax<Double>, nans: Int64) -> ParquetStatistics {
        let lo = range.min.map { $0 == 0 ? -0.0 : $0 }
        let hi = range.max.map { $0 == 0 ? 0.0 : $0 }
        return ParquetStatistics(nanCount: nans, minValue: lo.map { littleEndianBytes($0.bitPattern) },
                                 maxValue: hi.map { littleEndianBytes($0.bitPattern) })
    }
}
