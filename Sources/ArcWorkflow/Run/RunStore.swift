import ArcCore

/// wf-run's tables in the state database: a row per run, written once, and the runs'
/// event logs, only ever appended to. Each event is its own transaction, so a run killed
/// at any moment leaves a log that says exactly how far it got.
///
/// The state is a SQLite file or, with `ARC_STATE=postgres://...`, a PostgreSQL database
/// every machine that runs workflows shares; the SQL below is written once for both.
public final class RunStore {
    let db: any StateBackend

    public init(_ db: any StateBackend) { self.db = db }

    public static func open(_ path: String) throws -> RunStore { RunStore(try StateStore.openShared(path)) }

    /// Whether other machines see these runs (a PostgreSQL state): then a run's flock, in
    /// one machine's runs directory, is not enough to tell the others that it is running.
    public var isShared: Bool { db is PostgresState }

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
        _ = try db.transaction {
            try db.run("""
                INSERT INTO wf_runs (run_id, workflow, file, definition, params, run_dir, scheduled_at, created_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                """, [StateValue(run.runID), StateValue(run.workflow), StateValue(run.file), StateValue(run.definition),
                      StateValue(params), StateValue(run.runDir), StateValue(run.scheduledAt), StateValue(run.createdAt)])
        }
    }

    public func append(_ e: RunEvent) throws {
        _ = try db.transaction {
            try db.run("""
                INSERT INTO wf_events (run_id, ts, event, step, attempt, exit_status, duration_ms, reason, message,
                                       cache_key, pid, trace_id, pid_start)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                """, [StateValue(e.runID), StateValue(e.time), StateValue(e.kind.rawValue), StateValue(e.step),
                      StateValue(e.attempt), StateValue(e.exitStatus), StateValue(e.durationMillis), StateValue(e.reason),
                      StateValue(e.message), StateValue(e.cacheKey), StateValue(e.pid), StateValue(e.traceID),
                      StateValue(e.pidStart)])
        }
    }

    static let runColumns = "run_id, workflow, file, definition, params, run_dir, scheduled_at, created_at"

    func runRows(_ sql: String, _ parameters: [StateValue]) throws -> [RunRow] {
        try db.rows(sql, parameters).map { r in
            var parameters: [(String, String)] = []
            if let json = r[4], let record = try? Record(parsing: json) {
                parameters = record.fields.map { (record.keyText($0), record.stringValue($0)) }
            }
            return RunRow(runID: r[0] ?? "", workflow: r[1] ?? "", file: r[2] ?? "", definition: r[3] ?? "",
                          parameters: parameters, runDir: r[5] ?? "", scheduledAt: r[6], createdAt: r[7] ?? "")
        }
    }

    /// The run with this id, or the only one whose id starts with it. (Ids compare bytewise
    /// on both backends: PostgreSQL's columns are COLLATE "C".)
    public func run(_ idOrPrefix: String) throws -> RunRow? {
        guard !idOrPrefix.isEmpty else { return nil }
        let rows = try runRows("SELECT \(Self.runColumns) FROM wf_runs WHERE run_id >= ?1 AND run_id < ?2 ORDER BY run_id LIMIT 2",
                               [StateValue(idOrPrefix), StateValue(idOrPrefix + "\u{10FFFF}")])
        if let exact = rows.first(where: { $0.runID == idOrPrefix }) { return exact }
        guard rows.count <= 1 else { throw UsageError("run '\(idOrPrefix)' is ambiguous: give more of its id") }
        return rows.first
    }

    /// The newest runs first, of one workflow or of all.
    public func runs(workflow: String?, limit: Int) throws -> [RunRow] {
        if let workflow {
            return try runRows("SELECT \(Self.runColumns) FROM wf_runs WHERE workflow = ?1 ORDER BY created_at DESC, run_id DESC LIMIT ?2",
                               [StateValue(workflow), StateValue(limit)])
        }
        return try runRows("SELECT \(Self.runColumns) FROM wf_runs ORDER BY created_at DESC, run_id DESC LIMIT ?1", [StateValue(limit)])
    }

    /// Runs of `workflow` whose log has no end after their last start or resume: running
    /// now, or interrupted (their wf-run was killed), oldest first.
    public func unendedRuns(workflow: String) throws -> [RunRow] {
        try runRows("""
            SELECT \(Self.runColumns) FROM wf_runs r WHERE workflow = ?1 AND coalesce((
                SELECT e.event FROM wf_events e WHERE e.run_id = r.run_id
                AND e.event IN ('run_started', 'run_resumed', 'run_succeeded', 'run_failed', 'run_cancelled')
                ORDER BY e.id DESC LIMIT 1), '') NOT IN ('run_succeeded', 'run_failed', 'run_cancelled')
            ORDER BY created_at, run_id
            """, [StateValue(workflow)])
    }

    /// A run's log, in order.
    public func events(_ runID: String) throws -> [RunEvent] {
        let rows = try db.rows("""
            SELECT ts, event, step, attempt, exit_status, duration_ms, reason, message, cache_key, pid, trace_id, pid_start
            FROM wf_events WHERE run_id = ?1 ORDER BY id
            """, [StateValue(runID)])
        return rows.compactMap { r in
            guard let kind = r[1].flatMap(RunEvent.Kind.init(rawValue:)) else { return nil }
            var e = RunEvent(runID: runID, kind: kind, time: r[0] ?? "", step: r[2])
            e.attempt = r[3].flatMap { Int($0) }
            e.exitStatus = r[4].flatMap { Int($0) }
            e.durationMillis = r[5].flatMap { Int64($0) }
            e.reason = r[6]
            e.message = r[7]
            e.cacheKey = r[8]
            e.pid = r[9].flatMap { Int($0) }
            e.traceID = r[10]
            e.pidStart = r[11].flatMap { Int64($0) }
            return e
        }
    }

    /// A run of `workflow` in which `step` succeeded with this cache key, if any.
    public func cachedRun(workflow: String, step: String, cacheKey: String) throws -> String? {
        try db.rows("""
            SELECT e.run_id FROM wf_events e JOIN wf_runs r ON r.run_id = e.run_id
            WHERE e.step = ?1 AND e.cache_key = ?2 AND e.event = 'step_succeeded' AND r.workflow = ?3
            ORDER BY e.id DESC LIMIT 1
            """, [StateValue(step), StateValue(cacheKey), StateValue(workflow)]).first?[0]
    }

    /// The latest firing time the scheduler started a run of `workflow` for.
    public func lastScheduled(workflow: String) throws -> String? {
        try db.rows("SELECT max(scheduled_at) FROM wf_runs WHERE workflow = ?1 AND scheduled_at IS NOT NULL",
                    [StateValue(workflow)]).first?[0] ?? nil
    }
}
