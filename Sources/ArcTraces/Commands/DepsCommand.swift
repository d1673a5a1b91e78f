import ArcCore

/// `telem-trace deps`: the service dependency map, from the store or span files.
enum DepsCommand {
    enum Format: String { case table, json, dot }

    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let format = try outputFormat(p)
        let since = try TraceCommand.since(p)
        let name = p.value("name").map(Glob.init)
        let (store, badLines) = try TraceCommand.readStoreCountingBadLines(tool)
        var traceID: String?
        if let given = p.value("trace-id") {
            guard let id = try store.resolve(prefix: given) else {
                throw TraceLookupError.notFound(given, hint: TraceCommand.traceFileHint(tool, command: "deps --trace-id \(given)"))
            }
            traceID = id
        }

        var map = DependencyMap()
        try store.forEachTrace(id: traceID, since: since) { spans in
            if let name, !spans.contains(where: { name.matches($0.name) }) { return }
            map.add(trace: spans, since: since)
        }
        let edges = map.edges()
        if edges.isEmpty { noEdges(tool, map) }

        switch format {
        case .dot:
            try BufferedOutput.stdout.write(DependencyDot.render(edges))
        case .table:
            var rows = [["CALLER", "CALLEE", "CALLS", "ERRORS", "P50", "P95", "P99", "TOTAL"]]
            for e in edges {
                rows.append([e.caller, e.callee, String(e.calls), String(e.errors), DurationText.format(e.p50),
                             DurationText.format(e.p95), DurationText.format(e.p99), DurationText.format(e.total)])
            }
            try BufferedOutput.stdout.write(TextTable.render(rows, rightAligned: [2, 3, 4, 5, 6, 7]))
        case .json:
            var b = RecordBuilder(capacity: 256)
            for e in edges {
                e.write(into: &b)
                try BufferedOutput.stdout.write(b.bytes)
            }
        }
        // Bad lines in --file were reported and skipped: the map is of the rest (exit 1, as ingest).
        return badLines > 0 ? .failures : .ok
    }

    /// `--format`, else `--json`, else a table on a terminal and NDJSON otherwise.
    static func outputFormat(_ p: ParsedCommand) throws -> Format {
        guard let text = p.value("format") else { return p.wantsTable ? .table : .json }
        guard let format = Format(rawValue: text) else {
            throw UsageError("--format: expected table, json or dot, got '\(text)'")
        }
        if p.flag("json") && format != .json { throw UsageError("--json and --format \(text) contradict each other") }
        return format
    }

    /// No edge: one line on stderr saying what was read (and where the spans went, when
    /// ARC_TRACE_FILE sent them elsewhere), so an empty answer is not mistaken for a failure.
    static func noEdges(_ tool: ToolContext, _ map: DependencyMap) {
        let source = tool.parsed.list("file").isEmpty ? "the store \(tool.statePath)" : "the span files"
        var msg = "no calls between services in \(map.traces) trace\(map.traces == 1 ? "" : "s") "
            + "(\(map.spans) span\(map.spans == 1 ? "" : "s")) from \(source)"
        if map.traces == 0, let hint = TraceCommand.traceFileHint(tool, command: "deps") { msg += "; " + hint }
        tool.log.warn(msg, ["traces": .int(Int64(map.traces)), "spans": .int(Int64(map.spans))])
    }
}
