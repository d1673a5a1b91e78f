/// How full the work queues are, for people and autoscalers: tasks per state, and what
/// each worker holds and has done. Read from the queue tables, so it counts every
/// machine's workers.
public struct QueueDepth: Sendable, Equatable {
    public var queue: String
    public var pending = 0
    /// Pending but waiting out a failure's backoff (counted in `pending` too).
    public var waiting = 0
    public var leased = 0
    /// Leased by a worker that stopped renewing it (counted in `leased` too): claimable.
    public var expired = 0
    public var done = 0
    public var failed = 0
    /// Workers heard from within their lease and not stopped.
    public var workers = 0

    public init(queue: String) { self.queue = queue }
}

public struct QueueWorkerRow: Sendable, Equatable {
    public var queue: String
    public var worker: String
    public var host: String?
    public var pid: Int?
    public var startedAt: String
    public var seenAt: String
    public var stoppedAt: String?
    public var alive: Bool
    public var leased = 0
    public var claimed = 0
    public var done = 0
    public var failed = 0
}

extension PostgresState {
    /// Every queue's depth (or `queue`'s alone), by name.
    public func queueDepths(_ queue: String? = nil) throws -> [QueueDepth] {
        let filter: [StateValue] = [queue.map { .text($0) } ?? .null]
        var depths: [String: QueueDepth] = [:]
        for row in try rows("""
            SELECT queue, count(*) FILTER (WHERE state = 'pending'),
                   count(*) FILTER (WHERE state = 'pending' AND not_before > clock_timestamp()),
                   count(*) FILTER (WHERE state = 'leased'),
                   count(*) FILTER (WHERE state = 'leased' AND lease_until < clock_timestamp()),
                   count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'failed')
            FROM queue_tasks WHERE (?1::text IS NULL OR queue = ?1) GROUP BY queue
            """, filter) {
            guard let name = row[0] else { continue }
            var d = QueueDepth(queue: name)
            let n = row.dropFirst().map { $0.flatMap { Int($0) } ?? 0 }
            (d.pending, d.waiting, d.leased, d.expired, d.done, d.failed) = (n[0], n[1], n[2], n[3], n[4], n[5])
            depths[name] = d
        }
        for row in try rows("""
            SELECT queue, count(*) FROM queue_workers
            WHERE (?1::text IS NULL OR queue = ?1) AND stopped_at IS NULL
              AND seen_at + make_interval(secs => lease) > clock_timestamp()
            GROUP BY queue
            """, filter) {
            guard let name = row[0] else { continue }
            depths[name, default: QueueDepth(queue: name)].workers = row[1].flatMap { Int($0) } ?? 0
        }
        if let queue, depths[queue] == nil { depths[queue] = QueueDepth(queue: queue) }
        return depths.values.sorted { $0.queue < $1.queue }
    }

    /// The workers of every queue (or `queue`'s), the ones that stopped included.
    public func queueWorkers(_ queue: String? = nil) throws -> [QueueWorkerRow] {
        try rows("""
            SELECT w.queue, w.worker, w.host, w.pid,
                   to_char(w.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   to_char(w.seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   to_char(w.stopped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   w.stopped_at IS NULL AND w.seen_at + make_interval(secs => w.lease) > clock_timestamp(),
                   (SELECT count(*) FROM queue_tasks t WHERE t.worker = w.worker AND t.state = 'leased' AND t.queue = w.queue),
                   w.claimed, w.done, w.failed
            FROM queue_workers w WHERE (?1::text IS NULL OR w.queue = ?1)
            ORDER BY w.queue, w.started_at, w.worker
            """, [queue.map { .text($0) } ?? .null]).map { row in
            QueueWorkerRow(queue: row[0] ?? "", worker: row[1] ?? "", host: row[2], pid: row[3].flatMap { Int($0) },
                           startedAt: row[4] ?? "", seenAt: row[5] ?? "", stoppedAt: row[6], alive: row[7] == "t",
                           leased: row[8].flatMap { Int($0) } ?? 0, claimed: row[9].flatMap { Int($0) } ?? 0,
                           done: row[10].flatMap { Int($0) } ?? 0, failed: row[11].flatMap { Int($0) } ?? 0)
        }
    }
}
