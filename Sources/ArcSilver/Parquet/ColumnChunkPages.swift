import ArcCore

/// One column's pages for the row group being built, compressed as soon as each is
/// encoded: only compressed bytes wait for the row group to end (a column chunk's pages
/// must sit together in the file, so nothing can be written before the group is complete).
final class ColumnChunkPages {
    let column: SilverColumn
    let compressor: PageCompressor
    /// Data page headers and compressed bodies, in order.
    let dataPages = ByteBuffer(capacity: 1 << 16)
    /// The dictionary page (header and compressed body), when the chunk has one.
    let dictionaryPage = ByteBuffer(capacity: 64)
    private(set) var hasDictionary = false
    private(set) var uncompressedTotal: Int64 = 0
    private(set) var compressedTotal: Int64 = 0
    private(set) var numValues: Int64 = 0
    private(set) var pagesByEncoding: [(ParquetFormat.Encoding, Int32)] = []

    /// Capacity kept from one row group to the next: the column's share of the budget
    /// (memory once written stays resident, so every column keeping its peak would add up).
    let retainedBytes: Int

    init(column: SilverColumn, compressor: PageCompressor, retainedBytes: Int) {
        self.column = column
        self.compressor = compressor
        self.retainedBytes = retainedBytes
    }

    /// Bytes held until the row group is written.
    var bufferedBytes: Int { dataPages.count + dictionaryPage.count }

    func addDataPage(_ body: UnsafeRawBufferPointer, numValues: Int, encoding: ParquetFormat.Encoding,
                     statistics: ParquetStatistics) throws {
        let compressed = try compressor.compress(body, column: column.name)
        let header = DataPageHeader(uncompressedSize: body.count, compressedSize: compressed.count,
                                    numValues: numValues, encoding: encoding, statistics: statistics).encoded()
        dataPages.append(header)
        dataPages.append(compressed)
        uncompressedTotal += Int64(header.count + body.count)
        compressedTotal += Int64(header.count + compressed.count)
        self.numValues += Int64(numValues)
        if let i = pagesByEncoding.firstIndex(where: { $0.0 == encoding }) {
            pagesByEncoding[i].1 += 1
        } else {
            pagesByEncoding.append((encoding, 1))
        }
    }

    func setDictionaryPage(_ body: UnsafeRawBufferPointer, numValues: Int) throws {
        let compressed = try compressor.compress(body, column: column.name)
        let header = DictionaryPageHeader(uncompressedSize: body.count, compressedSize: compressed.count,
                                          numValues: numValues).encoded()
        dictionaryPage.removeAll()
        dictionaryPage.append(header)
        dictionaryPage.append(compressed)
        uncompressedTotal += Int64(header.count + body.count)
        compressedTotal += Int64(header.count + compressed.count)
        hasDictionary = true
    }

    /// Writes the chunk at `file`'s offset and describes it; then empties itself for the
    /// next row group.
    func write(to file: ParquetFileOutput, statistics: ParquetStatistics) throws -> ColumnChunkMetadata {
        let start = file.offset
        if hasDictionary { try file.write(dictionaryPage.bytes) }
        let dataStart = file.offset
        try file.write(dataPages.bytes)
        var encodings: [ParquetFormat.Encoding] = []
        if hasDictionary { encodings.append(.plain) }
        for (encoding, _) in pagesByEncoding where !encodings.contains(encoding) { encodings.append(encoding) }
        if !encodings.contains(.rle) { encodings.append(.rle) } // the levels' encoding
        var encodingStats: [(ParquetFormat.PageType, ParquetFormat.Encoding, Int32)] = []
        if hasDictionary { encodingStats.append((.dictionaryPage, .plain, 1)) }
        for (encoding, count) in pagesByEncoding { encodingStats.append((.dataPage, encoding, count)) }
        let metadata = ColumnChunkMetadata(
            type: column.type.physicalType, path: column.name, codec: compressor.codec,
            encodings: encodings, numValues: numValues,
            totalUncompressedSize: uncompressedTotal, totalCompressedSize: compressedTotal,
            dataPageOffset: dataStart, dictionaryPageOffset: hasDictionary ? start : nil,
            statistics: statistics, encodingStats: encodingStats)
        dataPages.removeAll(keepingCapacity: retainedBytes)
        dictionaryPage.removeAll(keepingCapacity: retainedBytes / 4)
        hasDictionary = false
        uncompressedTotal = 0
        compressedTotal = 0
        numValues = 0
        pagesByEncoding.removeAll()
        return metadata
    }
}

/// The file being written: the sink and how many bytes went to it.
final class ParquetFileOutput {
    let sink: ByteSink
    private(set) var offset: Int64 = 0

    init(sink: ByteSink) { self.sink = sink }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        try sink.write(bytes)
        offset += Int64(bytes.count)
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}
