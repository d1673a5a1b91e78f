import Glibc

/// Logs go to stderr only (stdout carries records). Human lines on a terminal, NDJSON
/// (`ts level tool msg ...fields`) otherwise or with `--log-format json`.
public final class Logger: @unchecked Sendable { // settings are set at start-up, before other threads log; lines are built under the terminal's lock
    public let tool: String
    public var level: LogLevel
    public var format: LogFormat
    private let terminal: Terminal
    /// The trace every JSON line names (`trace_id`, `span_id`), set once tracing starts.
    /// A line about one task passes its own `span_id` field, which wins.
    public var trace: TraceContext?
    /// Called with every line written (after the level check): the OTLP log exporter. It
    /// gets the fields without `span_id`, and the line's span (its own, else the run's).
    public var forward: ((LogLevel, String, [(String, LogValue)], TraceContext?) -> Void)?
    private var buffer = RecordBuilder(capacity: 512)

    public init(tool: String, level: LogLevel = .info, format: LogFormat? = nil, terminal: Terminal = .stderr) {
        self.tool = tool
        self.level = level
        self.terminal = terminal
        self.format = format ?? (terminal.isTTY ? .human : .json)
    }

    public func debug(_ msg: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        if level <= .debug { log(.debug, msg(), fields) }
    }
    public func info(_ msg: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        if level <= .info { log(.info, msg(), fields) }
    }
    public func warn(_ msg: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        if level <= .warn { log(.warn, msg(), fields) }
    }
    public func error(_ msg: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        if level <= .error { log(.error, msg(), fields) }
    }

    public func log(_ lineLevel: LogLevel, _ msg: String, _ fields: KeyValuePairs<String, LogValue>) {
        guard lineLevel >= level else { return }
        log(lineLevel, msg, fields: Array(fields.map { ($0.key, $0.value) }))
    }

    /// The same, with fields built at run time (a span id only when tracing).
    public func log(_ lineLevel: LogLevel, _ msg: String, fields all: [(String, LogValue)]) {
        guard lineLevel >= level else { return }
        // Messages and fields carry URLs, commands and errors: never a credential in them.
        let msg = Secrets.redact(msg)
        let all = all.map { ($0.0, $0.1.redacted) }
        // A line about one task names its span in a `span_id` field; it wins over the run's.
        var context = trace
        var fields = all
        if let trace, let i = all.firstIndex(where: { $0.0 == "span_id" }), case .string(let own) = all[i].1 {
            context = TraceContext(traceID: trace.traceID, spanID: own, flags: trace.flags)
            fields.remove(at: i)
        }
        forward?(lineLevel, msg, fields, context)
        terminal.withLock {
            let line = format == .json ? jsonLine(lineLevel, msg, fields, context) : humanLine(lineLevel, msg, all)
            terminal.writeLineLocked(line)
        }
    }

    private func jsonLine(_ lineLevel: LogLevel, _ msg: String, _ fields: [(String, LogValue)],
                          _ context: TraceContext?) -> [UInt8] {
        buffer.begin()
        buffer.string("ts", WallClock.now())
        buffer.string("level", lineLevel.name)
        buffer.string("tool", tool)
        buffer.string("msg", msg)
        if let context {
            buffer.string("trace_id", context.traceID)
            buffer.string("span_id", context.spanID)
        }
        for (key, value) in fields {
            switch value {
            case .string(let s): buffer.string(key, s)
            case .int(let i): buffer.int(key, i)
            case .double(let d): buffer.double(key, d)
            case .bool(let b): buffer.bool(key, b)
            }
        }
        buffer.end()
        return buffer.bytes
    }

    private func humanLine(_ lineLevel: LogLevel, _ msg: String, _ fields: [(String, LogValue)]) -> [UInt8] {
        var line = tool + ": "
        let color = terminal.isTTY && terminal.colors
        switch lineLevel {
        case .debug: line += color ? "\u{1B}[2mdebug:\u{1B}[0m " : "debug: "
        case .info: break
        case .warn: line += color ? "\u{1B}[33mwarning:\u{1B}[0m " : "warning: "
        case .error: line += color ? "\u{1B}[31merror:\u{1B}[0m " : "error: "
        }
        line += msg
        for (key, value) in fields {
            let text = value.text
            let quoted = text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            line += " " + key + "=" + (quoted ? "\"" + text.replacing("\"", with: "\\\"") + "\"" : text)
        }
        line += "\n"
        return Array(line.utf8)
    }
}
