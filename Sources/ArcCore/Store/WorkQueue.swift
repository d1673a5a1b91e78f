/// A named work queue in a PostgreSQL state (tables from `StateStore.postgresMigrations`
/// 3): tasks enqueued once by identity, claimed in batches by competing workers under a
/// lease, settled exactly once. One connection, so one thread: a worker opens one for
/// claiming, one for its heartbeat and one for settling (in the ledger's transaction).
///
/// Exactly once: a task is settled only by the worker that holds it (`worker = me AND
/// state = 'leased'`). A worker whose lease ran out and whose task another worker claimed
/// settles nothing; its result is dropped and the other worker's stands.
public final class WorkQueue: @unchecked Sendable { // one connection: used by one thread at a time
    public let name: String
    public let state: PostgresState

    /// Opens queue `name` in the state at `path`, which must be PostgreSQL.
    public static func open(_ path: String, name: String) throws -> WorkQueue {
        try WorkQueue(try StateStore.openShared(path), name: name)
    }

    public init(_ backend: any StateBackend, name: String) throws {
        guard let state = backend as? PostgresState else { throw UsageError(WorkQueue.needsPostgres) }
        try WorkQueue.check(name: name)
        self.name = name
        self.state = state
    }

    public static let needsPostgres =
        "--queue needs a PostgreSQL state shared by the workers: ARC_STATE=postgres://USER:PASSWORD@HOST/DB (or --state)"

    /// Queue names go into logs, metrics labels and shell lines: keep them plain.
    public static func check(name: String) throws {
        let ok = !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F || c == 0x2E
        }
        guard ok else { throw UsageError("--queue: '\(name)' is not a queue name (1 to 64 of A-Z a-z 0-9 . _ -)") }
    }

    // MARK: enqueueing

    public struct EnqueueCounts: Sendable, Equatable {
        /// New to the queue.
        public var added = 0
        /// Done or failed before, pending again (a republished archive, a failure retried).
        public var requeued = 0
        /// Already pending or leased: left as they are.
        public var kept = 0
        public init() {}
    }

    /// Rows per INSERT: three parameters each, far below PostgreSQL's 65,535.
    static let insertChunk = 1000

    /// Adds tasks (identity, the task record as JSON), in one transaction. The same identity
    /// twice is one task: pending or leased, it is kept as it is; done or failed, it is
    /// pending again with the new record (arc-plan planned it again, so the ledger wants it).
    public func enqueue(_ tasks: [(identity: String, task: String)]) throws -> EnqueueCounts {
        var counts = EnqueueCounts()
        try state.transaction {
            var start = 0
            while start < tasks.count {
                // One statement cannot touch a row twice: the last of a repeated identity wins.
                var chunk: [String: String] = [:], order: [String] = []
                for item in tasks[start..<min(start + WorkQueue.insertChunk, tasks.count)] {
                    if chunk.updateValue(item.task, forKey: item.identity) == nil { order.append(item.identity) }
                    else { counts.kept += 1 }
                }
                start += WorkQueue.insertChunk
                var values: [String] = [], parameters: [StateValue] = [.text(name)]
                for identity in order {
                    let n = parameters.count
                    values.append("(?1, ?\(n + 1), ?\(n + 2), 'pending', clock_timestamp())")
                    parameters += [.text(identity), .text(chunk[identity]!)]
                }
                let rows = try state.rows("""
                    INSERT INTO queue_tasks (queue, identity, task, state, enqueued_at)
                    VALUES \(values.joined(separator: ", "))
                    ON CONFLICT (queue, identity) DO UPDATE SET
                        task = excluded.task, state = 'pending', attempts = 0, worker = NULL, lease_until = NULL,
                        not_before = NULL, error_code = NULL, error_message = NULL,
                        enqueued_at = excluded.enqueued_at, finished_at = NULL
                    WHERE queue_tasks.state IN ('done', 'failed')
                    RETURNING xmax = 0
                    """, parameters)
                let added = rows.filter { $0.first == "t" }.count
                counts.added += added
                counts.requeued += rows.count - added
                counts.kept += order.count - rows.count
            }
            // Delivered at commit: idle workers LISTENing (see `listen`) claim at once.
            if counts.added + counts.requeued > 0 { try notify() }
        }
        return counts
    }

    // MARK: waking idle workers

    /// The channel tasks of this queue are announced on (a queue name is a plain word).
    var channel: String { "arc_queue_" + name }

    /// Listens for new tasks on this connection (see `waitForTasks`).
    public func listen() throws { try state.execute("LISTEN \"\(channel)\"") }

    /// Says tasks became claimable (enqueued, put back): to every listening worker.
    func notify() throws { try state.run("SELECT pg_notify(?1, '')", [.text(channel)]) }

    /// Waits up to `seconds` for tasks to be announced; whether they were.
    public func waitForTasks(seconds: Double) throws -> Bool { try state.waitForNotification(seconds: seconds) }

    // MARK: workers

    /// Says a worker is here (or here again, after a restart under the same --worker).
    /// What a worker of that name still holds was claimed by an earlier process, which is
    /// gone and whose tasks this one does not know: their leases end now, so any worker may
    /// claim them (counted, as when a lease runs out: the task may be what killed it).
    public func register(worker: String, host: String, pid: Int32, lease: Double) throws {
        try state.transaction {
            try state.run("""
                UPDATE queue_tasks SET lease_until = clock_timestamp()
                WHERE worker = ?2 AND state = 'leased' AND queue = ?1
                """, [.text(name), .text(worker)])
            try record(worker: worker, host: host, pid: pid, lease: lease)
        }
    }

    private func record(worker: String, host: String, pid: Int32, lease: Double) throws {
        try state.run("""
            INSERT INTO queue_workers (queue, worker, host, pid, started_at, seen_at, lease)
            VALUES (?1, ?2, ?3, ?4, clock_timestamp(), clock_timestamp(), ?5::double precision)
            ON CONFLICT (queue, worker) DO UPDATE SET host = excluded.host, pid = excluded.pid,
                started_at = excluded.started_at, seen_at = excluded.seen_at, lease = excluded.lease,
                stopped_at = NULL
            """, [.text(name), .text(worker), .text(host), .integer(Int64(pid)), .text(String(lease))])
    }

    /// Extends every lease `worker` holds by `lease` seconds from now, and says it is alive.
    /// The count of tasks it holds. A lease that has run out is not renewed: it is anyone's
    /// to claim (and a worker that let it run out stores nothing of it: the fence), so one
    /// left so, by a restart under the same name or a job given up as lease_lost, is
    /// claimed again instead of renewed forever by a worker that will never finish it.
    ///
    /// Two statements, no transaction, and rows being settled are skipped (their settling
    /// ends the lease anyway): the heartbeat never holds one lock while waiting for
    /// another, so it cannot deadlock with the same worker's settling, which locks the
    /// tasks and then the worker's row (seen as 40P01 with 8 workers, killing a worker).
    ///
    /// `ids`: only these tasks (the ones the worker knows it holds). A claim whose reply was
    /// lost with the connection, and then made again, leased a batch the worker never saw:
    /// renewed by name it would stay leased, and unworked, for as long as the worker lives;
    /// renewed by id it runs out like a dead worker's. Nil renews every live lease it holds.
    @discardableResult
    public func heartbeat(worker: String, lease: Double, ids: [Int64]? = nil) throws -> Int {
        // Holding nothing it knows of, the worker only says it is alive.
        let held = ids?.isEmpty == true ? 0 : try state.run("""
            UPDATE queue_tasks t SET lease_until = clock_timestamp() + make_interval(secs => ?3::double precision)
            FROM (SELECT id FROM queue_tasks
                  WHERE worker = ?2 AND state = 'leased' AND queue = ?1 AND lease_until >= clock_timestamp()
                    AND (?4::bigint[] IS NULL OR id = ANY(?4::bigint[]))
                  FOR UPDATE SKIP LOCKED) mine
            WHERE t.id = mine.id
            """, [.text(name), .text(worker), .text(String(lease)), ids.map { .array($0) } ?? .null])
        try state.run("UPDATE queue_workers SET seen_at = clock_timestamp() WHERE queue = ?1 AND worker = ?2",
                      [.text(name), .text(worker)])
        return held
    }

    /// The worker has stopped: what it still holds goes back to the queue at once.
    public func unregister(worker: String) throws {
        try state.transaction {
            try release(worker: worker, ids: nil)
            try state.run("UPDATE queue_workers SET stopped_at = clock_timestamp(), seen_at = clock_timestamp() WHERE queue = ?1 AND worker = ?2",
                          [.text(name), .text(worker)])
        }
    }

    // MARK: claiming

    /// A task a worker holds.
    public struct Claim: Sendable {
        public let id: Int64
        /// Claims of this task so far, this one included.
        public let attempt: Int
        /// The task record, JSON.
        public let task: String
        /// When the claim was sent (MonotonicClock): its lease runs from no earlier.
        public let claimedAt: UInt64

        /// The result record's `queue {name, id, attempt, settled}`.
        public func encode(into b: inout RecordBuilder, queue: String, settled: Settlement) {
            b.object("queue") { q in
                q.string("name", queue)
                q.int("id", id)
                q.int("attempt", Int64(attempt))
                q.string("settled", settled.rawValue)
            }
        }
    }

    /// What became of a claimed task.
    public enum Settlement: String, Sendable {
        /// Done: recorded.
        case done
        /// Failed for good, with its error.
        case failed
        /// Failed for now: claimable again after a backoff, by any worker.
        case retry
        /// Given back untried (the worker is stopping).
        case released
        /// Another worker holds it now (this one's lease ran out): nothing is recorded.
        case lost
    }

    /// Leases up to `limit` claimable tasks to `worker` for `lease` seconds: pending ones
    /// whose wait is over, and leased ones whose lease ran out (a worker killed or cut
    /// off). One round trip; rows other workers are claiming at the same moment are
    /// skipped, not waited for. A task whose lease ran out `maxAttempts` times is failed
    /// instead (a task that kills its workers must not kill them all).
    public func claim(worker: String, limit: Int, lease: Double, maxAttempts: Int) throws -> [Claim] {
        let sent = MonotonicClock.nanos()
        // One statement, one round trip, no transaction around it: fail the spent leases,
        // pick and lease the claimable tasks (the two sets apart, as one statement may
        // touch a row once), count them for the worker. Tasks locked elsewhere are skipped,
        // so a claim waits for no task (see heartbeat); the worker's row is the one lock it
        // may wait for, and it holds nothing another waiter of that row needs.
        let rows = try state.rows("""
            WITH spent AS (
                UPDATE queue_tasks t SET state = 'failed', finished_at = clock_timestamp(), error_code = 'lease_expired',
                    error_message = 'its worker (' || t.worker || ') stopped renewing the lease, ' || t.attempts || ' times'
                FROM (SELECT id FROM queue_tasks
                      WHERE queue = ?1 AND state = 'leased' AND lease_until < clock_timestamp() AND attempts >= ?5
                      FOR UPDATE SKIP LOCKED) s
                WHERE t.id = s.id
                RETURNING t.id),
            picked AS (
                SELECT id FROM queue_tasks
                WHERE queue = ?1 AND state IN ('pending', 'leased')
                  AND ((state = 'pending' AND (not_before IS NULL OR not_before <= clock_timestamp()))
                       OR (state = 'leased' AND lease_until < clock_timestamp() AND attempts < ?5))
                ORDER BY id LIMIT ?3
                FOR UPDATE SKIP LOCKED),
            claimed AS (
                UPDATE queue_tasks t SET state = 'leased', worker = ?2, attempts = t.attempts + 1,
                    lease_until = clock_timestamp() + make_interval(secs => ?4::double precision)
                FROM picked WHERE t.id = picked.id
                RETURNING t.id, t.attempts, t.task),
            counted AS (
                UPDATE queue_workers SET claimed = claimed + (SELECT count(*) FROM claimed)
                WHERE queue = ?1 AND worker = ?2 AND EXISTS (SELECT 1 FROM claimed))
            SELECT id, attempts, task FROM claimed
            """, [.text(name), .text(worker), .integer(Int64(limit)), .text(String(lease)), .integer(Int64(maxAttempts))])
        return rows.compactMap { row -> Claim? in
            guard let id = row[0].flatMap({ Int64($0) }), let task = row[2] else { return nil }
            return Claim(id: id, attempt: row[1].flatMap { Int($0) } ?? 1, task: task, claimedAt: sent)
        }
    }

    /// Tasks not yet settled anywhere: pending (waiting or not) and leased. Zero of both
    /// is a drained queue.
    public func open() throws -> (pending: Int, leased: Int) {
        let row = try state.rows("""
            SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'leased')
            FROM queue_tasks WHERE queue = ?1 AND state IN ('pending', 'leased')
            """, [.text(name)]).first
        return (row?[0].flatMap { Int($0) } ?? 0, row?[1].flatMap { Int($0) } ?? 0)
    }

    // MARK: settling (call inside the transaction that records the tasks' results)

    /// Marks tasks done; the ids `worker` still held (only those may be recorded). With
    /// `counted` false the worker's done count is left to `count(worker:done:failed:)`.
    public func complete(worker: String, ids: [Int64], counted: Bool = true) throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let rows = try state.rows("""
            UPDATE queue_tasks SET state = 'done', finished_at = clock_timestamp(), lease_until = NULL,
                not_before = NULL, error_code = NULL, error_message = NULL
            WHERE id = ANY(?3::bigint[]) AND worker = ?2 AND state = 'leased' AND queue = ?1
            RETURNING id
            """, [.text(name), .text(worker), .array(ids)])
        let done = Set(rows.compactMap { $0[0].flatMap { Int64($0) } })
        if counted { try count(worker: worker, done: done.count, failed: 0) }
        return done
    }

    /// Marks a task failed for good with its error; false when `worker` no longer held it.
    /// With `counted` false the worker's failed count is left to `count(worker:done:failed:)`.
    public func fail(worker: String, id: Int64, code: String, message: String, counted: Bool = true) throws -> Bool {
        let changed = try state.run("""
            UPDATE queue_tasks SET state = 'failed', finished_at = clock_timestamp(), lease_until = NULL,
                error_code = ?4, error_message = ?5
            WHERE id = ?3 AND worker = ?2 AND state = 'leased' AND queue = ?1
            """, [.text(name), .text(worker), .integer(id), .text(code), .text(Secrets.redact(message))])
        if counted { try count(worker: worker, done: 0, failed: changed) }
        return changed == 1
    }

    /// Failures another try may mend: the network, a server's bad moment, a full disk
    /// someone may clear. The rest (a missing archive, a CHECKSUM confirmed wrong twice, a
    /// bad record) fail for good at once.
    public static let transientCodes: Set<String> = [
        "connection_failed", "connection_lost", "timeout", "network_error", "server_error", "changed_during_transfer",
        "disk_full", "io_error", "store_busy", "s3_error", "transfer_setup_failed",
    ]

    /// Seconds before a task failed for now may be claimed again: 5 s, doubling, at most 5 min.
    public static func backoff(_ attempt: Int) -> Double { min(300, 5 * Double(1 << min(max(attempt - 1, 0), 6))) }

    /// Settles a task whose run failed with `code`: back in the queue after a backoff when
    /// the failure may mend (`transientCodes`) and claims are left under `maxAttempts`,
    /// else failed for good. `.lost` when `worker` no longer held it.
    public func settleFailure(worker: String, claim: Claim, code: String, message: String, maxAttempts: Int,
                              counted: Bool = true) throws -> Settlement {
        if WorkQueue.transientCodes.contains(code) && claim.attempt < maxAttempts {
            return try retryLater(worker: worker, id: claim.id, delay: WorkQueue.backoff(claim.attempt), code: code,
                                  message: message) ? .retry : .lost
        }
        return try fail(worker: worker, id: claim.id, code: code, message: message, counted: counted) ? .failed : .lost
    }

    /// Puts a task that failed for now back, claimable after `delay` seconds, its error
    /// kept for people to read; false when `worker` no longer held it.
    public func retryLater(worker: String, id: Int64, delay: Double, code: String, message: String) throws -> Bool {
        try state.run("""
            UPDATE queue_tasks SET state = 'pending', lease_until = NULL,
                not_before = clock_timestamp() + make_interval(secs => ?4::double precision),
                error_code = ?5, error_message = ?6
            WHERE id = ?3 AND worker = ?2 AND state = 'leased' AND queue = ?1
            """, [.text(name), .text(worker), .integer(id), .text(String(delay)), .text(code),
                  .text(Secrets.redact(message))]) == 1
    }

    /// Gives tasks back untried (a worker stopping): pending at once, the claim not
    /// counted as an attempt. Every task `worker` holds when `ids` is nil.
    public func release(worker: String, ids: [Int64]?) throws {
        if let ids, ids.isEmpty { return }
        let released = try state.run("""
            UPDATE queue_tasks SET state = 'pending', lease_until = NULL, attempts = greatest(attempts - 1, 0)
            WHERE worker = ?2 AND state = 'leased' AND queue = ?1 AND (?3::bigint[] IS NULL OR id = ANY(?3::bigint[]))
            """, [.text(name), .text(worker), ids.map { .array($0) } ?? .null])
        if released > 0 { try notify() }
    }

    /// Adds to the worker's done and failed counts. Its row is the one its claims count on
    /// too, and the lock taken here is held until the transaction ends: a settling
    /// transaction that records many results calls this last, so the worker's next claim
    /// does not wait for the whole ledger write.
    public func count(worker: String, done: Int, failed: Int) throws {
        guard done > 0 || failed > 0 else { return }
        try state.run("UPDATE queue_workers SET done = done + ?3, failed = failed + ?4 WHERE queue = ?1 AND worker = ?2",
                      [.text(name), .text(worker), .integer(Int64(done)), .integer(Int64(failed))])
    }

    /// Failed tasks pending again (`arc-queue retry`); the count.
    public func retryFailed() throws -> Int {
        try state.transaction {
            let retried = try state.run("""
                UPDATE queue_tasks SET state = 'pending', attempts = 0, worker = NULL, not_before = NULL, finished_at = NULL
                WHERE queue = ?1 AND state = 'failed'
                """, [.text(name)])
            if retried > 0 { try notify() }
            return retried
        }
    }
}
