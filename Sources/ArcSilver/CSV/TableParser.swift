import ArcCore
import Glibc

/// Streams one archive's CSV bytes into column batches and checks the rows in the same
/// pass (SILVER.md, "Rules and quirks"): header or not, the time unit per file, both
/// boolean spellings, text datetimes, CRLF, a missing final newline. A row with a field
/// that does not parse is counted, shown by line, and not emitted.
///
///     let parser = TableParser(dataset: dataset, identity: identity)
///     while let chunk = ... { try parser.consume(chunk) { batch in ... } }
///     let report = try parser.finish { batch in ... }
///
/// Emitted batches belong to the consumer (another thread may drain them); give them
/// back with `recycle` (or `pool.put` from that thread) to have them filled again.
public final class TableParser {
    public let dataset: Dataset
    public let identity: ArchiveIdentity
    public let batchRows: Int
    /// Where finished batches go back to; safe to use from any thread.
    public let pool: BatchPool
    private let ops: UnsafeMutableBufferPointer<FieldOp>
    private let scratch: ScratchColumns
    /// Moved out while a chunk is parsed (see ParserState).
    private var state: ParserState?
    /// The start of a line the previous chunk ended inside.
    private var carry: [UInt8] = []
    private var containerFindings: [Finding] = []

    public init(dataset: Dataset, identity: ArchiveIdentity, batchRows: Int = 65_536) {
        self.dataset = dataset
        self.identity = identity
        self.batchRows = max(1, batchRows)
        pool = BatchPool(schema: dataset.schema)
        scratch = ScratchColumns(schema: dataset.schema, capacity: self.batchRows)
        ops = .allocate(capacity: dataset.fields.count)
        for (k, field) in dataset.fields.enumerated() {
            let column = field.column ?? -1
            ops[k] = FieldOp(kind: field.kind, column: column, slot: field.column.flatMap { scratch.slots[$0] },
                             present: field.column.flatMap { scratch.present[$0] })
        }
        state = ParserState(dataset: dataset, identity: identity, capacity: self.batchRows, ops: ops, scratch: scratch)
    }

    deinit {
        ops.deallocate()
        scratch.deallocate()
    }

    /// A batch the consumer is done with, to be filled again instead of allocating one.
    public func recycle(_ batch: ColumnBatch) { pool.put(batch) }

    /// A finding about the archive around the CSV (several entries, a CRC mismatch, ...),
    /// reported with the CSV's own.
    public func addFinding(_ finding: Finding) { containerFindings.append(finding) }

    /// Parses the complete lines in `bytes` (the rest waits for the next chunk); full
    /// batches go to `emit` as they fill.
    public func consume(_ bytes: UnsafeRawBufferPointer, emit: (ColumnBatch) throws -> Void) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard var s = state else { preconditionFailure("TableParser.consume called from its own emit") }
        state = nil
        defer { state = s }
        var p = base.assumingMemoryBound(to: UInt8.self) as UnsafePointer<UInt8>
        let end = p + bytes.count
        if !carry.isEmpty {
            guard let newline = memchr(p, 0x0A, end - p) else {
                carry.append(contentsOf: bytes)
                return
            }
            let lineEnd = UnsafePointer<UInt8>(newline.assumingMemoryBound(to: UInt8.self))
            carry.append(contentsOf: UnsafeBufferPointer(start: p, count: lineEnd - p))
            try carry.withUnsafeBufferPointer { line in
                try takeLine(&s, line.baseAddress!, line.baseAddress! + line.count, emit)
            }
            carry.removeAll(keepingCapacity: true)
            p = lineEnd + 1
        }
        while p < end, let newline = memchr(p, 0x0A, end - p) {
            let lineEnd = UnsafePointer<UInt8>(newline.assumingMemoryBound(to: UInt8.self))
            if s.take(line: p, lineEnd), s.rows == batchRows { try flush(&s, emit) }
            p = lineEnd + 1
        }
        if p < end { carry.append(contentsOf: UnsafeBufferPointer(start: p, count: end - p)) }
    }

    @inline(__always)
    private func takeLine(_ s: inout ParserState, _ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>,
                          _ emit: (ColumnBatch) throws -> Void) throws {
        if s.take(line: start, end), s.rows == batchRows { try flush(&s, emit) }
    }

    /// Emits the rows parsed so far as one batch.
    private func flush(_ s: inout ParserState, _ emit: (ColumnBatch) throws -> Void) throws {
        guard s.rows > 0 else { return }
        let batch = pool.take() ?? ColumnBatch(schema: dataset.schema, capacity: batchRows)
        s.checks.carriedHash = s.checks.hash(s.rows - 1, s.scratch.strings)
        s.scratch.move(rows: s.rows, into: batch)
        s.emittedRows += s.rows
        s.rows = 0
        try emit(batch)
    }

    /// Parses the last line (one without a final newline), emits the last batch, and
    /// returns the report.
    public func finish(emit: (ColumnBatch) throws -> Void) throws -> CheckReport {
        guard var s = state else { preconditionFailure("TableParser.finish called from its own emit") }
        state = nil
        defer { state = s }
        if !carry.isEmpty {
            try carry.withUnsafeBufferPointer { line in
                try takeLine(&s, line.baseAddress!, line.baseAddress! + line.count, emit)
            }
            carry.removeAll()
        }
        try flush(&s, emit)
        var report = s.report()
        report.findings = containerFindings + report.findings
        return report
    }
}
