/// The silver types: what a CSV field becomes in Parquet.
public enum SilverType: Sendable, Equatable {
    /// Microseconds since the Unix epoch, UTC (INT64, TIMESTAMP(MICROS, isAdjustedToUTC)).
    case timestamp
    case int64
    case double
    case boolean
    /// UTF-8 text (BYTE_ARRAY, STRING), dictionary-encoded.
    case string
}

/// One column of a silver table.
public struct SilverColumn: Sendable, Equatable {
    public let name: String
    public let type: SilverType
    /// Whether a row may lack a value (an empty CSV field): an OPTIONAL Parquet column.
    public let optional: Bool

    public init(_ name: String, _ type: SilverType, optional: Bool = false) {
        self.name = name
        self.type = type
        self.optional = optional
    }
}

/// Strings of one column, back to back: value i is bytes[ends[i-1]..<ends[i]].
public struct StringColumn: Sendable {
    public var bytes: [UInt8] = []
    public var ends: [Int32] = []

    public init() {}

    public var count: Int { ends.count }

    public mutating func append(_ value: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: value)
        ends.append(Int32(bytes.count))
    }

    public mutating func append(_ value: String) {
        bytes.append(contentsOf: value.utf8)
        ends.append(Int32(bytes.count))
    }

    public func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : Int(ends[i - 1]))..<Int(ends[i]) }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }
}

/// Up to a few tens of thousands of rows, column by column: what the CSV parser fills and
/// the Parquet writer drains. Each column's values sit in the array for its type (the
/// arrays of the other types stay empty for it), so no value is boxed on the hot path.
/// A row lacking an optional column's value holds a placeholder (0, false, "") there and
/// false in `present`.
public final class ColumnBatch: @unchecked Sendable { // handed from one thread to the next, never shared
    public let schema: [SilverColumn]
    /// Timestamp and int64 columns.
    public var int64s: [[Int64]]
    public var doubles: [[Double]]
    public var booleans: [[Bool]]
    public var strings: [StringColumn]
    /// For optional columns, whether each row has a value; empty for required columns.
    public var present: [[Bool]]
    /// Rows in the batch (every column holds this many values once a row is complete).
    public var rows = 0

    public init(schema: [SilverColumn], capacity: Int = 0) {
        self.schema = schema
        let n = schema.count
        int64s = Array(repeating: [], count: n)
        doubles = Array(repeating: [], count: n)
        booleans = Array(repeating: [], count: n)
        strings = Array(repeating: StringColumn(), count: n)
        present = Array(repeating: [], count: n)
        guard capacity > 0 else { return }
        for (i, column) in schema.enumerated() {
            switch column.type {
            case .timestamp, .int64: int64s[i].reserveCapacity(capacity)
            case .double: doubles[i].reserveCapacity(capacity)
            case .boolean: booleans[i].reserveCapacity(capacity)
            case .string: strings[i].ends.reserveCapacity(capacity)
            }
            if column.optional { present[i].reserveCapacity(capacity) }
        }
    }

    /// Empties the batch, keeping its memory for the next rows.
    public func removeAll() {
        for i in schema.indices {
            int64s[i].removeAll(keepingCapacity: true)
            doubles[i].removeAll(keepingCapacity: true)
            booleans[i].removeAll(keepingCapacity: true)
            strings[i].removeAll()
            present[i].removeAll(keepingCapacity: true)
        }
        rows = 0
    }
}
