import Glibc

/// Sends items (spans, log lines) to an OTLP/HTTP endpoint in batches, on its own
/// thread: the work never waits for the collector. The queue is bounded; when it is full,
/// or a batch cannot be delivered (collector down, 4xx, 5xx), the items are dropped and
/// counted, and `shutdown` reports the count once. A collector that refuses connections
/// costs nothing; one that hangs delays only the exit, by at most the shutdown deadline.
public final class OTLPBatcher<Item: Sendable>: @unchecked Sendable { // the queue and counts are guarded by `state`
    public let url: String
    private let headers: [String]
    private let contentType: String
    private let compression: OTLPCompression
    private let timeout: Double
    private let encode: @Sendable ([Item]) -> [UInt8]
    private let what: String
    private let capacity: Int
    private let batchSize: Int
    /// Guards everything below; the sending thread waits on `wake`, shutdown on `idle`.
    private let state = ConditionLock(conditions: 2)
    private static var wake: Int { 0 }
    private static var idle: Int { 1 }
    private var queue: [Item] = []
    private var closing = false
    /// Shutdown gave up on a send still in progress: it no longer counts anything.
    private var closedOut = false
    /// Items of the batch being sent (0 when none is).
    private var sending = 0
    private var dropped = 0
    private var delivered = 0
    private var firstFailure: String?
    private var thread: WorkerThread?

    /// `what` names the items in the report ("spans", "log records"); `encode` writes a
    /// batch in the encoding `contentType` names, and `compression` says how it travels.
    public init(url: String, headers: [String], contentType: String, compression: OTLPCompression = .none, what: String,
                timeout: Double = 10, capacity: Int = 8192, batchSize: Int = 512,
                encode: @escaping @Sendable ([Item]) -> [UInt8]) {
        self.url = url
        self.contentType = contentType
        self.compression = compression
        self.timeout = timeout
        self.headers = headers
        self.what = what
        self.capacity = capacity
        self.batchSize = batchSize
        self.encode = encode
        thread = WorkerThread(name: "otlp") { [unowned self] in self.loop() }
    }

    public func add(_ item: Item) {
        state.withLock {
            if closing || queue.count >= capacity {
                dropped += 1
                return
            }
            queue.append(item)
            if queue.count >= batchSize { state.signal(Self.wake) }
        }
    }

    private func loop() {
        // This thread starts before a tool blocks SIGINT/SIGTERM for its signal thread;
        // left open, it could take a Ctrl-C meant for that thread and die of it.
        var signals = sigset_t()
        sigfillset(&signals)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        while let batch = nextBatch() {
            if batch.isEmpty { continue }
            let failure = send(batch)
            let givenUp: Bool = state.withLock {
                sending = 0
                if closedOut { return true }
                if let failure {
                    dropped += batch.count
                    if firstFailure == nil { firstFailure = failure }
                } else {
                    delivered += batch.count
                }
                state.broadcast(Self.idle)
                return false
            }
            if givenUp { break }
        }
        state.withLock { state.broadcast(Self.idle) }
    }

    /// The next batch to send, waiting up to a second for one; empty when none came, nil
    /// once closing with nothing left.
    private func nextBatch() -> [Item]? {
        state.withLock {
            if queue.isEmpty && !closing { state.wait(Self.wake, seconds: 1) }
            if queue.isEmpty { return closing ? nil : [] }
            let batch = Array(queue.prefix(batchSize))
            queue.removeFirst(batch.count)
            sending = batch.count
            return batch
        }
    }

    /// Nil when delivered, else why not. A failure OTLP calls retryable (no connection,
    /// 429, 502, 503, 504) gets a second try a moment later, as the spec's exporters do;
    /// one, not more, so a dead collector costs the work nothing.
    private func send(_ batch: [Item]) -> String? {
        var body = encode(batch)
        var requestHeaders = ["Content-Type: " + contentType] + headers
        compression.apply(to: &body, headers: &requestHeaders)
        var failure: String?
        for attempt in 0..<2 {
            if attempt > 0 { usleep(200_000) }
            do {
                let response = try SimpleHTTP.request(url, method: "POST", headers: requestHeaders,
                                                      body: body, timeout: timeout, connectTimeout: min(timeout, 2))
                if (200..<300).contains(response.status) { return nil }
                let text = OTLPAnswer.describe(response, limit: 200)
                failure = "HTTP \(response.status)" + (text.isEmpty ? "" : ": \(text)")
                if ![429, 502, 503, 504].contains(response.status) { return failure }
            } catch {
                failure = "\(error)"
            }
        }
        return failure
    }

    /// Sends what is queued, waiting at most `deadline` seconds; what is still queued
    /// then is dropped. Returns the report line when anything was dropped.
    public func shutdown(deadline: Double) -> String? {
        let (finished, report): (Bool, String?) = state.withLock {
            closing = true
            state.signal(Self.wake)
            let end = MonotonicClock.nanos() + UInt64(deadline * 1e9)
            while (!queue.isEmpty || sending > 0) && MonotonicClock.nanos() < end {
                state.wait(Self.idle, seconds: 0.05)
            }
            let finished = queue.isEmpty && sending == 0
            // Past the deadline, what is queued or still on the wire is given up for lost.
            dropped += queue.count + sending
            queue.removeAll()
            closedOut = !finished
            let report = dropped == 0 ? nil
                : "otlp: \(dropped) \(what) not delivered to \(url)" + (firstFailure.map { " (\($0))" } ?? "")
            return (finished, report)
        }
        // A send stuck on a hung collector keeps its thread; the process exits anyway.
        if finished { thread?.join() }
        return report
    }

    public var deliveredCount: Int { state.withLock { delivered } }
}

/// Spans to `/v1/traces`.
public final class OTLPSpanExporter: SpanExporter, Sendable {
    let batcher: OTLPBatcher<SpanRecord>

    public init(url: String, headers: [String], service: String, timeout: Double = 10, protocol: OTLPProtocol = .protobuf,
                compression: OTLPCompression = .none) {
        batcher = OTLPBatcher(url: url, headers: headers, contentType: `protocol`.contentType, compression: compression,
                              what: "spans", timeout: timeout) { `protocol`.traces($0, defaultService: service) }
    }

    public func export(_ span: SpanRecord) { batcher.add(span) }
    public func shutdown(deadline: Double) -> String? { batcher.shutdown(deadline: deadline) }
}
