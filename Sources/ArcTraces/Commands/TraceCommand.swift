import Glibc
import ArcCore

/// telem-trace: the entry point. One command per job: exec, ls, show, stats, deps, export,
/// ingest, serve.
public enum TraceCommand {
    public static func main() -> Never {
        Tool.main(spec) { context in try run(context) }
    }

    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        guard p.path.count > 1 else { throw UsageError("missing command") }
        switch p.path[1] {
        case "exec": return try ExecCommand.run(tool)
        case "ls": return try list(tool)
        case "show": return try show(tool)
        case "stats": return try stats(tool)
        case "deps": return try DepsCommand.run(tool)
        case "export": return try OTLPExport.run(tool)
        case "ingest": return try ingest(tool)
        case "serve": return try OTLPServe.run(tool)
        default: throw UsageError("unknown command '\(p.path[1])'")
        }
    }

    /// The store ls, show and stats read: the state database, or (--file) the given span
    /// files loaded into a database in memory, bad lines reported as ingest reports them.
    static func readStore(_ tool: ToolContext) throws -> TraceStore {
        try readStoreCountingBadLines(tool).store
    }

    /// The same, with how many lines of the files were bad (`deps` exits 1 for them, as
    /// ingest does).
    static func readStoreCountingBadLines(_ tool: ToolContext) throws -> (store: TraceStore, badLines: Int) {
        let files = tool.parsed.list("file")
        guard !files.isEmpty else { return (try TraceStore.open(tool.statePath), 0) }
        let store = try TraceStore.inMemory()
        let outcome = try SpanIngest(store: store, log: tool.log).run(paths: files, strict: false)
        return (store, outcome.badLines)
    }

    /// With no --file but ARC_TRACE_FILE set, the tools wrote their spans to that file, not
    /// to the store: what to say when the store has nothing to show (`command`: how to ask
    /// again with --file).
    static func traceFileHint(_ tool: ToolContext, command: String) -> String? {
        guard tool.parsed.list("file").isEmpty, let file = FileSystem.environment("ARC_TRACE_FILE"), !file.isEmpty else {
            return nil
        }
        return "ARC_TRACE_FILE is set, so spans went to \(file), not to the store; read them with: telem-trace \(command) --file \(file)"
    }

    /// Nothing to list from the store: says so, with where the spans went, when that is known.
    static func nothingStored(_ tool: ToolContext, _ what: String, command: String) {
        guard let hint = traceFileHint(tool, command: command) else { return }
        tool.log.warn("no \(what) in the store \(tool.statePath); \(hint)",
                      ["state": .string(tool.statePath), "trace_file": .string(FileSystem.environment("ARC_TRACE_FILE") ?? "")])
    }

    /// `--since`: a duration ago (`2h`) or an RFC 3339 time; Unix nanoseconds.
    static func since(_ p: ParsedCommand) throws -> Int64? {
        guard let text = p.value("since") else { return nil }
        if let seconds = parseDuration(text) { return WallClock.nowNanos() - Int64(seconds * 1e9) }
        if let nanos = WallClock.parseRFC3339Nanos(text) { return nanos }
        throw UsageError("--since: expected a duration (30m, 2h, 7d) or an RFC 3339 time, got '\(text)'")
    }


    static func list(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let store = try readStore(tool)
        let traces = try store.traces(since: try since(p), limit: try p.int("limit", range: 1...Int.max) ?? 20)
        if traces.isEmpty { nothingStored(tool, "traces", command: "ls") }
        if p.wantsTable {
            var rows = [["TRACE", "START", "DURATION", "SPANS", "ERRORS", "STATUS", "NAME"]]
            for t in traces {
                rows.append([t.traceID, WallClock.rfc3339(millis: t.startNanos / 1_000_000),
                             DurationText.format(t.endNanos - t.startNanos), String(t.spans), String(t.errors),
                             t.status.rawValue, t.name])
            }
            try BufferedOutput.stdout.write(TextTable.render(rows, rightAligned: [2, 3, 4]))
            return .ok
        }
        var b = RecordBuilder(capacity: 256)
        for t in traces {
            b.begin()
            b.string("trace_id", t.traceID)
            b.string("name", t.name)
            b.optionalString("service", t.service)
            b.string("start", WallClock.rfc3339(nanos: t.startNanos))
            b.int("duration_ms", (t.endNanos - t.startNanos) / 1_000_000)
            b.string("status", t.status.rawValue)
            b.int("spans", t.spans)
            b.int("errors", t.errors)
            b.end()
            try BufferedOutput.stdout.write(b.bytes)
        }
        return .ok
    }

    static func show(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let store = try readStore(tool)
        let traceID: String
        if let given = p.positionals.first {
            guard let id = try store.resolve(prefix: given) else {
                throw TraceLookupError.notFound(given, hint: traceFileHint(tool, command: "show \(given)"))
            }
            traceID = id
        } else {
            guard let id = try store.latestTraceID() else {
                throw TraceLookupError.notFound("(none stored yet)", hint: traceFileHint(tool, command: "show"))
            }
            traceID = id
        }
        let spans = try store.spans(ofTrace: traceID)
        if p.flag("json") {
            var b = RecordBuilder(capacity: 512)
            for span in spans {
                span.write(into: &b)
                try BufferedOutput.stdout.write(b.bytes)
            }
            return .ok
        }
        let terminal = isatty(1) == 1
        let width = try p.int("width", range: 40...10_000) ?? (terminal ? Terminal(fd: 1).columns : 100)
        let color = terminal && !p.flag("no-color") && getenv("NO_COLOR") == nil
        try BufferedOutput.stdout.write(Waterfall.render(TraceTree(spans), width: width, color: color))
        return .ok
    }

    static func stats(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let store = try readStore(tool)
        let all = try SpanNameStats.compute(store, since: try since(p), names: p.list("name"))
        if all.isEmpty { nothingStored(tool, "spans", command: "stats") }
        if p.wantsTable {
            var rows = [["NAME", "COUNT", "ERRORS", "P50", "P95", "P99", "MAX"]]
            for s in all {
                rows.append([s.name, String(s.count), String(s.errors), DurationText.format(s.p50),
                             DurationText.format(s.p95), DurationText.format(s.p99), DurationText.format(s.max)])
            }
            try BufferedOutput.stdout.write(TextTable.render(rows, rightAligned: [1, 2, 3, 4, 5, 6]))
            return .ok
        }
        var b = RecordBuilder(capacity: 256)
        for s in all {
            s.write(into: &b)
            try BufferedOutput.stdout.write(b.bytes)
        }
        return .ok
    }

    static func ingest(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let store = try TraceStore.open(tool.statePath)
        let outcome = try SpanIngest(store: store, log: tool.log).run(paths: p.positionals, strict: p.flag("strict"))
        tool.log.info("ingested \(outcome.spans) spans" + (outcome.badLines > 0 ? ", skipped \(outcome.badLines) bad lines" : ""),
                      ["spans": .int(Int64(outcome.spans)), "bad_lines": .int(Int64(outcome.badLines))])
        return outcome.badLines > 0 ? .failures : .ok
    }
}
