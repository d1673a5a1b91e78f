import ArcCore

/// Runs arc-check or arc-convert over a stream of archives: the input is read on the
/// calling thread while `jobs` workers each take one archive at a time, so the first
/// archives are checked (and converted) while later ones are still being downloaded
/// upstream. One record per archive goes to stdout as each finishes.
final class SilverRunner: @unchecked Sendable { // `summary` is guarded by `lock`; the rest is set in init
    let options: SilverOptions
    let log: Logger
    let output: BufferedOutput
    let quality: QualityLedger?
    let silver: SilverLedger?
    let stop: StopSignal
    /// Set for a queue worker (arc-convert --queue).
    let queue: SilverQueue?
    private let lock = Lock()
    private var summary = SilverSummary()
    private let s3 = Locked<S3Client?>(nil)
    private let engine = Locked<TransferEngine?>(nil)
    /// stdout's reader went away: nothing more is worth doing.
    private let outputClosed = Locked(false)

    /// Whether to stop taking new archives.
    var stopping: Bool { stop.requested || outputClosed.current }

    init(options: SilverOptions, state: (any StateBackend)?, log: Logger, output: BufferedOutput, stop: StopSignal,
         queue: SilverQueue? = nil) {
        self.options = options
        self.queue = queue
        self.log = log
        self.output = output
        self.stop = stop
        // Both ledgers use one connection, from every worker: under one lock.
        let stateLock = Lock()
        quality = state.map { QualityLedger($0, lock: stateLock) }
        silver = state.map { SilverLedger($0, lock: stateLock) }
    }

    enum Job {
        case archive(ArchiveItem)
        /// An archive a queue worker claimed.
        case claimed(ArchiveItem, WorkQueue.Claim)
        case passThrough(Record)
        case month(MonthJob)
    }

    /// Reads every input, runs every archive, and returns how it went.
    func run(arguments: [String], input: RecordInput?) throws -> SilverSummary {
        let queue = BlockingQueue<Job>(capacity: options.jobs * 2)
        var workers: [WorkerThread] = []
        for n in 0..<options.jobs {
            workers.append(WorkerThread(name: "silver-\(n)") { [self] in
                while let job = queue.take() {
                    if stopping { continue }
                    handle(job)
                }
            })
        }
        defer {
            queue.close()
            for w in workers { w.join() }
            engine.current?.finishWhenIdle()
            engine.current?.wait()
        }
        // With --merge month, daily archives wait until the input ends: a month is made
        // once, from all of its days.
        var months = options.mergeMonth ? MonthGrouping(runner: self) : nil
        func submit(_ job: Job) throws {
            if case .archive(let item) = job, months != nil, try months!.add(item) { return }
            _ = queue.put(job)
        }
        for argument in arguments where !stopping {
            try submit(.archive(try ArchiveItem(argument: argument, source: options.source)))
        }
        if let input {
            while !stopping, let (record, line) = try input.next() {
                let job = try input.decode(record, line: line) { record -> Job in
                    let origin = "\(input.currentName):\(line)"
                    if let item = try ArchiveItem(record: record, origin: origin, source: options.source) { return .archive(item) }
                    return .passThrough(record)
                }
                if let job { try submit(job) }
            }
        }
        if let claims = self.queue { try claim(from: claims, into: submit) }
        if let months {
            for job in try months.jobs() where !stopping { _ = queue.put(.month(job)) }
        }
        queue.close()
        for w in workers { w.join() }
        if outputClosed.current { throw BrokenPipeError() }
        try output.flush()
        return lock.withLock { summary }
    }

    /// A queue worker's input: claimed tasks, until the queue is drained (or the run stops).
    /// A task that is not an archive record fails for good: it will not mend.
    private func claim(from queue: SilverQueue, into submit: (Job) throws -> Void) throws {
        stop.onStop { _ in queue.worker.stop() }
        while !stopping, let claim = try queue.worker.next(room: options.jobs) {
            let origin = "queue \(queue.name) task \(claim.id)"
            do {
                let record = try Record(parsing: claim.task)
                guard let item = try ArchiveItem(record: record, origin: origin, source: options.source) else {
                    // Passed through, as on stdin (a failed download's result): done.
                    let settled = try queue.settle(claim, ArchiveJob.Outcome(line: []))
                    lock.withLock { summary.passedThrough += 1 }
                    emit(queue.annotate(record.bytes + [UInt8(ascii: "\n")], claim, settled: settled))
                    continue
                }
                try submit(.claimed(item, claim))
            } catch where error is FieldError || error is JSONSyntaxError {
                try reject(claim, from: queue, origin: origin, error)
            }
        }
    }

    /// A claimed task that is no archive record: failed for good, counted as a bad line.
    private func reject(_ claim: WorkQueue.Claim, from queue: SilverQueue, origin: String, _ error: Error) throws {
        log.error("\(origin): \(error)", ["queue": .string(queue.name)])
        try queue.worker.reject(claim, code: .badRecord, message: "\(error)")
        count { $0.errors += 1 }
    }

    private func handle(_ job: Job) {
        switch job {
        case .claimed(let item, let claim):
            lock.withLock { summary.read += 1 }
            let outcome = ArchiveJob(item: item, runner: self).outcome()
            guard let queue else { return emit(outcome.line) }
            do {
                let settled = try queue.settle(claim, outcome)
                emit(queue.annotate(outcome.line, claim, settled: settled))
            } catch {
                // The task stays leased and returns to the queue when its lease runs out.
                log.error("cannot settle queue task \(claim.id): \(error)", ["queue": .string(queue.name)])
                emit(outcome.line)
            }
        case .passThrough(let record):
            lock.withLock { summary.passedThrough += 1 }
            emit(record.bytes + [UInt8(ascii: "\n")])
        case .archive(let item):
            lock.withLock { summary.read += 1 }
            let line = ArchiveJob(item: item, runner: self).run()
            emit(line)
        case .month(let job):
            for line in job.run() { emit(line) }
        }
    }

    private func emit(_ line: [UInt8]) {
        do {
            try output.write(line)
            try output.flush()
        } catch {
            log.debug("output closed: \(error)")
            outputClosed.withLock { $0 = true }
        }
    }

    func count(_ update: (inout SilverSummary) -> Void) { lock.withLock { update(&summary) } }

    /// The S3 client for s3:// archives and destinations, made on first use.
    func s3Client() throws -> S3Client {
        try s3.withLock { client in
            if let client { return client }
            let e = TransferEngine(TransferConfiguration(maxConcurrent: options.jobs * 4, maxConnections: options.jobs * 4 + 4,
                                                         connectTimeout: 10, stallTimeout: 60,
                                                         userAgent: "arc-silver/\(Tool.version)", bufferSize: 256 * 1024))
            e.onRetry = { [log] in log.log(.warn, $0.message, fields: $0.logFields) }
            e.start()
            engine.withLock { $0 = e }
            let made = try S3Client.fromEnvironment(engine: e, retry: RetryPolicy(maxAttempts: 5, baseDelay: 0.5))
            client = made
            return made
        }
    }
}
