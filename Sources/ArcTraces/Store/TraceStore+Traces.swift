import ArcCore

extension TraceStore {
    /// Calls `body` with each trace's spans, one trace at a time: the trace `id` (or every
    /// trace), with `since`, only the traces with a span started at or after it, given whole
    /// (a trace that began before `since` is not cut in half, so a late span finds its parent).
    /// Memory holds one trace's spans, plus SQLite's set of the trace ids in the window.
    public func forEachTrace(id: String?, since: Int64?, _ body: ([StoredSpan]) throws -> Void) throws {
        var conditions: [String] = []
        if id != nil { conditions.append("trace_id = ?1") }
        if since != nil { conditions.append("trace_id IN (SELECT trace_id FROM spans WHERE start_ns >= ?2)") }
        // ORDER BY trace_id walks the primary key (trace_id, span_id): no sort of the whole table.
        let s = try db.statement("""
            SELECT \(Self.columns) FROM spans
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY trace_id
            """)
        defer { s.reset() }
        if let id { s.bind(1, id) }
        if let since { s.bind(2, since) }
        var trace: [StoredSpan] = []
        while try s.step() {
            let span = Self.span(s)
            if let first = trace.first, first.traceID != span.traceID {
                try body(trace)
                trace.removeAll(keepingCapacity: true)
            }
            trace.append(span)
        }
        if !trace.isEmpty { try body(trace) }
    }
}
