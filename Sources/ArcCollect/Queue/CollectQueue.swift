import ArcCore

/// arc-collect as a queue worker (`--queue NAME`): tasks come from the queue instead of
/// stdin, and each result settles its task in the same transaction that records it in the
/// ledger, so a task is done exactly once however many workers come and go.
final class CollectQueue: @unchecked Sendable { // `worker` is thread-safe; `settler` is used by the writer thread only
    let worker: QueueWorker
    /// The queue over the ledger's connection: settling joins the ledger's transaction.
    private let settler: WorkQueue

    init(worker: QueueWorker, ledgerState: any StateBackend) throws {
        self.worker = worker
        settler = try WorkQueue(ledgerState, name: worker.options.queue)
    }

    var name: String { worker.options.queue }

    /// Settles a batch of finished jobs; call inside the ledger's transaction, and `count`
    /// what it returns last in it. Sets each job's `settlement`; only `done`, `failed` and
    /// `retry` jobs may be recorded.
    func settle(_ jobs: [CollectJob]) throws -> Tally {
        let me = worker.options.worker
        let doneIDs = jobs.filter { $0.outcome!.status != .failed }.compactMap { $0.task.claim?.id }
        let done = try settler.complete(worker: me, ids: doneIDs, counted: false)
        var tally = Tally(done: done.count)
        var released: [Int64] = []
        for job in jobs {
            guard let claim = job.task.claim else { continue }
            let outcome = job.outcome!
            guard let error = outcome.error, outcome.status == .failed else {
                job.settlement = done.contains(claim.id) ? .done : .lost
                continue
            }
            if error.code == .interrupted {
                released.append(claim.id)
                job.settlement = .released
            } else if error.code == .leaseLost {
                // Nothing was stored. Most often another worker holds it now and this is a
                // no-op; but when the lease had not quite run out and a late renewal kept
                // it, it must go back, or this worker would renew it without ever doing it.
                released.append(claim.id)
                job.settlement = .lost
            } else {
                job.settlement = try settler.settleFailure(worker: me, claim: claim, code: error.code.rawValue,
                                                           message: error.message, maxAttempts: worker.options.maxAttempts,
                                                           counted: false)
                if job.settlement == .failed { tally.failed += 1 }
            }
        }
        try settler.release(worker: me, ids: released)
        // Settled one way or another: the heartbeat renews them no more (a rolled-back
        // transaction stops the run, and the worker gives back what it holds on closing).
        worker.forget(jobs.compactMap { $0.task.claim?.id })
        return tally
    }

    /// Tasks a batch settled done and failed, for the worker's counts.
    struct Tally {
        var done = 0
        var failed = 0
    }

    /// Adds a settled batch to the worker's counts: the last statement of the ledger's
    /// transaction, because it locks the worker's row, which its claims update too.
    func count(_ tally: Tally) throws {
        try settler.count(worker: worker.options.worker, done: tally.done, failed: tally.failed)
    }
}

extension FailureCode {
    /// A queue worker could not renew its leases in time: another worker may hold the task
    /// now, so this one stopped short of storing it.
    public static let leaseLost = FailureCode("lease_lost")
}
