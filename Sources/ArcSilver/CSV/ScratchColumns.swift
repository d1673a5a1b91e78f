import ArcCore

/// The rows being parsed, column by column, in buffers of fixed capacity that the row
/// parser writes by index (no append, no bounds or uniqueness checks per field); a full
/// or final set of rows is copied into a ColumnBatch in one memcpy per column.
struct ScratchColumns {
    let schema: [SilverColumn]
    let capacity: Int
    /// Per column: 8-byte values (timestamps, int64, doubles) or 1-byte booleans; nil for strings.
    let slots: [UnsafeMutableRawPointer?]
    /// Per optional column: whether each row has a value.
    let present: [UnsafeMutablePointer<Bool>?]
    /// Per column (empty for the non-string ones).
    var strings: [StringColumn]

    init(schema: [SilverColumn], capacity: Int) {
        self.schema = schema
        self.capacity = capacity
        slots = schema.map { column in
            switch column.type {
            case .string: return nil
            case .boolean: return UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            default: return UnsafeMutableRawPointer.allocate(byteCount: capacity * 8, alignment: 8)
            }
        }
        present = schema.map { $0.optional ? UnsafeMutablePointer<Bool>.allocate(capacity: capacity) : nil }
        strings = Array(repeating: StringColumn(), count: schema.count)
    }

    func deallocate() {
        for slot in slots { slot?.deallocate() }
        for p in present { p?.deallocate() }
    }

    /// Moves the first `rows` rows into `batch` (emptied by the caller); string columns
    /// swap their storage with the batch's, which comes back empty for the next rows.
    mutating func move(rows: Int, into batch: ColumnBatch) {
        for (i, column) in schema.enumerated() {
            switch column.type {
            case .timestamp, .int64:
                batch.int64s[i].append(contentsOf: UnsafeBufferPointer(start: slots[i]!.assumingMemoryBound(to: Int64.self), count: rows))
            case .double:
                batch.doubles[i].append(contentsOf: UnsafeBufferPointer(start: slots[i]!.assumingMemoryBound(to: Double.self), count: rows))
            case .boolean:
                batch.booleans[i].append(contentsOf: UnsafeBufferPointer(start: slots[i]!.assumingMemoryBound(to: Bool.self), count: rows))
            case .string:
                swap(&strings[i], &batch.strings[i])
                strings[i].removeAll()
            }
            if let present = present[i] {
                batch.present[i].append(contentsOf: UnsafeBufferPointer(start: present, count: rows))
            }
        }
        batch.rows = rows
    }
}

/// Batches the consumer has finished with, kept for the parser to fill again instead of
/// allocating: a Parquet writer on another thread gives them back here.
public final class BatchPool: @unchecked Sendable { // `free` is guarded by `lock`
    private let lock = Lock()
    private var free: [ColumnBatch] = []
    private let schema: [SilverColumn]
    /// More than this many idle batches would only hold memory.
    private let limit = 8

    init(schema: [SilverColumn]) { self.schema = schema }

    /// Returns a batch; one of another schema is dropped.
    public func put(_ batch: ColumnBatch) {
        guard batch.schema == schema else { return }
        batch.removeAll()
        lock.withLock { if free.count < limit { free.append(batch) } }
    }

    func take() -> ColumnBatch? { lock.withLock { free.popLast() } }
}
