import Glibc
import ArcCore

/// telem-log: the entry point. Parses the flags into a filter and an output, then reads
/// (the default), redacts, ingests, searches, counts or renders metrics.
public enum TelemLogCommand {
    public static func main() -> Never {
        Tool.main(spec) { context in try run(context) }
    }

    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let command = p.path.count > 1 ? p.path[1] : "read"
        let options = try LogOptions(p, command: command)
        switch command {
        case "redact": return try redact(p, options, tool)
        case "ingest": return try ingest(p, options, tool)
        case "search": return try search(p, options, tool)
        case "count", "metrics": return try count(p, options, tool, metrics: command == "metrics")
        default: return try read(p, options, tool)
        }
    }

    static func read(_ p: ParsedCommand, _ o: LogOptions, _ tool: ToolContext) throws -> ExitStatus {
        let (sources, stop) = try open(p, o, prefilter: LinePrefilter(o.filter))
        let writer = o.writer()
        sources.willBlock = { try writer.flush() }
        let longLines = reportLongLines(sources, tool.log)
        if let stop {
            return try LogFollow.run(sources, stop: stop, flush: { try writer.flush() }) { e in
                if o.filter.accepts(e) { try writer.write(e) }
            }
        }
        try sources.merged { e in
            if o.filter.accepts(e) { try writer.write(e) }
        }
        try writer.flush()
        return longLines.count > 0 ? .failures : .ok
    }

    static func redact(_ p: ParsedCommand, _ o: LogOptions, _ tool: ToolContext) throws -> ExitStatus {
        let redactor = try Redactor(patterns: p.values["pattern"] ?? [])
        let (sources, stop) = try open(p, o)
        // Redacted lines keep their form (text stays text) unless an output was asked for.
        let writer: LogWriter = o.formatGiven || !o.fields.isEmpty ? o.writer() : RawLogWriter(o.out)
        sources.willBlock = { try writer.flush() }
        // A line too long to hold cannot be masked, and must not be dropped or passed on
        // unmasked: redact stops at it, the lines before it written whole.
        sources.onLongLine = { line in
            try writer.flush()
            var refused = line
            refused.consequence = "redact stops here: the lines before it are written, nothing after"
            throw refused
        }
        let scratch = LogEntry()
        let body = { (e: LogEntry) throws in
            guard o.filter.accepts(e) else { return }
            if let masked = redactor.redactLine(e) {
                masked.withUnsafeBufferPointer { scratch.load($0) }
                try writer.write(scratch)
            } else {
                try writer.write(e)
            }
        }
        if let stop { return try LogFollow.run(sources, stop: stop, flush: { try writer.flush() }, body) }
        try sources.merged(body)
        try writer.flush()
        return .ok
    }

    static func ingest(_ p: ParsedCommand, _ o: LogOptions, _ tool: ToolContext) throws -> ExitStatus {
        let sources = try LogSources(paths: p.positionals, needsTime: true)
        let longLines = reportLongLines(sources, tool.log)
        let index = LogIndex(try StateStore.open(tool.statePath))
        // Files: a signal stops between batches, each committed with its file's offset.
        // stdin: a read may block for good, so a signal keeps its default (the open
        // batch is rolled back; stdin has no offset to keep anyway).
        let stop = StopSignal.shared
        if !sources.sources.contains(where: { $0.path == "-" }) { stop.install() }
        var record = RecordBuilder()
        for source in sources.sources {
            let done = try index.ingest(source, sources: sources, filter: o.filter, stop: stop)
            record.begin()
            record.string("source", done.source)
            record.int("lines", Int64(done.lines))
            record.int("from_offset", done.fromOffset)
            record.int("to_offset", done.toOffset)
            record.end()
            try o.out.write(record.bytes)
            tool.log.info("ingested \(done.lines) line\(done.lines == 1 ? "" : "s")", ["source": .string(done.source)])
            if stop.requested { break }
        }
        try o.out.flush()
        return stop.requested ? stop.exitStatus : (longLines.count > 0 ? .failures : .ok)
    }

    static func search(_ p: ParsedCommand, _ o: LogOptions, _ tool: ToolContext) throws -> ExitStatus {
        let limit = try p.int("limit", range: 0...Int.max) ?? 100
        let query = p.positionals.first
        if let query, query.allSatisfy({ $0 == " " }) { throw UsageError("search: empty query") }
        let index = LogIndex(try StateStore.open(tool.statePath))
        let writer = o.writer()
        try index.lines(matching: query, filter: o.filter, order: p.flag("oldest-first") ? .oldestFirst : .newestFirst,
                        limit: limit) { e in try writer.write(e) }
        try writer.flush()
        return .ok
    }

    static func count(_ p: ParsedCommand, _ o: LogOptions, _ tool: ToolContext, metrics: Bool) throws -> ExitStatus {
        let by = p.list("by").map(FieldPath.init)
        if by.isEmpty && !metrics { throw UsageError("count: --by FIELD is required") }
        var every: Int64?
        // `metrics` has no --every: its counts are totals since the start.
        if p.declares("every"), let text = p.value("every") {
            guard let ms = LogTime.parseAgo(text), ms > 0 else {
                throw UsageError("--every: expected a duration such as 30s, 1m, 1h or 1d, got '\(text)'")
            }
            every = ms
        }
        if metrics {
            let labels = by.map { PrometheusText.labelName($0.text) }
            if Set(labels).count != labels.count { throw UsageError("--by: two fields give the same label name: \(labels)") }
        }
        let counter = LogCounter(by: by, every: every)
        var longLines = LongLineCount()
        if p.flag("db") {
            if !p.positionals.isEmpty { throw UsageError("--db counts the state database: no FILE arguments") }
            let index = LogIndex(try StateStore.open(tool.statePath))
            try index.lines(matching: nil, filter: o.filter, order: .stored, limit: 0) { counter.add($0) }
        } else {
            let sources = try LogSources(paths: p.positionals, needsTime: every != nil || o.filter.needsTime,
                                         prefilter: LinePrefilter(o.filter))
            longLines = reportLongLines(sources, tool.log)
            try sources.forEach { e in if o.filter.accepts(e) { counter.add(e) } }
        }
        if metrics {
            try o.out.write(LogMetrics.render(counter))
        } else if o.human {
            try o.out.write(counter.table())
        } else {
            try o.out.write(counter.records())
        }
        try o.out.flush()
        return longLines.count > 0 ? .failures : .ok
    }

    /// Opens the inputs; with -f, also the stop signal the follow loop watches. A
    /// prefilter applies to one input read once (LogSources says when).
    private static func open(_ p: ParsedCommand, _ o: LogOptions,
                             prefilter: LinePrefilter? = nil) throws -> (LogSources, StopSignal?) {
        let files = p.positionals.filter { $0 != "-" }
        let follow = o.follow && !files.isEmpty
        if follow && files.count != p.positionals.count {
            throw UsageError("--follow: stdin cannot be followed along with files")
        }
        let sources = try LogSources(paths: p.positionals, needsTime: o.filter.needsTime, follow: follow,
                                     prefilter: prefilter)
        guard follow else { return (sources, nil) }
        let stop = StopSignal.shared
        stop.install()
        return (sources, stop)
    }

    /// Lines too long to hold are the one thing a log reader drops: each is said as it is
    /// met (file, line, offset; also while following), and the command exits 1.
    private static func reportLongLines(_ sources: LogSources, _ log: Logger) -> LongLineCount {
        let count = LongLineCount()
        sources.onLongLine = { line in
            count.count += 1
            var fields: [(String, LogValue)] = [("file", .string(line.file))]
            if let n = line.line { fields.append(("line", .int(Int64(n)))) }
            fields.append(("offset", .int(line.offset)))
            fields.append(("code", .string(line.code.rawValue)))
            log.log(.warn, "skipped a line longer than \(line.maxLength) bytes", fields: fields)
        }
        return count
    }
}

/// How many lines too long to hold were skipped (set from the readers' callback).
final class LongLineCount {
    var count = 0
}

/// The flags every command shares, checked once.
struct LogOptions {
    var filter = LogFilter()
    var fields: [FieldPath] = []
    var follow = false
    var human = false
    var formatGiven = false
    var color = false
    /// Lines filtered from large files go out in 256 KiB writes (other tools use 64 KiB).
    let out = BufferedOutput(fd: 1, flushThreshold: 1 << 18)

    init(_ p: ParsedCommand, command: String) throws {
        let ignoreCase = p.flag("ignore-case")
        if let level = p.value("level") { filter.minSeverity = Severity(name: level) }
        let now = WallClock.nowMillis()
        for flag in ["since", "until"] {
            guard let text = p.value(flag) else { continue }
            guard let t = LogTime.parseBound(text, now: now) else {
                throw UsageError("--\(flag): expected an age such as 30s, 15m, 2h or 3d, or an RFC 3339 time, got '\(text)'")
            }
            if flag == "since" { filter.since = t } else { filter.until = t }
        }
        filter.tools = p.list("tool").map { Array($0.utf8) }
        filter.trace = p.value("trace").map { Array($0.utf8) }
        // Not split at commas, unlike other lists: a comma belongs to a value or a regex.
        filter.wheres = try (p.values["where"] ?? []).map { try WhereExpression($0, ignoreCase: ignoreCase) }
        if let grep = p.value("grep") { filter.grep = try ByteRegex(grep, ignoreCase: ignoreCase, flag: "--grep") }
        fields = p.list("fields").map(FieldPath.init)
        follow = p.flag("follow")
        if follow && command != "read" && command != "redact" {
            throw UsageError("--follow works when reading and with redact, not with \(command)")
        }
        if !fields.isEmpty && (command == "count" || command == "metrics" || command == "ingest") {
            throw UsageError("--fields does not apply to \(command)")
        }
        formatGiven = p.value("format") != nil
        human = p.value("format").map { $0 == "human" } ?? out.isTerminal
        color = human && HumanLogWriter.wantsColor(out)
    }

    func writer() -> LogWriter {
        human ? HumanLogWriter(out, fields: fields, color: color) : JSONLogWriter(out, fields: fields)
    }
}
