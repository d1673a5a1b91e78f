import ArcCore

/// One trace in a listing: its root span's name and status, its extent and span counts.
public struct TraceSummary: Sendable, Equatable {
    public var traceID: String
    /// The root span's (the earliest span without a parent in the trace).
    public var name: String
    public var service: String?
    public var status: SpanStatus
    public var startNanos: Int64
    public var endNanos: Int64
    public var spans: Int
    public var errors: Int
}

/// telem-trace's table in the state database (migration 2, `spans`): writes are
/// INSERT OR REPLACE on (trace_id, span_id), so a span ingested twice is stored once and
/// re-ingesting a file changes nothing.
public final class TraceStore {
    public let db: Database

    public init(_ db: Database) { self.db = db }

    public static func open(_ path: String) throws -> TraceStore { TraceStore(try StateStore.open(path)) }

    /// A store in memory, for reading span files directly (`ls --file F`).
    public static func inMemory() throws -> TraceStore { TraceStore(try StateStore.open(":memory:")) }

    /// Whether this connection was set up for writing (`prepareForWrites`).
    private var preparedForWrites = false

    /// Stores `spans` in one transaction (durable as every writer's: committed, in WAL with
    /// synchronous=NORMAL, before this returns).
    public func insert<S: Sequence>(_ spans: S) throws where S.Element == StoredSpan {
        try prepareForWrites()
        // BEGIN and COMMIT as prepared statements (what `Database.transaction` does, minus
        // parsing the SQL each time): in `serve`, parsing cost a large malloc per call in a
        // connection thread whose heap the JSON decoder had just left in small free chunks,
        // and glibc consolidated them first (6% of the receiver's time, under its lock).
        try db.endReadBatch()
        try db.statement("BEGIN IMMEDIATE").run()
        do {
            let spans = Array(spans)
            var at = 0
            // Many rows a statement: the CHECK on `status` (an IN list of three) makes SQLite
            // 3.40 open a temporary b-tree each time the statement runs (a page-size malloc
            // and a pager), which cost more than the insert itself when run once a row.
            if spans.count >= Self.rowsPerStatement {
                let many = try db.statement(Self.insertMany)
                while spans.count - at >= Self.rowsPerStatement {
                    for row in 0..<Self.rowsPerStatement {
                        Self.bind(spans[at + row], to: many, from: Int32(row * Self.columnCount))
                    }
                    try many.run()
                    at += Self.rowsPerStatement
                }
            }
            if at < spans.count {
                let one = try db.statement(Self.insertOne)
                for span in spans[at...] {
                    Self.bind(span, to: one, from: 0)
                    try one.run()
                }
            }
            try db.statement("COMMIT").run()
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    private static let columnCount = 11
    private static let rowsPerStatement = 32
    private static func insert(rows: Int) -> String {
        let values = (0..<rows).map { row in
            "(" + (1...columnCount).map { "?\(row * columnCount + $0)" }.joined(separator: ", ") + ")"
        }
        return "INSERT OR REPLACE INTO spans (\(columns)) VALUES " + values.joined(separator: ", ")
    }
    private static let insertOne = insert(rows: 1)
    private static let insertMany = insert(rows: rowsPerStatement)

    /// Binds one span to parameters `first + 1 ... first + 11`, in `columns` order.
    private static func bind(_ span: StoredSpan, to s: Statement, from first: Int32) {
        s.bind(first + 1, span.traceID).bind(first + 2, span.spanID).bind(first + 3, span.parentSpanID)
            .bind(first + 4, span.name).bind(first + 5, span.service).bind(first + 6, span.startNanos)
            .bind(first + 7, span.endNanos).bind(first + 8, span.status.rawValue).bind(first + 9, span.statusMessage)
            .bind(first + 10, span.attributesJSON).bind(first + 11, span.eventsJSON)
    }

    /// Once per connection, before its first write. Span and trace ids are random, so a
    /// batch of spans lands on pages all over the primary key (and, before migration 8, the
    /// name index): each commit appends a few hundred pages to the WAL (for 512 spans), and SQLite's
    /// default checkpoint (every 1,000 pages) copied them into the database and fsynced it
    /// every third batch, inside the writer's commit. Checkpointing every 10,000 pages (a
    /// WAL of up to 40 MB) copies a page rewritten by many batches once. Durability is the
    /// same: a commit is in the WAL either way. A page cache of at least 16 MiB (the default
    /// is 2) keeps the indexes' pages between batches instead of reading them back; a larger
    /// one set by the caller (`SpanIngest`) is kept. And temporary files in memory: a
    /// statement of many rows keeps a journal of the pages it changed (INSERT OR REPLACE may
    /// abort halfway), which SQLite writes to a temporary file past 64 KiB; here it is at
    /// most the pages of 32 rows. (This connection only writes spans; a large sort on it
    /// would be held in memory too.)
    private func prepareForWrites() throws {
        guard !preparedForWrites else { return }
        preparedForWrites = true
        guard db.path != ":memory:" else { return }
        try db.execute("PRAGMA wal_autocheckpoint = 10000")
        try db.execute("PRAGMA temp_store = MEMORY")
        if try cacheKiB() < 16 * 1024 {
            try db.execute("PRAGMA cache_size = -16384")
        }
    }

    /// The connection's page cache limit in KiB (`cache_size` is in KiB when negative,
    /// in pages when positive).
    private func cacheKiB() throws -> Int64 {
        func pragma(_ name: String) throws -> Int64 {
            let s = try db.statement("PRAGMA \(name)")
            defer { s.reset() }
            return try s.step() ? s.int(0) : 0
        }
        let size = try pragma("cache_size")
        return size < 0 ? -size : size * (try pragma("page_size")) / 1024
    }

    static let columns = """
        trace_id, span_id, parent_span_id, name, service, start_ns, end_ns, status, status_message, attributes, events
        """

    static func span(_ s: Statement) -> StoredSpan {
        StoredSpan(traceID: s.text(0) ?? "", spanID: s.text(1) ?? "", parentSpanID: s.text(2), name: s.text(3) ?? "",
                   service: s.text(4), startNanos: s.int(5), endNanos: s.int(6),
                   status: SpanStatus(rawValue: s.text(7) ?? "") ?? .unset, statusMessage: s.text(8),
                   attributesJSON: s.text(9), eventsJSON: s.text(10))
    }

    /// The most recent traces first (by their first span's start), at most `limit`,
    /// those that started at or after `since` (Unix ns) when given.
    public func traces(since: Int64?, limit: Int) throws -> [TraceSummary] {
        // A trace counts from its first span: the inner query picks the traces, the outer
        // one sums all their spans (a trace that began before `since` is not cut in half).
        let filter = since == nil ? "" : "WHERE trace_id IN (SELECT trace_id FROM spans WHERE start_ns >= ?1)"
        let s = try db.statement("""
            SELECT trace_id, min(start_ns) AS first, max(end_ns), count(*), sum(status = 'error')
            FROM spans \(filter) GROUP BY trace_id
            \(since == nil ? "" : "HAVING first >= ?1") ORDER BY first DESC, trace_id LIMIT ?2
            """)
        defer { s.reset() }
        if let since { s.bind(1, since) }
        s.bind(2, Int64(limit))
        var out: [TraceSummary] = []
        while try s.step() {
            out.append(TraceSummary(traceID: s.text(0) ?? "", name: "", service: nil, status: .unset,
                                    startNanos: s.int(1), endNanos: s.int(2), spans: Int(s.int(3)), errors: Int(s.int(4))))
        }
        s.reset()
        for i in out.indices {
            if let root = try root(of: out[i].traceID) {
                out[i].name = root.name
                out[i].service = root.service
                out[i].status = root.status
            }
        }
        return out
    }

    /// The trace's root: the earliest span whose parent is not in the trace (normally the
    /// one span without a parent; a trace joined from outside has its first span's parent missing).
    public func root(of traceID: String) throws -> StoredSpan? {
        let s = try db.statement("""
            SELECT \(Self.columns) FROM spans AS c WHERE trace_id = ?1 AND (parent_span_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM spans AS p WHERE p.trace_id = ?1 AND p.span_id = c.parent_span_id))
            ORDER BY start_ns, end_ns DESC, span_id LIMIT 1
            """)
        defer { s.reset() }
        s.bind(1, traceID)
        return try s.step() ? Self.span(s) : nil
    }

    /// Every span of a trace, by start time.
    public func spans(ofTrace traceID: String) throws -> [StoredSpan] {
        let s = try db.statement("SELECT \(Self.columns) FROM spans WHERE trace_id = ?1 ORDER BY start_ns, span_id")
        defer { s.reset() }
        s.bind(1, traceID)
        var out: [StoredSpan] = []
        while try s.step() { out.append(Self.span(s)) }
        return out
    }

    /// The one trace id starting with `prefix` (lowercase hex); nil when none does.
    /// Throws when the prefix fits several.
    public func resolve(prefix: String) throws -> String? {
        let lower = prefix.lowercased()
        guard !lower.isEmpty, lower.utf8.count <= 32, lower.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw UsageError("'\(prefix)' is not a trace id (up to 32 hex digits)")
        }
        // Hex digits sort below 'g': the prefix's range is [prefix, prefix + 'g').
        let s = try db.statement("SELECT DISTINCT trace_id FROM spans WHERE trace_id >= ?1 AND trace_id < ?2 LIMIT 3")
        defer { s.reset() }
        s.bind(1, lower).bind(2, lower + "g")
        var found: [String] = []
        while try s.step() { found.append(s.text(0) ?? "") }
        if found.count > 1 {
            throw TraceLookupError.ambiguous(prefix, found)
        }
        return found.first
    }

    /// The trace whose first span started last.
    public func latestTraceID() throws -> String? {
        let s = try db.statement("SELECT trace_id FROM spans ORDER BY start_ns DESC LIMIT 1")
        defer { s.reset() }
        guard try s.step() else { return nil }
        return s.text(0)
    }

    /// Calls `body` with each span's name, duration and whether it failed, grouped by
    /// name and sorted by duration within a name (what percentiles need), streaming.
    public func forEachDuration(since: Int64?, names: [String],
                                _ body: (_ name: String, _ nanos: Int64, _ error: Bool) throws -> Void) throws {
        var conditions: [String] = []
        if since != nil { conditions.append("start_ns >= ?1") }
        if !names.isEmpty {
            conditions.append("name IN (" + names.indices.map { "?\($0 + 2)" }.joined(separator: ", ") + ")")
        }
        let s = try db.statement("""
            SELECT name, max(0, end_ns - start_ns) AS d, status = 'error' FROM spans
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY name, d
            """)
        defer { s.reset() }
        if let since { s.bind(1, since) }
        for (i, name) in names.enumerated() { s.bind(Int32(i + 2), name) }
        while try s.step() { try body(s.text(0) ?? "", s.int(1), s.int(2) != 0) }
    }

    /// Calls `body` with every span of `trace` (or all), those started at or after `since`,
    /// by trace and start time, streaming.
    public func forEachSpan(trace: String?, since: Int64?, _ body: (StoredSpan) throws -> Void) throws {
        var conditions: [String] = []
        if trace != nil { conditions.append("trace_id = ?1") }
        if since != nil { conditions.append("start_ns >= ?2") }
        let s = try db.statement("""
            SELECT \(Self.columns) FROM spans
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY trace_id, start_ns
            """)
        defer { s.reset() }
        if let trace { s.bind(1, trace) }
        if let since { s.bind(2, since) }
        while try s.step() { try body(Self.span(s)) }
    }
}

/// A trace id (or prefix) that names no trace, or several: exit 2, nothing shown.
public enum TraceLookupError: ArcError {
    /// `hint`: where the spans may be instead (ARC_TRACE_FILE).
    case notFound(String, hint: String? = nil)
    case ambiguous(String, [String])

    public var code: FailureCode {
        switch self {
        case .notFound: return .traceNotFound
        case .ambiguous: return .traceAmbiguous
        }
    }
    public var exitStatus: ExitStatus { .usage }
    public var description: String {
        switch self {
        case .notFound(let id, let hint): return "no trace \(id) in the store" + (hint.map { "; \($0)" } ?? "")
        case .ambiguous(let prefix, let ids):
            return "'\(prefix)' fits several traces (\(ids.prefix(2).joined(separator: ", ")), ...); give more digits"
        }
    }
}

extension FailureCode {
    public static let traceNotFound = FailureCode("trace_not_found")
    public static let traceAmbiguous = FailureCode("trace_ambiguous")
}
