import Glibc

/// How a worker takes its part of a queue (arc-collect --queue, arc-convert --queue).
public struct QueueWorkerOptions: Sendable {
    public var queue: String
    /// This worker's name in the queue tables: HOST:PID:START unless --worker names it.
    public var worker: String
    /// Tasks claimed per round trip; claims are made as slots free up, never more ahead.
    public var batch = 64
    /// Seconds a claim holds without a heartbeat; renewed every third of it.
    public var lease = 60.0
    /// Claims of one task before it fails for good (its workers kept dying, or it kept failing for now).
    public var maxAttempts = 5
    /// Keep waiting for tasks when the queue is drained.
    public var follow = false
    /// Longest wait between looks at a queue with nothing claimable. New and returned
    /// tasks are announced (NOTIFY) and claimed at once; the looks are for what no one
    /// announces: leases and backoffs running out, the last tasks ending elsewhere (the
    /// drain), so a worker ends within this of the queue's drain.
    public var maxPoll = 0.5

    public init(queue: String, worker: String? = nil) {
        self.queue = queue
        self.worker = worker ?? QueueWorkerOptions.defaultWorkerName()
    }

    /// The options of a queue worker's command line (arc-collect, arc-convert).
    public static let specs: [OptionSpec] = [
        OptionSpec("queue", valueName: "NAME", help: "take tasks from work queue NAME in the PostgreSQL state instead of stdin"),
        .flag("follow", help: "with --queue: keep waiting for tasks when the queue is drained"),
        OptionSpec("lease", valueName: "DURATION", help: "with --queue: how long a claim holds without renewal (renewed every third of it)",
                   defaultValue: "60s"),
        OptionSpec("batch", valueName: "N", help: "with --queue: most tasks claimed in one round trip", defaultValue: "64"),
        OptionSpec("max-attempts", valueName: "N", help: "with --queue: claims of a task before it fails for good",
                   defaultValue: "5"),
        OptionSpec("worker", valueName: "ID", help: "with --queue: this worker's name in the queue (default HOST:PID:START)"),
    ]

    /// --queue and its companions; nil without --queue (whose companions are then refused).
    /// Usage errors before anything is opened: no FILE arguments, no --dry-run, a
    /// PostgreSQL state.
    public static func parse(_ p: ParsedCommand, statePath: String) throws -> QueueWorkerOptions? {
        guard let name = p.value("queue") else {
            for option in ["follow", "lease", "batch", "max-attempts", "worker"] where p.explicit.contains(option) {
                throw UsageError("--\(option) needs --queue NAME")
            }
            return nil
        }
        try WorkQueue.check(name: name)
        if !p.positionals.isEmpty { throw UsageError("--queue takes its tasks from the queue: no FILE arguments") }
        if p.declares("dry-run") && p.flag("dry-run") {
            throw UsageError("--queue and --dry-run: a dry run would claim tasks it does not do")
        }
        if !PostgresConnection.isURL(statePath) { throw UsageError(WorkQueue.needsPostgres) }
        var options = QueueWorkerOptions(queue: name, worker: p.value("worker"))
        options.follow = p.flag("follow")
        options.lease = try p.duration("lease") ?? 60
        if options.lease < 1 { throw UsageError("--lease: at least 1s (it is renewed every third of it)") }
        options.batch = try p.int("batch", range: 1...10_000) ?? 64
        options.maxAttempts = try p.int("max-attempts", range: 1...1000) ?? 5
        if options.worker.isEmpty || options.worker.utf8.count > 200 { throw UsageError("--worker: 1 to 200 bytes") }
        return options
    }

    /// Unique across machines and restarts, and readable: which host, which process.
    public static func defaultWorkerName() -> String {
        "\(ProcessEnvironment.hostName):\(getpid()):\(WallClock.nowMillis())"
    }
}

/// One worker's session with a queue. The tool's reader thread calls `next()` for tasks,
/// claimed in batches; a heartbeat thread keeps every lease the worker holds alive; the
/// tool settles tasks on its own connection (`WorkQueue.complete` and friends, inside the
/// transaction that records their results).
///
/// The fence: a worker cut off from the database cannot renew its leases, and after
/// `lease` seconds other workers may claim its tasks. `holds(claim)` is false once the
/// last renewal that reached the server (or the claim itself) is older than the lease less
/// a margin, and stays false for that claim when a later renewal comes too late to have
/// kept it (a worker stopped, or starved, past its lease: the heartbeat may run before the
/// job when it wakes). A tool checks it before making a result final (a rename, an
/// upload's completion), so a file is never put at its final name by a worker that may
/// have lost the task.
public final class QueueWorker: @unchecked Sendable { // mutable fields are guarded by `state`
    public let options: QueueWorkerOptions
    private let claims: WorkQueue
    private let log: Logger
    /// Guards `claims`: used by the claiming thread, and by `close` from another.
    private let connection = Lock()
    /// Condition 0 wakes a waiting `next()`, 1 the heartbeat.
    private let state = ConditionLock(conditions: 2)
    // Guarded by state:
    private var buffered: [WorkQueue.Claim] = []
    /// Tasks claimed and not yet settled: the ones the heartbeat renews.
    private var held = Set<Int64>()
    private var stopping = false
    private var lastRenewalSent: UInt64
    private var renewalFailures = 0
    /// Claims sent before this (MonotonicClock) may have been lost: a renewal came after
    /// their lease, less the margin, had run out. Zero when none has.
    private var lapsedBefore: UInt64 = 0

    /// Opens the claiming connection and the heartbeat's, and registers the worker.
    public init(statePath: String, options: QueueWorkerOptions, log: Logger) throws {
        self.options = options
        self.log = log
        claims = try WorkQueue.open(statePath, name: options.queue)
        let heartbeat = try WorkQueue.open(statePath, name: options.queue)
        try claims.register(worker: options.worker, host: ProcessEnvironment.hostName, pid: getpid(), lease: options.lease)
        try claims.listen()
        lastRenewalSent = MonotonicClock.nanos()
        log.info("worker \(options.worker) taking tasks from queue \(options.queue)",
                 ["queue": .string(options.queue), "worker": .string(options.worker)])
        startHeartbeat(heartbeat)
    }

    /// Set once, in init; joined by `close`.
    private var heartbeat: WorkerThread?

    private func startHeartbeat(_ queue: WorkQueue) {
        heartbeat = WorkerThread(name: "heartbeat") { [self] in
            let every = options.lease / 3
            while true {
                let stop: Bool = state.withLock {
                    if !stopping { _ = state.wait(1, seconds: every) }
                    return stopping
                }
                if stop { return }
                let sent = MonotonicClock.nanos()
                do {
                    try queue.heartbeat(worker: options.worker, lease: options.lease, ids: state.withLock { Array(held) })
                    state.withLock {
                        let fence = UInt64(self.fence * 1e9)
                        if sent &- lastRenewalSent >= fence { lapsedBefore = max(lapsedBefore, sent &- fence) }
                        lastRenewalSent = sent
                        renewalFailures = 0
                    }
                } catch {
                    let n: Int = state.withLock { renewalFailures += 1; return renewalFailures }
                    log.warn("cannot renew the leases of worker \(options.worker): \(error)",
                             ["queue": .string(options.queue), "failures": .int(Int64(n))])
                }
            }
        }
    }

    /// Whether `claim`'s lease is surely still ours (see the fence above). The margin leaves
    /// time for the final step to land before anyone else could claim the task.
    public func holds(_ claim: WorkQueue.Claim) -> Bool {
        let (last, lapsed) = state.withLock { (lastRenewalSent, lapsedBefore) }
        if claim.claimedAt < lapsed { return false }
        let age = Double(MonotonicClock.nanos() &- max(last, claim.claimedAt)) / 1e9
        return age < fence
    }

    /// Seconds after its last renewal (or its claim) that a lease no longer surely holds:
    /// the lease less a sixth, the time the final step needs to land.
    private var fence: Double { options.lease * 5 / 6 }

    /// The next claimed task, claiming a batch when none is buffered; waits while the
    /// queue has tasks that are not claimable yet (leased by others, waiting out a
    /// failure). Nil when the queue is drained (nothing pending or leased anywhere) unless
    /// following, or when stopped. `room` caps the batch (the tool's free slots).
    public func next(room: Int) throws -> WorkQueue.Claim? {
        var wait = 0.05
        while true {
            let ready: WorkQueue.Claim?? = state.withLock {
                if stopping { return .some(nil) }
                return buffered.isEmpty ? nil : .some(buffered.removeFirst())
            }
            if let ready { return ready }
            // Stopping is checked again under the connection's lock: a claim after `close`
            // gave everything back would hold tasks no one works on until the lease runs out.
            let claimed: [WorkQueue.Claim] = try connection.withLock {
                if state.withLock({ stopping }) { return [] }
                return try claims.claim(worker: options.worker, limit: max(1, min(room, options.batch)),
                                        lease: options.lease, maxAttempts: options.maxAttempts)
            }
            if claimed.isEmpty && state.withLock({ stopping }) { return nil }
            if !claimed.isEmpty {
                // Their leases run from the claim (`claimedAt`): the fence counts from there.
                state.withLock {
                    buffered += claimed
                    for c in claimed { held.insert(c.id) }
                }
                wait = 0.05
                continue
            }
            if !options.follow {
                let open = try connection.withLock { try claims.open() }
                if open.pending == 0 && open.leased == 0 { return nil }
            }
            // Nothing claimable now: wait for tasks to be announced (enqueued or put back:
            // claimed at once), or look again soon, less often the longer it stays so (tasks
            // whose backoff or lease runs out are announced by no one). In slices, so a stop
            // is seen within a fifth of a second.
            var waited = 0.0, announced = false
            while waited < wait && !announced {
                if state.withLock({ stopping }) { return nil }
                let slice = min(0.2, wait - waited)
                announced = try connection.withLock { try claims.waitForTasks(seconds: slice) }
                waited += slice
            }
            if state.withLock({ stopping }) { return nil }
            wait = announced ? 0.05 : min(wait * 2, options.maxPoll)
        }
    }

    /// The tool settled these tasks (done, failed, back in the queue): no longer renewed.
    public func forget(_ ids: [Int64]) {
        state.withLock { for id in ids { held.remove(id) } }
    }

    /// Fails a claimed task that cannot be run (its record is not a task); call from the
    /// thread that calls `next()`.
    public func reject(_ claim: WorkQueue.Claim, code: FailureCode, message: String) throws {
        _ = try connection.withLock { try claims.fail(worker: options.worker, id: claim.id, code: code.rawValue, message: message) }
        forget([claim.id])
    }

    /// Wakes `next()` and the heartbeat; call from any thread.
    public func stop() {
        state.withLock {
            stopping = true
            state.broadcast(0)
            state.broadcast(1)
        }
    }

    /// Ends the session: the heartbeat stops, and every task still held goes back to the
    /// queue at once (not after its lease) with its claim uncounted.
    public func close() {
        stop()
        heartbeat?.join()
        // The claiming thread may still be in `next()` (it is not joined): the lock keeps
        // the two off the connection at once (libpq's rule), for a fifth of a second at most.
        do { try connection.withLock { try claims.unregister(worker: options.worker) } } catch {
            log.warn("cannot give back the tasks of worker \(options.worker): they return to the queue when their lease runs out (\(error))",
                     ["queue": .string(options.queue)])
        }
    }
}
