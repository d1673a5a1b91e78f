/// The parts of parquet.thrift (apache/parquet-format) this writer fills, with the field
/// ids of that file. Enum values are Thrift i32s.
enum ParquetFormat {
    enum PhysicalType: Int32 { case boolean = 0, int64 = 2, double = 5, byteArray = 6 }
    enum Encoding: Int32 { case plain = 0, rle = 3, deltaBinaryPacked = 5, rleDictionary = 8 }
    enum Codec: Int32 { case uncompressed = 0, snappy = 1, gzip = 2, zstd = 6 }
    enum PageType: Int32 { case dataPage = 0, dictionaryPage = 2 }
    enum ConvertedType: Int32 { case utf8 = 0, timestampMicros = 10 }
    enum Repetition: Int32 { case required = 0, optional = 1 }
}

/// Statistics as written: values already PLAIN-encoded (little-endian; strings without
/// their length). The deprecated `min`/`max` fields (1, 2) are never written: their signed
/// order is wrong for strings, and readers prefer these.
struct ParquetStatistics: Equatable {
    var nullCount: Int64 = 0
    /// Only for DOUBLE columns, where the format asks for it (even when 0).
    var nanCount: Int64?
    var minValue: [UInt8]?
    var maxValue: [UInt8]?

    func write(_ thrift: inout ThriftCompactWriter, as id: Int16) {
        thrift.beginStruct(id)
        thrift.field(3, nullCount)
        if let maxValue { thrift.field(5, binary: maxValue) }
        if let minValue { thrift.field(6, binary: minValue) }
        if let nanCount { thrift.field(9, nanCount) }
        thrift.endStruct()
    }
}

/// PageHeader with a DataPageHeader (v1: levels and values compressed together).
struct DataPageHeader {
    var uncompressedSize: Int
    var compressedSize: Int
    var numValues: Int
    var encoding: ParquetFormat.Encoding
    var statistics: ParquetStatistics

    func encoded() -> [UInt8] {
        var thrift = ThriftCompactWriter()
        thrift.field(1, ParquetFormat.PageType.dataPage.rawValue)
        thrift.field(2, Int32(uncompressedSize))
        thrift.field(3, Int32(compressedSize))
        thrift.beginStruct(5)
        thrift.field(1, Int32(numValues))
        thrift.field(2, encoding.rawValue)
        thrift.field(3, ParquetFormat.Encoding.rle.rawValue) // definition levels
        thrift.field(4, ParquetFormat.Encoding.rle.rawValue) // repetition levels (none: flat schema)
        statistics.write(&thrift, as: 5)
        thrift.endStruct()
        return thrift.finish()
    }
}

/// PageHeader with a DictionaryPageHeader: the PLAIN values that RLE_DICTIONARY pages index.
struct DictionaryPageHeader {
    var uncompressedSize: Int
    var compressedSize: Int
    var numValues: Int

    func encoded() -> [UInt8] {
        var thrift = ThriftCompactWriter()
        thrift.field(1, ParquetFormat.PageType.dictionaryPage.rawValue)
        thrift.field(2, Int32(uncompressedSize))
        thrift.field(3, Int32(compressedSize))
        thrift.beginStruct(7)
        thrift.field(1, Int32(numValues))
        thrift.field(2, ParquetFormat.Encoding.plain.rawValue)
        thrift.endStruct()
        return thrift.finish()
    }
}

/// ColumnChunk and its ColumnMetaData, once the chunk is in the file.
struct ColumnChunkMetadata {
    var type: ParquetFormat.PhysicalType
    var path: String
    var codec: ParquetFormat.Codec
    var encodings: [ParquetFormat.Encoding]
    var numValues: Int64
    /// Page headers included, as the format asks.
    var totalUncompressedSize: Int64
    var totalCompressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?
    var statistics: ParquetStatistics
    /// (page type, encoding, pages): how readers learn every data page is dictionary-encoded.
    var encodingStats: [(ParquetFormat.PageType, ParquetFormat.Encoding, Int32)]

    func write(_ thrift: inout ThriftCompactWriter) {
        thrift.beginElementStruct()
        thrift.field(2, Int64(0)) // file_offset: deprecated, 0 as the format asks
        thrift.beginStruct(3)
        thrift.field(1, type.rawValue)
        thrift.beginList(2, .i32, count: encodings.count)
        for encoding in encodings { thrift.element(encoding.rawValue) }
        thrift.beginList(3, .binary, count: 1)
        thrift.element(binary: Array(path.utf8))
        thrift.field(4, codec.rawValue)
        thrift.field(5, numValues)
        thrift.field(6, totalUncompressedSize)
        thrift.field(7, totalCompressedSize)
        thrift.field(9, dataPageOffset)
        if let dictionaryPageOffset { thrift.field(11, dictionaryPageOffset) }
        statistics.write(&thrift, as: 12)
        thrift.beginList(13, .structure, count: encodingStats.count)
        for (pageType, encoding, count) in encodingStats {
            thrift.beginElementStruct()
            thrift.field(1, pageType.rawValue)
            thrift.field(2, encoding.rawValue)
            thrift.field(3, count)
            thrift.endStruct()
        }
        thrift.endStruct()
        thrift.endStruct()
    }
}

struct RowGroupMetadata {
    var columns: [ColumnChunkMetadata]
    var numRows: Int64
    var fileOffset: Int64
    var ordinal: Int

    func write(_ thrift: inout ThriftCompactWriter) {
        thrift.beginElementStruct()
        thrift.beginList(1, .structure, count: columns.count)
        for column in columns { column.write(&thrift) }
        thrift.field(2, columns.reduce(Int64(0)) { $0 + $1.totalUncompressedSize })
        thrift.field(3, numRows)
        thrift.field(5, fileOffset)
        thrift.field(6, columns.reduce(Int64(0)) { $0 + $1.totalCompressedSize })
        thrift.field(7, i16: Int16(truncatingIfNeeded: ordinal))
        thrift.endStruct()
    }
}

/// FileMetaData: the footer.
struct FileMetadata {
    var schema: [SilverColumn]
    var numRows: Int64
    var rowGroups: [RowGroupMetadata]
    var keyValues: [(key: String, value: String)]
    var createdBy: String

    func encoded() -> [UInt8] {
        var thrift = ThriftCompactWriter()
        thrift.field(1, Int32(1)) // version 1: what every reader accepts
        thrift.beginList(2, .structure, count: schema.count + 1)
        thrift.beginElementStruct()
        thrift.field(4, "schema")
        thrift.field(5, Int32(schema.count))
        thrift.endStruct()
        for column in schema { FileMetadata.writeLeaf(column, &thrift) }
        thrift.field(3, numRows)
        thrift.beginList(4, .structure, count: rowGroups.count)
        for group in rowGroups { group.write(&thrift) }
        if !keyValues.isEmpty {
            thrift.beginList(5, .structure, count: keyValues.count)
            for (key, value) in keyValues {
                thrift.beginElementStruct()
                thrift.field(1, key)
                thrift.field(2, value)
                thrift.endStruct()
            }
        }
        thrift.field(6, createdBy)
        // TypeDefinedOrder for every column: without column_orders, min_value and
        // max_value have no defined meaning and readers may ignore them.
        thrift.beginList(7, .structure, count: schema.count)
        for _ in schema {
            thrift.beginElementStruct()
            thrift.emptyStruct(1)
            thrift.endStruct()
        }
        return thrift.finish()
    }

    private static func writeLeaf(_ column: SilverColumn, _ thrift: inout ThriftCompactWriter) {
        thrift.beginElementStruct()
        thrift.field(1, column.type.physicalType.rawValue)
        thrift.field(3, (column.optional ? ParquetFormat.Repetition.optional : .required).rawValue)
        thrift.field(4, column.name)
        switch column.type {
        case .timestamp:
            thrift.field(6, ParquetFormat.ConvertedType.timestampMicros.rawValue)
            thrift.beginStruct(10)      // LogicalType
            thrift.beginStruct(8)       // TIMESTAMP
            thrift.field(1, true)       // isAdjustedToUTC
            thrift.beginStruct(2)       // unit
            thrift.emptyStruct(2)       // MICROS
            thrift.endStruct()
            thrift.endStruct()
            thrift.endStruct()
        case .string:
            thrift.field(6, ParquetFormat.ConvertedType.utf8.rawValue)
            thrift.beginStruct(10)
            thrift.emptyStruct(1)       // STRING
            thrift.endStruct()
        case .int64, .double, .boolean:
            break
        }
        thrift.endStruct()
    }
}

extension SilverType {
    var physicalType: ParquetFormat.PhysicalType {
        switch self {
        case .timestamp, .int64: return .int64
        case .double: return .double
        case .boolean: return .boolean
        case .string: return .byteArray
        }
    }
}
