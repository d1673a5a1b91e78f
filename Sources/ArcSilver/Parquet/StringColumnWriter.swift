import Glibc

/// BYTE_ARRAY (STRING) columns: dictionary-encoded, with the same first-values test and
/// size limit as `DoubleColumnWriter`; PLAIN pages (4-byte length, bytes) otherwise, cut
/// at about 1 MB so long strings cannot make a page, or the memory behind it, large.
final class StringColumnWriter: ColumnWriter {
    /// Longer minimum or maximum strings are left out of the statistics (a footer stays small).
    static let statisticsLimit = 256

    private let dictionary = ByteStringDictionary()
    private var useDictionary = true
    private var dictionaryUsed = false
    private var indices: [UInt32] = []
    /// PLAIN values of the page being filled, and where its min and max sit in it.
    private let plain = ByteBuffer(capacity: 1 << 16)
    private var plainMin: Range<Int>?
    private var plainMax: Range<Int>?
    private var chunkMin: [UInt8]?
    private var chunkMax: [UInt8]?

    override init(column: SilverColumn, index: Int, limits: ColumnLimits, compressor: PageCompressor, body: ByteBuffer) {
        super.init(column: column, index: index, limits: limits, compressor: compressor, body: body)
        indices.reserveCapacity(limits.pageRows)
    }

    override var pageIsFull: Bool {
        useDictionary ? dictionary.plainSize >= limits.dictionaryBytes : plain.count >= limits.pageBytes
    }

    override var dictionaryBytes: Int { useDictionary || dictionaryUsed ? dictionary.plainSize * 2 : 0 }

    override func stage(_ batch: ColumnBatch, rows: Range<Int>) -> Int {
        let source = batch.strings[index]
        let present = batch.present[index]
        let optional = column.optional
        let taken = source.bytes.withUnsafeBytes { bytes in
            source.ends.withUnsafeBufferPointer { ends in
                for r in rows {
                    if optional && !present[r] { continue }
                    let start = r == 0 ? 0 : Int(ends[r - 1])
                    let value = UnsafeRawBufferPointer(rebasing: bytes[start..<Int(ends[r])])
                    if useDictionary {
                        indices.append(dictionary.index(of: value))
                    } else {
                        appendPlain(value)
                    }
                    if pageIsFull { return r - rows.lowerBound + 1 }
                }
                return rows.count
            }
        }
        if useDictionary && !dictionaryUsed && indices.count >= limits.dictionaryTrial && dictionary.count * 2 > indices.count {
            abandonDictionary()
        }
        return taken
    }

    /// Mostly distinct: PLAIN for the rest of this chunk, starting with the staged values.
    private func abandonDictionary() {
        for i in indices { appendPlain(dictionary.entry(Int(i))) }
        indices.removeAll(keepingCapacity: true)
        dictionary.removeAll(releasing: true)
        useDictionary = false
    }

    private func appendPlain(_ value: UnsafeRawBufferPointer) {
        plain.append(uint32: UInt32(value.count))
        let range = plain.count..<plain.count + value.count
        plain.append(value)
        if plainMin == nil || bytesLess(value, slice(plainMin!)) { plainMin = range }
        if plainMax == nil || bytesLess(slice(plainMax!), value) { plainMax = range }
    }

    private func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: plain.base + range.lowerBound, count: range.count)
    }

    override func encodeValues() -> (ParquetFormat.Encoding, ParquetStatistics) {
        if useDictionary && !dictionaryUsed && dictionary.count * 2 > indices.count && indices.count > 0 {
            abandonDictionary()
        }
        var pageMin: [UInt8]?
        var pageMax: [UInt8]?
        let encoding: ParquetFormat.Encoding
        if useDictionary && dictionary.count > 0 {
            var lo = -1
            var hi = -1
            var last = -1
            for i in indices where Int(i) != last {
                last = Int(i)
                if lo < 0 || bytesLess(dictionary.entry(last), dictionary.entry(lo)) { lo = last }
                if hi < 0 || bytesLess(dictionary.entry(hi), dictionary.entry(last)) { hi = last }
            }
            if lo >= 0 {
                pageMin = Array(dictionary.entry(lo))
                pageMax = Array(dictionary.entry(hi))
            }
            let width = Swift.max(1, bitWidth(UInt64(dictionary.count - 1)))
            body.append(byte: UInt8(width))
            indices.withUnsafeBufferPointer { RleHybridEncoder.encode($0, width: width, into: body) }
            indices.removeAll(keepingCapacity: true)
            dictionaryUsed = true
            encoding = .rleDictionary
            if dictionary.plainSize >= limits.dictionaryBytes { useDictionary = false }
        } else {
            pageMin = plainMin.map { Array(slice($0)) }
            pageMax = plainMax.map { Array(slice($0)) }
            body.append(plain.bytes)
            plain.removeAll(keepingCapacity: 2 << 20)
            plainMin = nil
            plainMax = nil
            encoding = .plain
        }
        if let m = pageMin, chunkMin == nil || StringColumnWriter.less(m, chunkMin!) { chunkMin = m }
        if let m = pageMax, chunkMax == nil || StringColumnWriter.less(chunkMax!, m) { chunkMax = m }
        return (encoding, StringColumnWriter.statistics(pageMin, pageMax))
    }

    override func finishDictionary() throws {
        guard dictionaryUsed else { return }
        body.removeAll(keepingCapacity: 8 << 20)
        for i in 0..<dictionary.count {
            let entry = dictionary.entry(i)
            body.append(uint32: UInt32(entry.count))
            body.append(entry)
        }
        try pages.setDictionaryPage(body.bytes, numValues: dictionary.count)
    }

    override func chunkStatistics() -> ParquetStatistics { StringColumnWriter.statistics(chunkMin, chunkMax) }

    override func resetChunk() {
        dictionary.removeAll()
        useDictionary = true
        dictionaryUsed = false
        chunkMin = nil
        chunkMax = nil
    }

    private static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in bytesLess(x, y) } }
    }

    private static func statistics(_ lo: [UInt8]?, _ hi: [UInt8]?) -> ParquetStatistics {
        guard let lo, let hi, lo.count <= statisticsLimit, hi.count <= statisticsLimit else { return ParquetStatistics() }
        return ParquetStatistics(minValue: lo, maxValue: hi)
    }
}
