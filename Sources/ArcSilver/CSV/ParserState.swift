import ArcCore
import Glibc

/// How the row parser reads one CSV field: its kind, and the raw buffer (and presence
/// flags) it writes row `r`'s value to.
struct FieldOp {
    let kind: FieldKind
    /// The schema column; -1 for a dropped field.
    let column: Int
    let slot: UnsafeMutableRawPointer?
    let present: UnsafeMutablePointer<Bool>?
}

/// Everything the parse of one file changes, kept in a struct that TableParser moves into
/// a local variable for each chunk: a class's stored properties would cost a dynamic
/// exclusivity check on every access in the per-field loop.
struct ParserState {
    typealias Bytes = UnsafePointer<UInt8>
    static let comma = UInt8(ascii: ",")

    let dataset: Dataset
    let identity: ArchiveIdentity
    var scratch: ScratchColumns
    /// One per CSV field, owned by TableParser (freed in its deinit).
    let ops: UnsafeMutableBufferPointer<FieldOp>
    /// Rows in scratch.
    var rows = 0
    /// 1000 for milliseconds, 1 for microseconds, 0 until the first epoch time is read.
    var timeScale: Int64 = 0
    var sawTextTime = false
    var sawSeconds = false
    /// The fields this file's rows have: all of the dataset's, or fewer by its trailing
    /// optional ones (decided by the header, or by the first row of a file without one).
    var fieldCount: Int
    /// Lines seen so far (the current line's number while it is parsed).
    var line = 0
    /// Nil until the first non-blank line said whether it is a header.
    var header: Bool?
    /// A header that is not the dataset's: no data row is read after it.
    var stopped = false
    var dataRows = 0
    var emittedRows = 0
    var badFields = Tally()
    var badRows = Tally()
    var blankLines = Tally()
    var unknownLayout = Tally()
    var checks: RowChecks

    init(dataset: Dataset, identity: ArchiveIdentity, capacity: Int, ops: UnsafeMutableBufferPointer<FieldOp>,
         scratch: ScratchColumns) {
        self.dataset = dataset
        self.identity = identity
        self.scratch = scratch
        self.ops = ops
        fieldCount = ops.count
        checks = RowChecks(dataset: dataset, identity: identity, scratch: scratch)
    }

    /// One line without its `\n`.
    mutating func take(line lineStart: Bytes, _ lineEnd: Bytes) -> Bool {
        line += 1
        var start = lineStart
        // A UTF-8 byte order mark before the first line is not part of it.
        if line == 1, lineEnd - start >= 3, start[0] == 0xEF, start[1] == 0xBB, start[2] == 0xBF { start += 3 }
        var end = lineEnd
        if end > start, end[-1] == UInt8(ascii: "\r") { end -= 1 }
        if end == start {
            blankLines.add(line: line)
            return false
        }
        if header == nil {
            if FieldParsing.isDigit(start.pointee) {
                header = false
                if dataset.trailingOptionalFields > 0 { fieldCount = countFieldsDecided(start, end) }
            } else {
                header = true
                checkHeader(start, end)
                return false
            }
        }
        if stopped { return false }
        dataRows += 1
        guard parseRow(start, end) else { return false }
        checks.check(row: rows - 1, line: line, strings: scratch.strings)
        return true
    }

    private mutating func checkHeader(_ start: Bytes, _ end: Bytes) {
        let text = String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
        let found = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingAll(" \t\"").lowercased() }
        let expected = dataset.csvColumns.map { $0.lowercased() }
        let shorter = expected.dropLast(dataset.trailingOptionalFields)
        if found == expected {
            fieldCount = expected.count
        } else if dataset.trailingOptionalFields > 0 && found[...] == shorter {
            // An older file, from before the trailing columns were added.
            fieldCount = shorter.count
        } else {
            stopped = true
            unknownLayout.add(line: line, detail: String(text.prefix(300)))
        }
    }

    /// A file without a header whose dataset has trailing optional fields: its first row
    /// says whether they are there (all the fields, or all but those).
    private func countFieldsDecided(_ start: Bytes, _ end: Bytes) -> Int {
        var fields = 1
        var p = start
        while p < end { if p.pointee == ParserState.comma { fields += 1 }; p += 1 }
        return fields == ops.count - dataset.trailingOptionalFields ? fields : ops.count
    }

    /// The trailing optional fields a file without them lacks: no value in row r.
    private mutating func markAbsent(row r: Int, from first: Int) {
        for k in first..<ops.count {
            let op = ops[k]
            guard op.column >= 0 else { continue }
            op.present?[r] = false
            if let slot = op.slot {
                if op.kind == .boolean { slot.storeBytes(of: false, toByteOffset: r, as: Bool.self) }
                else { slot.storeBytes(of: 0, toByteOffset: r &* 8, as: Int64.self) }
            } else {
                scratch.strings[op.column].append(UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }
    }

    /// Parses one data line into row `rows` of scratch; false (and a finding) when a
    /// field does not parse or the line has the wrong number of fields.
    @inline(__always)
    mutating func parseRow(_ start: Bytes, _ end: Bytes) -> Bool {
        let r = rows
        var p = start
        let count = fieldCount
        var k = 0
        while true {
            let op = ops[k]
            if p == end || p.pointee == ParserState.comma {
                // An empty field: a value only where the column is optional.
                if let present = op.present {
                    present[r] = false
                    if let slot = op.slot {
                        if op.kind == .boolean { slot.storeBytes(of: false, toByteOffset: r, as: Bool.self) }
                        else { slot.storeBytes(of: 0, toByteOffset: r &* 8, as: Int64.self) }
                    } else {
                        scratch.strings[op.column].append(UnsafeRawBufferPointer(start: p, count: 0))
                    }
                } else if op.kind != .ignored {
                    return failField(k, start, p, end, "is empty")
                }
            } else {
                switch op.kind {
                case .double:
                    guard let (v, q) = FieldParsing.double(p, end) else { return failField(k, start, p, end, ParserState.reason(.double)) }
                    op.slot.unsafelyUnwrapped.storeBytes(of: v, toByteOffset: r &* 8, as: Double.self)
                    p = q
                case .int64:
                    guard let (v, q) = FieldParsing.int64(p, end) else { return failField(k, start, p, end, ParserState.reason(.int64)) }
                    op.slot.unsafelyUnwrapped.storeBytes(of: v, toByteOffset: r &* 8, as: Int64.self)
                    p = q
                case .epochTime:
                    guard let (v, q) = FieldParsing.int64(p, end) else { return failField(k, start, p, end, ParserState.reason(.epochTime)) }
                    if timeScale == 0 { timeScale = v >= 1_000_000_000_000_000 ? 1 : 1000 }
                    let (micros, overflow) = v.multipliedReportingOverflow(by: timeScale)
                    if overflow { return failField(k, start, p, end, "is out of range") }
                    op.slot.unsafelyUnwrapped.storeBytes(of: micros, toByteOffset: r &* 8, as: Int64.self)
                    p = q
                case .boolean:
                    guard let (v, q) = FieldParsing.boolean(p, end) else { return failField(k, start, p, end, ParserState.reason(.boolean)) }
                    op.slot.unsafelyUnwrapped.storeBytes(of: v, toByteOffset: r, as: Bool.self)
                    p = q
                case .seconds:
                    guard let (v, q) = FieldParsing.seconds(p, end) else { return failField(k, start, p, end, ParserState.reason(.seconds)) }
                    sawSeconds = true
                    op.slot.unsafelyUnwrapped.storeBytes(of: v, toByteOffset: r &* 8, as: Int64.self)
                    p = q
                case .textTime:
                    guard let (v, q) = FieldParsing.textTime(p, end) else { return failField(k, start, p, end, ParserState.reason(.textTime)) }
                    sawTextTime = true
                    op.slot.unsafelyUnwrapped.storeBytes(of: v, toByteOffset: r &* 8, as: Int64.self)
                    p = q
                case .string:
                    let q = fieldEnd(p, end)
                    scratch.strings[op.column].append(UnsafeRawBufferPointer(start: p, count: q - p))
                    p = q
                case .ignored:
                    p = fieldEnd(p, end)
                }
                op.present?[r] = true
            }
            k += 1
            if k == count {
                if p == end { break }
                if p.pointee == ParserState.comma { return failRow(start, end) }
                return failField(k - 1, start, p, end, ParserState.reason(op.kind))
            }
            guard p < end else { return failRow(start, end) }
            guard p.pointee == ParserState.comma else { return failField(k - 1, start, p, end, ParserState.reason(op.kind)) }
            p += 1
        }
        if count < ops.count { markAbsent(row: r, from: count) }
        rows = r + 1
        return true
    }

    /// Why a field of this kind did not parse, in words.
    static func reason(_ kind: FieldKind) -> String {
        switch kind {
        case .double: return "is not a number"
        case .int64: return "is not an integer"
        case .epochTime: return "is not a time in ms or µs"
        case .boolean: return "is not true or false"
        case .textTime: return "is not a time (YYYY-MM-DD HH:MM:SS)"
        case .seconds: return "is not a time in seconds"
        case .string, .ignored: return "has unexpected characters"
        }
    }

    @inline(__always)
    private func fieldEnd(_ p: Bytes, _ end: Bytes) -> Bytes {
        guard let c = memchr(p, Int32(ParserState.comma), end - p) else { return end }
        return UnsafePointer(c.assumingMemoryBound(to: UInt8.self))
    }

    /// Undoes the string values the failed row appended (numbers are overwritten by the next row).
    private mutating func rollBack() {
        for i in scratch.strings.indices where scratch.strings[i].count > rows {
            let keep = rows == 0 ? 0 : Int(scratch.strings[i].ends[rows - 1])
            scratch.strings[i].ends.removeLast(scratch.strings[i].count - rows)
            scratch.strings[i].bytes.removeLast(scratch.strings[i].bytes.count - keep)
        }
    }

    /// A field that does not parse. `at` is where parsing stopped; the field is shown
    /// from its start (the comma before it) to the next comma.
    private mutating func failField(_ k: Int, _ start: Bytes, _ at: Bytes, _ end: Bytes, _ reason: String) -> Bool {
        rollBack()
        var fieldStart = at
        while fieldStart > start && fieldStart[-1] != ParserState.comma { fieldStart -= 1 }
        let fieldStop = fieldEnd(at, end)
        let text = String(decoding: UnsafeBufferPointer(start: fieldStart, count: min(fieldStop - fieldStart, 60)), as: UTF8.self)
        let name = dataset.fields[k].name
        badFields.add(line: line, detail: "line \(line), column \(name): \"\(text)\" \(reason)")
        checks.refusedRow()
        return false
    }

    private mutating func failRow(_ start: Bytes, _ end: Bytes) -> Bool {
        rollBack()
        var fields = 1
        var p = start
        while p < end { if p.pointee == ParserState.comma { fields += 1 }; p += 1 }
        badRows.add(line: line, detail: "line \(line) has \(fields) fields")
        checks.refusedRow()
        return false
    }
}

extension Substring {
    func trimmingAll(_ set: String) -> Substring {
        var s = self
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return s
    }
}
