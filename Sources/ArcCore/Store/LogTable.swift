/// Writes rows of the state database's `logs` table (migration 3 in StateStore): the one
/// INSERT both `telem-log ingest` (ArcLogs' LogIndex) and `telem-trace serve`'s OTLP log
/// receiver use. The table's triggers keep the FTS5 index (`logs_fts`) in step with it,
/// so a row stored here is found by `telem-log search` whoever wrote it.
public enum LogTable {
    /// One stored line: `line` is the line as written (what search prints and --where
    /// reads); the other columns are what the filters with an index use.
    public struct Row: Sendable {
        public var tsMillis: Int64?
        public var level: String?
        public var tool: String?
        public var msg: String?
        public var traceID: String?
        public var spanID: String?
        public var source: String
        public var line: String

        public init(tsMillis: Int64?, level: String?, tool: String?, msg: String?, traceID: String?, spanID: String?,
                    source: String, line: String) {
            self.tsMillis = tsMillis
            self.level = level
            self.tool = tool
            self.msg = msg
            self.traceID = traceID
            self.spanID = spanID
            self.source = source
            self.line = line
        }
    }

    /// The prepared INSERT (cached by the connection); callers inside a transaction of
    /// their own call `insert(_:row…)` with it once per line.
    public static func statement(_ db: Database) throws -> Statement {
        try db.statement("""
            INSERT INTO logs (ts_ms, level, tool, msg, trace_id, span_id, source, line)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    public static func insert(_ s: Statement, tsMillis: Int64?, level: String?, tool: String?, msg: String?,
                              traceID: String?, spanID: String?, source: String, line: String) throws {
        s.bind(1, tsMillis)
        s.bind(2, level)
        s.bind(3, tool)
        s.bind(4, msg)
        s.bind(5, traceID)
        s.bind(6, spanID)
        s.bind(7, source)
        s.bind(8, line)
        try s.run()
    }

    /// Stores `rows` in one transaction.
    public static func insert(_ rows: [Row], into db: Database) throws {
        try db.transaction {
            let s = try statement(db)
            for r in rows {
                try insert(s, tsMillis: r.tsMillis, level: r.level, tool: r.tool, msg: r.msg, traceID: r.traceID,
                           spanID: r.spanID, source: r.source, line: r.line)
            }
        }
    }
}
