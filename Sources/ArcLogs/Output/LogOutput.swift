import ArcCore

/// How lines are written: the line as it came (NDJSON out), or human columns.
public protocol LogWriter: AnyObject {
    func write(_ entry: LogEntry) throws
    func flush() throws
}

/// NDJSON output. A JSON line is passed on byte for byte; a text line becomes
/// `{"msg": line}`; with `--fields`, an object of just those fields, in that order
/// (absent ones left out; a dot path keeps its dotted name as the key).
public final class JSONLogWriter: LogWriter {
    private let out: BufferedOutput
    private let fields: [FieldPath]
    private var line: [UInt8] = []

    public init(_ out: BufferedOutput, fields: [FieldPath] = []) {
        self.out = out
        self.fields = fields
        line.reserveCapacity(4096)
    }

    public func write(_ entry: LogEntry) throws {
        if fields.isEmpty && entry.isJSON {
            try out.writeLine(entry.bytes)
            return
        }
        line.removeAll(keepingCapacity: true)
        line.append(UInt8(ascii: "{"))
        if fields.isEmpty {
            line.append(contentsOf: Array(#""msg":"#.utf8))
            LogText.appendQuotedLossy(entry.bytes, to: &line)
        } else {
            var first = true
            for path in fields {
                guard let v = entry.value(path) else { continue }
                if !first { line.append(UInt8(ascii: ",")) }
                first = false
                JSONText.appendQuoted(path.text, to: &line)
                line.append(UInt8(ascii: ":"))
                entry.appendJSON(of: v, to: &line)
            }
        }
        line.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        try out.write(line)
    }

    public func flush() throws { try out.flush() }
}

/// Writes lines as they are (redact's output: text stays text, JSON stays JSON).
public final class RawLogWriter: LogWriter {
    private let out: BufferedOutput
    public init(_ out: BufferedOutput) { self.out = out }
    public func write(_ entry: LogEntry) throws {
        try out.writeLine(entry.bytes)
    }
    public func flush() throws { try out.flush() }
}
