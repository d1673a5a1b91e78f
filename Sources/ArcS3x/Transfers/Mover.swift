import Glibc
import ArcCore

/// How objects move: part sizes, thresholds, what to set on uploads, when to skip.
public struct MoveOptions: Sendable {
    public var partSize: Int64 = 50 << 20
    public var partsInFlight = 5
    public var multipartThreshold: Int64 = 50 << 20
    public var copyThreshold: Int64 = 5 << 30
    public var contentType: String?
    /// Headers set on every upload and copy: Cache-Control, storage class, user metadata.
    public var headers: [(String, String)] = []
    public var verify = true
    public var noClobber = false
    public var ifSizeDiffer = false
    public var ifSourceNewer = false
    /// mv: delete each source once its copy is complete.
    public var deleteSource = false

    /// Part size for an object of `size` bytes: at least the configured size, grown so no
    /// object needs more than 10,000 parts.
    public func partSize(for size: Int64) -> Int64 {
        let minimum = (size + 9_999) / 10_000
        let mib: Int64 = 1 << 20
        return max(partSize, (minimum + mib - 1) / mib * mib)
    }
}

/// What happened to one object. `verified`: how the bytes were checked against what the
/// store vouches for (`md5`: its ETag; `crc32c`, `crc32`: the CRC it keeps), nil when
/// they were not (--no-verify, or an ETag that is no MD5 and no CRC kept).
public enum MoveOutcome: Sendable {
    case done(size: Int64, etag: String?, verified: String? = nil)
    case skipped(size: Int64)
    case failed(ArcError)
}

/// Moves objects concurrently on the shared engine: uploads, downloads and S3-to-S3 copies,
/// single requests for small objects and parts for large ones. The caller's thread blocks
/// in `acquire` once --numworkers objects are in flight, which keeps memory flat however
/// long the list of work is. Per-object work after the first request runs in completion
/// handlers on the engine thread; file commits (fsync, rename) run on finisher threads.
public final class Mover: Sendable {
    let context: S3xContext
    public let options: MoveOptions
    private let slots: Slots
    private let finishQueue = BlockingQueue<@Sendable () -> Void>()
    private let finishers: [WorkerThread]
    /// Objects started and not yet reported.
    private let inFlight = WaitGroup()

    init(context: S3xContext, options: MoveOptions) {
        self.context = context
        self.options = options
        slots = Slots(context.numWorkers)
        finishers = (0..<4).map { [finishQueue] i in
            WorkerThread(name: "finish-\(i)") { [finishQueue] in
                while let work = finishQueue.take() { work() }
            }
        }
        // A stop (Ctrl-C) also stops objects from starting: without this, each one still
        // waiting for a slot would start, fail at once as cancelled, and be reported so.
        context.onStop { [weak self] in self?.cancel() }
    }

    var client: S3Client { context.client }
    var sourceClient: S3Client { context.sourceClient }
    var output: EventOutput { context.output }

    // MARK: scheduling

    /// Starts `work` when a slot is free; `work` must call the completion it is given once.
    private func start(_ work: (@escaping @Sendable () -> Void) -> Void) {
        guard slots.acquire() else { return }
        inFlight.enter()
        work { [self] in
            slots.release()
            inFlight.leave()
        }
    }

    /// Runs blocking work (fsync, rename, reading a file to hash it) off the engine thread.
    func offload(_ work: @escaping @Sendable () -> Void) { finishQueue.put(work) }

    /// Waits until every object started has finished.
    public func waitAll() { inFlight.wait() }

    /// Stops taking work: waits for what runs, then ends the finisher threads.
    public func close() {
        waitAll()
        finishQueue.close()
        for f in finishers { f.join() }
    }

    /// Stops everything at once (a signal): objects waiting for a slot never start.
    public func cancel() { slots.cancel() }

    /// Moves one object: waits for a slot, answers a dry run, runs `work`, which calls its
    /// completion once with the outcome, then reports it (deleting the source of a
    /// completed mv with `deleteSource`) and frees the slot.
    func move(_ operation: String, source: String, destination: String, size: Int64,
              deleteSource: @escaping @Sendable () -> Void,
              work: @escaping (@escaping @Sendable (MoveOutcome) -> Void) -> Void) {
        start { [self] done in
            if context.dryRun {
                output.emit(operation, source: source, destination: destination, size: size, dryRun: true)
                return done()
            }
            let started = context.telemetry.isTracing ? WallClock.nowNanos() : 0
            work { outcome in
                self.report(operation, source: source, destination: destination, outcome, deleteSource: deleteSource)
                if started > 0 { self.recordSpan(operation, source: source, destination: destination, outcome, started) }
                done()
            }
        }
    }

    /// Reports an object's outcome as an event, and deletes the source of a completed mv.
    func report(_ operation: String, source: String, destination: String, _ outcome: MoveOutcome,
                deleteSource: (@Sendable () -> Void)? = nil) {
        switch outcome {
        case .done(let size, let etag, let verified):
            if options.deleteSource, let deleteSource { deleteSource() }
            output.emit(operation, source: source, destination: destination, size: size, etag: etag, verified: verified)
        case .skipped(let size):
            output.emit(operation, source: source, destination: destination, size: size, status: .skipped)
        case .failed(let error):
            output.emit(operation, source: source, destination: destination, status: .failed, error: error)
        }
    }

    /// `s3x.cp` (mv, sync...) span for one object: source, destination, bytes, status.
    private func recordSpan(_ operation: String, source: String, destination: String, _ outcome: MoveOutcome,
                            _ started: Int64) {
        let telemetry = context.telemetry
        var attributes: [(String, LogValue)] = [("source", .string(source)), ("destination", .string(destination))]
        var status = SpanStatus.ok
        var message: String?
        switch outcome {
        case .done(let size, _, _):
            attributes += [("bytes", .int(size)), ("status", "ok")]
        case .skipped(let size):
            attributes += [("bytes", .int(size)), ("status", "skipped")]
        case .failed(let error):
            attributes += [("status", "failed"), ("error.code", .string(error.code.rawValue))]
            status = .error
            message = error.description
        }
        let root = telemetry.root.context
        telemetry.tracer.record("s3x." + operation, context: root.child(), parentSpanID: root.spanID, startNanos: started,
                                endNanos: WallClock.nowNanos(), status: status, message: message, attributes: attributes)
    }

    // MARK: headers

    /// The headers an upload sends: content type, the options' headers, the mtime.
    func uploadHeaders(path: String?, mtime: Double?) -> [(String, String)] {
        var headers = options.headers
        if let type = options.contentType ?? path.flatMap(ContentType.guess) { headers.append(("Content-Type", type)) }
        if let mtime { headers.append(("x-amz-meta-mtime", HumanFormat.fixed(mtime, 3))) }
        return headers
    }
}

