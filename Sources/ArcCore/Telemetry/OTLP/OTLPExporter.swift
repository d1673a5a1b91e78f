import Glibc

/// Sends items (spans, log lines) to an OTLP/HTTP JSON endpoint in batches, on its own
/// thread: the work never waits for the collector. The queue is bounded; when it is full,
/// or a batch cannot be delivered (collector down, 4xx, 5xx), the items are dropped and
/// counted, and `shutdown` reports the count once. A collector that refuses connections
/// costs nothing; one that hangs delays only the exit, by at most the shutdown deadline.
public final class OTLPBatcher<Item>: @unchecked Sendable {
    public let url: String
    private let headers: [String]
    private let timeout: Double
    private let encode: ([Item]) -> [UInt8]
    private let what: String
    private let capacity: Int
    private let batchSize: Int
    private var queue: [Item] = []
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var idle = pthread_cond_t()
    private var closing = false
    /// Shutdown gave up on a send still in progress: it no longer counts anything.
    private var closedOut = false
    /// Items of the batch being sent (0 when none is).
    private var sending = 0
    private var dropped = 0
    private var delivered = 0
    private var firstFailure: String?
    private var thread: WorkerThread?

    /// `what` names the items in the report ("spans", "log records").
    public init(url: String, headers: [String], what: String, timeout: Double = 10, capacity: Int = 8192,
                batchSize: Int = 512, encode: @escaping ([Item]) -> [UInt8]) {
        self.url = url
        self.timeout = timeout
        self.headers = headers
        self.what = what
        self.capacity = capacity
        self.batchSize = batchSize
        self.encode = encode
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&idle, nil)
        thread = WorkerThread(name: "otlp") { [unowned self] in self.loop() }
    }

    public func add(_ item: Item) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if closing || queue.count >= capacity {
            dropped += 1
            return
        }
        queue.append(item)
        if queue.count >= batchSize { pthread_cond_signal(&wake) }
    }

    private func loop() {
        // This thread starts before a tool blocks SIGINT/SIGTERM for its signal thread;
        // left open, it could take a Ctrl-C meant for that thread and die of it.
        var signals = sigset_t()
        sigfillset(&signals)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        pthread_mutex_lock(&mutex)
        while true {
            if queue.isEmpty && !closing { wait(&wake, nanos: 1_000_000_000) }
            if queue.isEmpty {
                if closing { break }
                continue
            }
            let batch = Array(queue.prefix(batchSize))
            queue.removeFirst(batch.count)
            sending = batch.count
            pthread_mutex_unlock(&mutex)
            let failure = send(batch)
            pthread_mutex_lock(&mutex)
            sending = 0
            if closedOut { break }
            if let failure {
                dropped += batch.count
                if firstFailure == nil { firstFailure = failure }
            } else {
                delivered += batch.count
            }
            pthread_cond_broadcast(&idle)
        }
        pthread_cond_broadcast(&idle)
        pthread_mutex_unlock(&mutex)
    }

    /// Waits on `condition` (with `mutex` held) until signalled or `nanos` have passed.
    private func wait(_ condition: inout pthread_cond_t, nanos: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let total = ts.tv_nsec + nanos
        ts.tv_sec += total / 1_000_000_000
        ts.tv_nsec = total % 1_000_000_000
        pthread_cond_timedwait(&condition, &mutex, &ts)
    }

    /// Nil when delivered, else why not. A failure OTLP calls retryable (no connection,
    /// 429, 502, 503, 504) gets a second try a moment later, as the spec's exporters do;
    /// one, not more, so a dead collector costs the work nothing.
    private func send(_ batch: [Item]) -> String? {
        let body = encode(batch)
        var failure: String?
        for attempt in 0..<2 {
            if attempt > 0 { usleep(200_000) }
            do {
                let response = try SimpleHTTP.request(url, method: "POST", headers: ["Content-Type: application/json"] + headers,
                                                      body: body, timeout: timeout, connectTimeout: min(timeout, 2))
                if (200..<300).contains(response.status) { return nil }
                let text = String(response.text.prefix(200)).replacing("\n", with: " ")
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
        pthread_mutex_lock(&mutex)
        closing = true
        pthread_cond_signal(&wake)
        let end = MonotonicClock.nanos() + UInt64(deadline * 1e9)
        while (!queue.isEmpty || sending > 0) && MonotonicClock.nanos() < end {
            wait(&idle, nanos: 50_000_000)
        }
        let finished = queue.isEmpty && sending == 0
        // Past the deadline, what is queued or still on the wire is given up for lost.
        dropped += queue.count + sending
        queue.removeAll()
        closedOut = !finished
        let report = dropped == 0 ? nil
            : "otlp: \(dropped) \(what) not delivered to \(url)" + (firstFailure.map { " (\($0))" } ?? "")
        pthread_mutex_unlock(&mutex)
        // A send stuck on a hung collector keeps its thread; the process exits anyway.
        if finished { thread?.join() }
        return report
    }

    public var deliveredCount: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return delivered
    }
}

/// Spans to `/v1/traces`.
public final class OTLPSpanExporter: SpanExporter, @unchecked Sendable {
    let batcher: OTLPBatcher<SpanRecord>

    public init(url: String, headers: [String], service: String, timeout: Double = 10) {
        batcher = OTLPBatcher(url: url, headers: headers, what: "spans", timeout: timeout) {
            OTLPJSON.traces($0, defaultService: service)
        }
    }

    public func export(_ span: SpanRecord) { batcher.add(span) }
    public func shutdown(deadline: Double) -> String? { batcher.shutdown(deadline: deadline) }
}
