import ArcCore

/// wf-run's tables in the state database: a row per run, written once, and the runs'
/// event logs, only ever appended to. Each event is its own transaction, so a run killed
/// at any moment leaves a log that says exactly how far it got.
public final class RunStore {
    let db: Database

    public init(_ db: Database) { self.db = db }

    public static func open(_ path: String) throws -> RunStore { RunStore(try StateStore.open(path)) }

    /// What a run was started with.
    public struct RunRow: Sendable {
        public var runID: String
        public var workflow: String
        public var file: String
        public var definition: String
        public var parameters: [(String, String)]
        public var runDir: String
        public var scheduledAt: String?
        public var createdAt: String
    }

    public func insert(_ run: RunRow) throws {
        var b = RecordBuilder(capacity: 256)
        b.begin()
        for (k, v) in run.parameters { b.string(k, v) }
        b.end()
        let params = String(decoding: b.bytes.dropLast(), as: UTF8.self)
        try db.transaction {
            let s = try db.statement("""
                INSERT INTO wf_runs (run_id, workflow, file, definition, params, run_dir, scheduled_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            s.bind(1, run.runID).bind(2, run.workflow).bind(3, run.file).bind(4, run.definition)
                .bind(5, params).bind(6, run.runDir).bind(7, run.scheduledAt).bind(8, run.createdAt)
            try s.run()
        }
    }

    public func append(_ e: RunEvent) throws {
        try db.transaction {
            let s = try db.statement("""
                INSERT INTO wf_events (run_id, ts, event, step, attempt, exit_status, duration_ms, reason, message,
                                       cache_key, pid, trace_id, pid_start)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            s.bind(1, e.runID).bind(2, e.time).bind(3, e.kind.rawValue).bind(4, e.step).bind(5, e.attempt)
                .bind(6, e.exitStatus).bind(7, e.durationMillis).bind(8, e.reason).bind(9, e.message)
                .bind(10, e.cacheKey).bind(11, e.pid).bind(12, e.traceID).bind(13, e.pidStart)
            try s.run()
        }
    }

    static let runColumns = "run_id, workflow, file, definition, params, run_dir, scheduled_at, created_at"

    func runRow(_ s: Statement) -> RunRow {
        var parameters: [(String, String)] = []
        if let json = s.text(4), let record = try? Record(parsing: json) {
            parameters = record.fields.map { (record.keyText($0), record.stringValue($0)) }
        }
        return RunRow(runID: s.text(0) ?? "", workflow: s.text(1) ?? "", file: s.text(2) ?? "",
                      definition: s.text(3) ?? "", parameters: parameters, runDir: s.text(5) ?? "",
                      scheduledAt: s.text(6), createdAt: s.text(7) ?? "")
    }

    /// The run with this id, or the only one whose id starts with it.
    public func run(_ idOrPrefix: String) throws -> RunRow? {
        guard !idOrPrefix.isEmpty else { return nil }
        let s = try db.statement("SELECT \(Self.runColumns) FROM wf_runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 2")
        defer { s.reset() }
        s.bind(1, idOrPrefix).bind(2, idOrPrefix + "\u{10FFFF}")
        var rows: [RunRow] = []
        while try s.step() { rows.append(runRow(s)) }
        if let exact = rows.first(where: { $0.runID == idOrPrefix }) { return exact }
        guard rows.count <= 1 else { throw UsageError("run '\(idOrPrefix)' is ambiguous: give more of its id") }
        return rows.first
    }

    /// The newest runs first, of one workflow or of all.
    public func runs(workflow: String?, limit: Int) throws -> [RunRow] {
        let s = try db.statement(workflow == nil
            ? "SELECT \(Self.runColumns) FROM wf_runs ORDER BY created_at DESC, run_id DESC LIMIT ?"
            : "SELECT \(Self.runColumns) FROM wf_runs WHERE workflow = ? ORDER BY created_at DESC, run_id DESC LIMIT ?")
        defer { s.reset() }
        if let workflow { s.bind(1, workflow).bind(2, limit) } else { s.bind(1, limit) }
        var rows: [RunRow] = []
        while try s.step() { rows.append(runRow(s)) }
        return rows
    }

    /// Runs of `workflow` whose log has no end after their last start or resume: running
    /// now, or interrupted (their wf-run was killed), oldest first.
    public func unendedRuns(workflow: String) throws -> [RunRow] {
        let s = try db.statement("""
            SELECT \(Self.runColumns) FROM wf_runs r WHERE workflow = ? AND coalesce((
                SELECT e.event FROM wf_events e WHERE e.run_id = r.run_id
                AND e.event IN ('run_started', 'run_resumed', 'run_succeeded', 'run_failed', 'run_cancelled')
                ORDER BY e.id DESC LIMIT 1), '') NOT IN ('run_succeeded', 'run_failed', 'run_cancelled')
            ORDER BY created_at, run_id
            """)
        defer { s.reset() }
        s.bind(1, workflow)
        var rows: [RunRow] = []
        while try s.step() { rows.append(runRow(s)) }
        return rows
    }

    /// A run's log, in order.
    public func events(_ runID: String) throws -> [RunEvent] {
        let s = try db.statement("""
            SELECT ts, event, step, attempt, exit_status, duration_ms, reason, message, cache_key, pid, trace_id, pid_start
            FROM wf_events WHERE run_id = ? ORDER BY id
            """)
        defer { s.reset() }
        s.bind(1, runID)
        var events: [RunEvent] = []
        while try s.step() {
            guard let kind = s.text(1).flatMap(RunEvent.Kind.init(rawValue:)) else { continue }
            var e = RunEvent(runID: runID, kind: kind, time: s.text(0) ?? "", step: s.text(2))
            e.attempt = s.optionalInt(3).map(Int.init)
            e.exitStatus = s.optionalInt(4).map(Int.init)
            e.durationMillis = s.optionalInt(5)
            e.reason = s.text(6)
            e.message = s.text(7)
            e.cacheKey = s.text(8)
            e.pid = s.optionalInt(9).map(Int.init)
            e.traceID = s.text(10)
            e.pidStart = s.optionalInt(11)
            events.append(e)
        }
        return events
    }

    /// A run of `workflow` in which `step` succeeded with this cache key, if any.
    public func cachedRun(workflow: String, step: String, cacheKey: String) throws -> String? {
        let s = try db.statement("""
            SELECT e.run_id FROM wf_events e JOIN wf_runs r ON r.run_id = e.run_id
            WHERE e.step = ? AND e.cache_key = ? AND e.event = 'step_succeeded' AND r.workflow = ?
            ORDER BY e.id DESC LIMIT 1
            """)
        defer { s.reset() }
        s.bind(1, step).bind(2, cacheKey).bind(3, workflow)
        return try s.step() ? s.text(0) : nil
    }

    /// The latest firing time the scheduler started a run of `workflow` for.
    public func lastScheduled(workflow: String) throws -> String? {
        let s = try db.statement("SELECT max(scheduled_at) FROM wf_runs WHERE workflow = ? AND scheduled_at IS NOT NULL")
        defer { s.reset() }
        s.bind(1, workflow)
        return try s.step() ? s.text(0) : nil
    }
}
