import Glibc
import ArcCore

public struct CollectOptions: Sendable {
    public var jobs = 16
    public var retry = RetryPolicy(retryForbidden: true)
    public var dryRun = false
    public var failFast = false
    public var requireChecksum = false
    public var stallTimeout = 30.0
    public var connectTimeout = 10.0
    /// Requests a second per host (`--rate`; HostRateLimits.forTool).
    public var hostRates = HostRateLimits.forTool(rate: nil)
    /// Threads that verify, fsync and rename finished downloads, so a slow disk never
    /// stalls the network loop.
    public var finishers = 4

    public init() {}
}

/// What a run did, for the summary line and the exit status.
public struct CollectSummary: Sendable {
    public var read = 0
    public var ok = 0
    public var skipped = 0
    public var failed = 0
    /// Failures because no connection could be made at all (a dead or unknown host).
    public var unreachable = 0
    public var interrupted = 0
    /// Queue workers: tasks that failed for now, back in the queue for any worker to retry.
    public var requeued = 0
    /// Every task has been read: `read` is the total, and an ETA can be given.
    public var inputComplete = false
    public var bytes: Int64 = 0
    public var seconds = 0.0
}

/// Runs tasks: download (CHECKSUM and archive at once, streaming into a hashing sink),
/// verify, fsync, rename, record in the ledger, write the result. Tasks are read as a
/// stream and at most `jobs` are in flight, so memory does not grow with the input.
///
/// Threads: a reader (stdin -> transfers), the transfer engine's loop, a few finishers
/// (verification and safe writes) and one writer (ledger transaction, then result records).
/// Each job is confined to one of them at a time (see `CollectJob`); what they share is
/// behind `lock` or `state`, as the fields say.
public final class Collector: @unchecked Sendable { // shared fields are guarded by `lock` or `state`
    let options: CollectOptions
    private let ledger: Ledger?
    /// Set for a queue worker: where tasks come from, and how their results settle.
    private let queue: CollectQueue?
    private let output: BufferedOutput
    let log: Logger
    public let engine: TransferEngine
    /// Spans per task (under the run's span) and the run's metrics.
    let telemetry: Telemetry

    private let slots: Slots
    private let finishQueue = BlockingQueue<CollectJob>()
    private let resultQueue = BlockingQueue<CollectJob>()
    /// Guards the fields under "Guarded by lock", and each job's `ended`.
    private let lock = Lock()
    /// Guards the run's progress below; `run` waits on it for the last job.
    private let state = ConditionLock()
    // Guarded by state:
    private var activeJobs = 0
    private var readerDone = false
    private var stopping = false
    private var firstError: Error?
    // Guarded by lock:
    private var summary = CollectSummary()
    private var madeDirectories = Set<String>()
    /// Destinations with a job in flight, each with the tasks for the same path waiting
    /// their turn (an archive listed twice, or two a layout puts at one path): two jobs
    /// must never write one partial file. Bounded by the jobs admitted, so by -j.
    private var busyDestinations: [String: [CollectTask]] = [:]
    /// The client for s3:// destinations, made on the first such task (from the AWS
    /// environment: credentials chain, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, region).
    var s3: S3Setup {
        lock.withLock {
            if let s3Setup { return s3Setup }
            do { s3Setup = .ready(try S3Client.fromEnvironment(engine: engine, retry: options.retry)) } catch {
                s3Setup = .failed(error as? ArcError ?? UnavailableError("S3", "\(error)"))
            }
            return s3Setup!
        }
    }
    private var s3Setup: S3Setup?

    enum S3Setup {
        case ready(S3Client)
        case failed(ArcError)
    }

    init(options: CollectOptions, ledger: Ledger?, queue: CollectQueue? = nil, output: BufferedOutput, log: Logger,
         telemetry: Telemetry) {
        self.options = options
        self.queue = queue
        self.telemetry = telemetry
        self.ledger = ledger
        self.output = output
        self.log = log
        slots = Slots(options.jobs)
        var configuration = TransferConfiguration(
            maxConcurrent: options.jobs * 2, maxConnections: options.jobs * 2 + 8,
            connectTimeout: options.connectTimeout, stallTimeout: options.stallTimeout)
        configuration.hostRates = options.hostRates
        engine = TransferEngine(configuration)
        // A retry may still succeed: a warning (the S3 client's requests; a task's own
        // transfers name its span). A task that fails for good is an error (writeResults).
        engine.onRetry = { [log] in log.log(.warn, $0.message, fields: $0.logFields) }
        declareMetrics()
    }

    public var progress: CollectSummary {
        let complete = withState { readerDone }
        var s = lock.withLock { summary }
        s.inputComplete = complete
        return s
    }

    /// Stops taking tasks and abandons the transfers in flight (their partial files stay
    /// for the next run to resume). Safe to call from any thread, more than once.
    public func stop() {
        let first: Bool = withState {
            defer {
                stopping = true
                state.broadcast() // run() may be waiting only for the reader
            }
            return !stopping
        }
        guard first else { return }
        slots.cancel()
        queue?.worker.stop()
        engine.cancelAll()
    }

    /// Runs every task from `input` (or, for a queue worker, from the queue until it is
    /// drained); returns when all are done or the run was stopped.
    func run(_ input: RecordInput?) throws -> CollectSummary {
        let started = MonotonicClock.nanos()
        engine.start()
        let finishers = (0..<options.finishers).map { n in
            WorkerThread(name: "finish-\(n)") { [self] in
                while let job = finishQueue.take() { finish(job) }
            }
        }
        let writer = WorkerThread(name: "writer") { [self] in writeResults() }
        // The reader may block in read(2) on a quiet pipe after a stop: it is not joined.
        if let input {
            WorkerThread(name: "reader") { [self] in readTasks(input) }.detach()
        } else {
            WorkerThread(name: "claimer") { [self] in claimTasks() }.detach()
        }

        withState {
            while !(activeJobs == 0 && (readerDone || stopping)) { state.wait() }
        }
        engine.finishWhenIdle()
        engine.wait()
        finishQueue.close()
        finishers.forEach { $0.join() }
        resultQueue.close()
        writer.join()
        if let error = withState({ firstError }) { throw error }
        return lock.withLock {
            summary.seconds = Double(MonotonicClock.nanos() - started) / 1e9
            return summary
        }
    }

    private func withState<T>(_ body: () -> T) -> T { state.withLock(body) }

    /// Records a fatal error (bad input in --strict mode, a broken output pipe) and stops.
    private func abort(_ error: Error) {
        withState { if firstError == nil { firstError = error } }
        stop()
    }

    // MARK: reading tasks

    private func readTasks(_ input: RecordInput) {
        defer {
            withState {
                readerDone = true
                state.broadcast()
            }
        }
        do {
            while let (record, line) = try input.next() {
                guard let task = try input.decode(record, line: line, { try CollectTask($0, line: line) }) else { continue }
                guard slots.acquire(), enter(task) else { return }
            }
        } catch {
            abort(error)
        }
    }

    /// Counts `task` in and starts it (holding a slot); false once the run is stopping.
    private func enter(_ task: CollectTask) -> Bool {
        let admitted: Bool = withState {
            if stopping { return false }
            activeJobs += 1
            return true
        }
        guard admitted else { return false }
        lock.withLock { summary.read += 1 }
        admit(task)
        return true
    }

    /// A queue worker's reader: claims tasks as slots free up, until the queue is drained.
    /// A claimed record that is not a task fails for good in the queue (it will not mend).
    private func claimTasks() {
        guard let queue else { return }
        defer {
            withState {
                readerDone = true
                state.broadcast()
            }
        }
        do {
            while slots.acquire() {
                guard let claim = try queue.worker.next(room: slots.free + 1) else {
                    slots.release()
                    return
                }
                var task: CollectTask
                do {
                    task = try CollectTask(try Record(parsing: claim.task), line: claim.attempt)
                } catch {
                    slots.release()
                    log.error("queue \(queue.name) task \(claim.id) is not a task: \(error)", ["queue": .string(queue.name)])
                    try queue.worker.reject(claim, code: .badRecord, message: "\(error)")
                    continue
                }
                task.claim = claim
                guard enter(task) else { return slots.release() }
            }
        } catch {
            abort(error)
        }
    }

    /// Whether a result may be made final (a rename, an upload completed): for a queue
    /// worker, only while its lease on the task surely holds (see `QueueWorker.holds`).
    func mayStore(_ job: CollectJob) -> Bool {
        guard let queue, let claim = job.task.claim, !queue.worker.holds(claim) else { return true }
        log.log(.warn, "leases not renewed in time: not storing \(job.task.dest), another worker may hold the task",
                fields: [("queue", .string(queue.name))] + spanField(job))
        return false
    }

    /// The outcome of a job stopped short by `mayStore`.
    static var leaseLost: CollectOutcome {
        var o = CollectOutcome.failed(.leaseLost, "the queue lease could not be renewed in time; the task is left to the queue")
        o.recordInLedger = false
        return o
    }

    /// Starts `task` unless a job for its destination is in flight; then it waits for it.
    private func admit(_ task: CollectTask) {
        let free: Bool = lock.withLock {
            if busyDestinations[task.dest] != nil {
                busyDestinations[task.dest]!.append(task)
                return false
            }
            busyDestinations[task.dest] = []
            return true
        }
        if free { start(task) }
    }

    /// The job for `dest` is recorded: start the next task waiting for that path, if any.
    /// It finds the file in place and verifies it rather than fetching it again.
    private func destinationDone(_ dest: String) {
        let next: CollectTask? = lock.withLock {
            guard var waiting = busyDestinations[dest], !waiting.isEmpty else {
                busyDestinations[dest] = nil
                return nil
            }
            let next = waiting.removeFirst()
            busyDestinations[dest] = waiting
            return next
        }
        if let next { start(next) }
    }

    private func start(_ task: CollectTask) {
        if options.dryRun {
            let job = CollectJob(task: task, phase: .download)
            var outcome = CollectOutcome(status: .skipped)
            outcome.recordInLedger = false
            job.outcome = outcome
            resultQueue.put(job)
            return
        }
        if options.requireChecksum && !task.checksum.kind.isHash {
            return complete(CollectJob(task: task, phase: .download),
                            .failed(.checksumMissing, "checksum kind \(task.checksum.kind.rawValue): no hash to verify "
                                    + "(no checksum_url, nothing stronger than a size) and --require-checksum is set"))
        }
        if let url = task.s3Dest { return startS3(task, url) }
        let directory = FileSystem.parent(of: task.dest)
        do {
            if !lock.withLock({ madeDirectories.contains(directory) }) {
                try FileSystem.makeDirectories(directory)
                lock.withLock { _ = madeDirectories.insert(directory) }
            }
        } catch {
            let e = error as? ArcError
            return complete(CollectJob(task: task, phase: .download), .failed(e?.code ?? .ioError, "\(error)"))
        }
        // A file already at dest with the listed size (a lost ledger, a copied tree) is
        // verified in place instead of downloaded again; --force asks for a fresh copy.
        if task.reason != PlanReason.forced.rawValue, let size = task.size, FileSystem.size(task.dest) == size {
            let job = CollectJob(task: task, phase: .checkExisting)
            if !task.checksum.kind.isHash {
                var outcome = CollectOutcome(status: .skipped)
                outcome.bytes = size
                return complete(job, outcome)
            }
            job.pending = 1
            // A sidecar first; a hash given inline is checked on a finisher thread at once.
            if task.checksumURL != nil { fetchChecksum(job) } else { partDone(job) }
            return
        }
        let job = CollectJob(task: task, phase: .download)
        job.pending = task.checksumURL == nil ? 1 : 2
        if task.checksumURL != nil { fetchChecksum(job) }
        fetchArchive(job)
    }

    func fetchChecksum(_ job: CollectJob) {
        let sink = MemorySink(limit: 4096)
        let request = TransferRequest(url: job.task.checksumURL!, retry: retryPolicy(spent: job.checksumAttempts))
        let transfer = Transfer(request, sink: sink) { [self] result, attempts in
            job.checksum = result.map { _ in sink.bytes }
            job.checksumAttempts += attempts
            partDone(job)
        }
        transfer.onRetry = retryNotices(job)
        engine.submit(transfer)
    }

    private func fetchArchive(_ job: CollectJob) {
        let digest = ArchiveDigest(for: job.task.checksum.kind)
        let sink = FileSink(path: job.task.partialPath, expectedSize: job.task.size, digest: digest)
        job.sink = sink
        job.digest = digest
        submitArchive(job, TransferRequest(url: job.task.url, ifRange: job.task.etag,
                                           retry: retryPolicy(spent: job.archiveAttempts)), sink)
    }

    /// Fetches the archive into `sink`; its attempts count for the task.
    func submitArchive(_ job: CollectJob, _ request: TransferRequest, _ sink: TransferSink) {
        let transfer = Transfer(request, sink: sink) { [self] result, attempts in
            job.download = result
            job.attempts += attempts
            job.archiveAttempts += attempts
            partDone(job)
        }
        transfer.onRetry = retryNotices(job)
        engine.submit(transfer)
    }

    /// --retries for a request of which `spent` attempts were made in earlier rounds.
    func retryPolicy(spent: Int) -> RetryPolicy {
        var policy = options.retry
        policy.maxAttempts = max(1, policy.maxAttempts - spent)
        return policy
    }

    /// A warning for each retry of one of `job`'s requests, naming the task's span.
    func retryNotices(_ job: CollectJob) -> @Sendable (RetryNotice) -> Void {
        { [self] notice in log.log(.warn, notice.message, fields: notice.logFields + spanField(job)) }
    }

    /// On the engine thread: when the last transfer of a job is done, hand it on. (After a
    /// stop the engine may have ended and the finishers with it: the job is interrupted.)
    func partDone(_ job: CollectJob) {
        job.pending -= 1
        if job.pending == 0 && !finishQueue.put(job) { interrupted(job) }
    }

    func complete(_ job: CollectJob, _ outcome: CollectOutcome) {
        // A job ends once, whichever thread ends it first. A second ending (a stop racing
        // a transfer's last callback) must not rewrite an outcome the writer may be
        // recording: the ledger would say ok while the result record said interrupted (seen
        // once in test_sigint_mid_run_stops_cleanly_and_rerun_completes).
        let first: Bool = lock.withLock {
            defer { job.ended = true }
            return !job.ended
        }
        guard first else {
            log.debug("a task ended twice; the first outcome stands", ["dest": .string(job.task.dest),
                      "second": .string(outcome.error?.code.rawValue ?? outcome.status.rawValue)])
            return
        }
        var outcome = outcome
        job.finished = MonotonicClock.nanos()
        outcome.durationMillis = Int64((job.finished - job.started) / 1_000_000)
        if outcome.attempts == 0 { outcome.attempts = job.attempts }
        job.outcome = outcome
        resultQueue.put(job)
    }

    // MARK: verification and safe writes (finisher threads)

    private func finish(_ job: CollectJob) {
        let task = job.task

        // The expected hash, if the task's checksum has one: from its sidecar, or given inline.
        let kind = task.checksum.kind
        var expected = task.checksum.value
        switch job.checksum {
        case .success(let body)?:
            do { expected = try ChecksumFile.parse(body, url: task.checksumURL!, kind: kind) } catch {
                // Most likely a bad copy too: the CHECKSUM alone is fetched again.
                switch fetchAgain(job, seen: "bad CHECKSUM " + SHA256.hex(body), checksumOnly: true,
                                  why: "the CHECKSUM file is not a checksum; fetching it again",
                                  fields: [("checksum_url", .string(task.checksumURL!))]) {
                case .started: return
                case .stopped: return interrupted(job)
                case .confirmed, .exhausted:
                    job.sink?.discard()
                    return complete(job, .failed(.badChecksumFile, "\(error)"))
                }
            }
        case .failure(let error)?:
            if case .cancelled = error { return interrupted(job) }
            if case .failure(let e)? = job.download, case .cancelled = e { return interrupted(job) }
            job.sink?.discard()
            if case .http(404, _, _) = error {
                return complete(job, .failed(.checksumMissing, "no CHECKSUM file at \(task.checksumURL!) (HTTP 404)"))
            }
            return complete(job, .failed(error.code, "CHECKSUM: \(error)"))
        case nil:
            break
        }

        if job.phase == .checkExisting { return checkExisting(job, expected: expected) }
        if job.task.s3Dest != nil { return storeInS3(job, expected: expected) }

        switch job.download {
        case .failure(let error)?:
            if case .cancelled = error { return interrupted(job) }
            // A cut connection leaves a partial file worth resuming; an error answer does not.
            if case .network = error, let sink = job.sink, sink.written > 0 { sink.keepPartial() } else { job.sink?.discard() }
            return complete(job, .failed(error.code, error.description))
        case .success?:
            let sink = job.sink!
            let hashes = job.digest!.hashes()
            job.digest = nil
            if let expected, let digest = hashes.compared(kind), digest != expected {
                sink.discard()
                job.sink = nil
                let resumed = sink.resumedBytes > 0
                let verdict = fetchAgain(job, seen: digest + " " + expected, resumed: resumed,
                                         why: "checksum mismatch" + (resumed ? " after resuming" : "")
                                            + "; downloading the archive" + (task.checksumURL != nil ? " and its CHECKSUM" : "")
                                            + " again from byte 0",
                                         fields: mismatchFields(kind, digest, expected))
                switch verdict {
                case .started: return
                case .stopped: return interrupted(job)
                case .confirmed, .exhausted:
                    var outcome = mismatch(job, hashes, expected, verdict)
                    outcome.bytes = sink.written
                    return complete(job, outcome)
                }
            }
            if expected == nil, let size = task.size, sink.written != size {
                sink.discard()
                return complete(job, sizeMismatch(task, received: sink.written))
            }
            if let outcome = emptyArchive(task, hashes: hashes, bytes: sink.written, verified: expected != nil,
                                          holdsNothing: { EmptyGzip.fileHoldsNothing(sink.path) }) {
                sink.discard()
                return complete(job, outcome)
            }
            // Verified: the writer makes it durable and renames it into place, with the
            // rest of its batch (GroupCommit.swift), before the ledger hears of it.
            job.sink = nil
            job.staged = sink
            if sink.resumedBytes > 0 {
                log.debug("resumed a partial download", ["dest": .string(task.dest), "resumed_bytes": .int(sink.resumedBytes)])
            }
            var outcome = CollectOutcome(status: .ok)
            outcome.bytes = sink.written
            outcome.sha256 = hashes.sha256
            outcome.verified = expected != nil
            complete(job, outcome)
        case nil:
            complete(job, .failed(.internalError, "no download result"))
        }
    }

    private func checkExisting(_ job: CollectJob, expected: String?) {
        let task = job.task
        do {
            let hashes = try ArchiveDigest.ofFile(task.dest, kind: task.checksum.kind)
            if let expected, hashes.compared(task.checksum.kind) == expected {
                var outcome = CollectOutcome(status: .skipped)
                outcome.bytes = task.size ?? 0
                outcome.sha256 = hashes.sha256
                outcome.verified = true
                return complete(job, outcome)
            }
        } catch {
            log.debug("cannot read existing file; downloading it", ["dest": .string(task.dest)])
        }
        // Not the right bytes: download it, replacing the file atomically when verified.
        job.phase = .download
        job.pending = 1
        fetchArchive(job)
    }

    // MARK: bad copies

    /// What follows a download that did not verify.
    enum Refetch {
        /// Another round is under way.
        case started
        /// The same thing came twice: the file upstream is so, not a bad copy of it.
        case confirmed
        /// No attempts are left under --retries.
        case exhausted
        /// The run is stopping.
        case stopped
    }

    /// A download whose SHA-256 does not match the CHECKSUM (or a CHECKSUM file that is not
    /// one) is most often a bad copy on the way, damaged by a proxy or a CDN edge, not a bad
    /// file upstream. So the archive and its CHECKSUM are fetched again from byte 0 (only the
    /// CHECKSUM, with `checksumOnly`), within the attempts --retries allows each request in
    /// all rounds together. It is final when a round brings what an earlier one did (`seen`:
    /// the same wrong hash against the same CHECKSUM), or when no attempts are left.
    func fetchAgain(_ job: CollectJob, seen: String, checksumOnly: Bool = false, resumed: Bool = false,
                    why: String, fields: [(String, LogValue)]) -> Refetch {
        if job.badCopies.contains(seen) {
            job.badCopies.append(seen)
            return .confirmed
        }
        job.badCopies.append(seen)
        if withState({ stopping }) { return .stopped }
        let task = job.task
        let limit = options.retry.maxAttempts
        let archiveToo = !checksumOnly && job.phase == .download
        var left = (task.checksumURL == nil || job.checksumAttempts < limit) && (!archiveToo || job.archiveAttempts < limit)
        // Resumed bytes may be another version's: a fresh download is due, attempts or not.
        if !left && resumed && !job.refetched { left = true }
        guard left else { return .exhausted }
        if resumed { job.refetched = true }
        log.log(.warn, why, fields: [("url", .string(task.url)), ("code", .string(checksumOnly ? "bad_checksum_file" : "checksum_mismatch")),
                                     ("bad_copies", .int(Int64(job.badCopies.count)))] + fields + spanField(job))
        // A large archive for S3 is fetched in parts once its CHECKSUM is in (storeInS3).
        let archiveNow = archiveToo && !(task.s3Dest != nil && goesInParts(task))
        job.checksum = nil
        if archiveToo {
            job.download = nil
            job.memory = nil
        }
        job.pending = (task.checksumURL != nil ? 1 : 0) + (archiveNow ? 1 : 0)
        if task.checksumURL != nil { fetchChecksum(job) }
        if archiveNow {
            if task.s3Dest != nil { fetchArchiveToMemory(job) } else { fetchArchive(job) }
        } else if archiveToo && job.pending == 0 {
            // A large archive for S3 with its hash given inline (no sidecar to wait for):
            // straight to a new upload.
            finishQueueS3(job)
        }
        return .started
    }

    /// The failure of a download that did not match its checksum, for good. The message
    /// names the kind checked: `MD5 mismatch: expected X, got Y (etag-md5), ...`.
    func mismatch(_ job: CollectJob, _ hashes: ArchiveHashes, _ expected: String, _ verdict: Refetch,
                  _ more: String = "") -> CollectOutcome {
        let kind = job.task.checksum.kind
        let origin = kind.origin(sidecar: job.task.checksumURL != nil)
        let digest = hashes.compared(kind) ?? hashes.sha256
        let why = verdict == .confirmed
            ? "the same in two downloads: the archive upstream does not match its \(origin)"
            : "\(job.badCopies.count) downloads, no two alike, and no attempts left (--retries)"
        let what = kind == .sha256 && origin == "CHECKSUM"
            ? "SHA-256 \(digest) does not match CHECKSUM \(expected) (sha256)"
            : "\(kind.algorithmName) mismatch: expected \(expected), got \(digest) (\(kind.rawValue), from the \(origin))"
        var outcome = CollectOutcome.failed(.checksumMismatch, what + ", " + why + more)
        outcome.sha256 = hashes.sha256
        return outcome
    }

    /// The log fields of a mismatch: what was got, what was expected, by which kind.
    func mismatchFields(_ kind: ArchiveChecksum.Kind, _ digest: String, _ expected: String) -> [(String, LogValue)] {
        [(kind == .sha256 ? "sha256" : "md5", .string(digest)), ("expected", .string(expected)),
         ("verification", .string(kind.rawValue))]
    }

    /// The failure of an archive whose byte count is not its listed size.
    func sizeMismatch(_ task: CollectTask, received: Int64) -> CollectOutcome {
        .failed(.sizeMismatch, "size mismatch: received \(received) bytes, the listing says \(task.size ?? 0) (\(task.checksum.kind.rawValue))")
    }

    /// The failure of a `.gz` archive that verified but holds nothing (Bybit publishes some
    /// empty 44-byte gzips): not stored, so it never passes for data. Nil for any other.
    func emptyArchive(_ task: CollectTask, hashes: ArchiveHashes, bytes: Int64, verified: Bool,
                      holdsNothing: () -> Bool) -> CollectOutcome? {
        guard task.dest.hasSuffix(".gz") || task.url.hasSuffix(".gz"), bytes <= Int64(EmptyGzip.sizeLimit),
              holdsNothing() else { return nil }
        var outcome = CollectOutcome.failed(.emptyArchive, "empty archive: the gzip's \(bytes) bytes decompress to nothing "
                                            + "(as published upstream); not stored")
        outcome.bytes = bytes
        outcome.sha256 = hashes.sha256
        outcome.verified = verified
        return outcome
    }

    func interrupted(_ job: CollectJob) {
        job.sink?.keepPartial()
        var outcome = CollectOutcome.failed(.interrupted, "stopped before the transfer finished")
        outcome.recordInLedger = false
        complete(job, outcome)
    }

    // MARK: ledger and results (writer thread)

    private func writeResults() {
        var builder = RecordBuilder()
        while true {
            let batch = resultQueue.takeAll(max: 512)
            if batch.isEmpty { return }
            do {
                commitStaged(batch)
                try record(batch)
                for job in batch {
                    job.outcome!.encode(job.task, into: &builder, dryRun: options.dryRun,
                                        queue: queue.map { ($0.name, job.settlement ?? .lost) })
                    try output.write(builder.bytes)
                }
                try output.flush()
            } catch {
                abort(error)
            }
            var failedNow = false
            lock.withLock {
                for job in batch {
                    let o = job.outcome!
                    switch o.status {
                    case .ok: summary.ok += 1
                    case .skipped: summary.skipped += 1
                    case .failed:
                        // A task another worker holds now is theirs to do: not this one's failure.
                        if o.error?.code == .interrupted || o.error?.code == .leaseLost || job.settlement == .lost {
                            summary.interrupted += 1
                        }
                        else if job.settlement == .retry { summary.requeued += 1 } else {
                            summary.failed += 1
                            if o.error?.code == .connectionFailed { summary.unreachable += 1 }
                            failedNow = true
                        }
                    }
                    summary.bytes += o.status == .ok ? o.bytes : 0
                }
            }
            for job in batch {
                if let e = job.outcome?.error, e.code != .interrupted, e.code != .leaseLost {
                    // Final: the task failed for good in this run (retries were warnings),
                    // unless the queue gives it to a worker again.
                    let again = job.settlement == .retry, lost = job.settlement == .lost
                    log.log(again || lost ? .warn : .error,
                            (again ? "failed for now, back in the queue: " : lost ? "failed, and another worker holds the task now: " : "failed: ")
                                + e.message,
                            fields: [("url", .string(job.task.url)), ("code", .string(e.code.rawValue))] + spanField(job))
                }
                observe(job)
            }
            if failedNow && options.failFast { stop() }
            for job in batch { destinationDone(job.task.dest) }
            for _ in batch { slots.release() }
            withState {
                activeJobs -= batch.count
                state.broadcast()
            }
        }
    }

    /// The ledger learns of a batch only after its files are durable and in place
    /// (`commitStaged`): one transaction records all.
    private func record(_ batch: [CollectJob]) throws {
        guard let ledger else { return }
        let now = WallClock.now()
        try ledger.transaction {
            let tally = try queue?.settle(batch)
            // A task another worker holds now is theirs to record.
            var successes: [Ledger.Success] = []
            for job in batch where job.outcome!.recordInLedger && job.settlement != .lost {
                let o = job.outcome!
                if o.status == .failed {
                    try ledger.recordFailure(job.task.ledgerItem, code: o.error!.code, message: o.error!.message,
                                             attempts: o.attempts, at: now)
                } else {
                    successes.append(Ledger.Success(job.task.ledgerItem, sha256: o.sha256, verified: o.verified,
                                                    attempts: o.attempts))
                }
            }
            try ledger.recordSuccesses(successes, at: now)
            if let tally { try queue?.count(tally) }
        }
    }
}
