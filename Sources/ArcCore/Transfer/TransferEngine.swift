import CCurl
import Glibc

/// Counters the progress display and summaries read while transfers run.
public final class TransferStats: @unchecked Sendable { // the counters are guarded by `lock`
    private let lock = Lock()
    private var _bytes: Int64 = 0
    private var _retries = 0
    private var _sent: Int64 = 0

    public var bytesReceived: Int64 { lock.withLock { _bytes } }
    public var bytesSent: Int64 { lock.withLock { _sent } }
    func add(sent: Int) { lock.withLock { _sent += Int64(sent) } }
    public var retries: Int { lock.withLock { _retries } }
    func add(bytes: Int) { lock.withLock { _bytes += Int64(bytes) } }
    func addRetry() { lock.withLock { _retries += 1 } }
}

/// A libcurl multi engine: one thread, one event loop, driving every transfer at once.
/// Connections are cached in the multi handle and reused across transfers; bodies stream
/// into sinks as they arrive; failed attempts are retried with backoff, resuming with a
/// Range request where the sink kept what arrived.
///
/// `submit` may be called from any thread. Completion handlers run on the engine thread
/// and must be quick: hand heavy work (fsync, database) to other threads.
public final class TransferEngine: @unchecked Sendable { // the inbox and flags are guarded by `lock`; the rest is the engine thread's
    public let configuration: TransferConfiguration
    public let stats = TransferStats()
    private let multi: UnsafeMutableRawPointer
    private let lock = Lock()
    private var inbox: [Transfer] = []
    private var tasks: [@Sendable () -> Void] = []
    private var finishing = false
    private var cancelling = false
    /// The loop has ended: a transfer submitted now is cancelled at once.
    private var ended = false
    /// Work submitted after the loop ended, and whether a thread is running it.
    private var lateTasks: [@Sendable () -> Void] = []
    private var drainingLateTasks = false
    private var thread: WorkerThread?
    /// Told of each failed attempt that will be retried, on the engine thread, unless the
    /// transfer has its own `onRetry`: tools log these as warnings. Set before `start`.
    public var onRetry: (@Sendable (RetryNotice) -> Void)?

    // Engine-thread state.
    /// Transfers waiting for a slot, oldest first from `waitingHead`. Taken slots are
    /// cleared at once: a finished transfer must not keep its sink (a listing page's body)
    /// alive until the array is next compacted.
    private var waiting: [Transfer?] = []
    private var waitingHead = 0
    private var delayed: [Transfer] = []
    /// Transfers with an easy handle in the multi handle, by that handle.
    private var running: [UnsafeMutableRawPointer: Transfer] = [:]
    private var active: Int { running.count }
    /// Easy handles between requests, reset, for the next transfer (libcurl keeps their
    /// connections in the multi handle's cache).
    private var idleHandles: [CurlEasy] = []
    /// --bwlimit: one budget for all transfers together, refilled as time passes; a
    /// transfer that finds it spent pauses until the loop refills it. (libcurl's own
    /// per-transfer limits split a budget badly across many short transfers.)
    private var budget = Budget()
    /// Transfers paused in a callback: the budget was spent, or their sink is busy (a
    /// hashing thread behind). The loop resumes each once its reason has passed.
    private var paused: [Transfer] = []
    /// --rate: transfers to a limited host wait here for its token (nil: no limits).
    private let throttle: HostThrottle?

    struct Budget {
        var bytes: Double = 0
        var refilledAt: UInt64 = 0
    }

    public init(_ configuration: TransferConfiguration) {
        Curl.ensureInitialized()
        self.configuration = configuration
        throttle = configuration.hostRates.isEmpty ? nil : HostThrottle(configuration.hostRates)
        multi = arc_curl_multi_init()
        // Neither can fail on a valid handle, and either failing would change only how
        // connections are kept, never a transfer's outcome.
        _ = arc_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, configuration.maxConnections)
        _ = arc_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
    }

    deinit {
        idleHandles.removeAll() // each frees its handle, before the multi handle goes
        arc_curl_multi_cleanup(multi)
    }

    /// Starts the event loop on its own thread.
    public func start() {
        thread = WorkerThread(name: "transfers") { [self] in loop() }
    }

    /// Queues a transfer; it starts when a slot is free. After the loop has ended (a stop),
    /// it completes at once, cancelled, on the calling thread.
    public func submit(_ transfer: Transfer) {
        let queued: Bool = lock.withLock {
            if ended { return false }
            inbox.append(transfer)
            return true
        }
        guard queued else { return transfer.completion(.failure(.cancelled(url: transfer.request.url)), 0) }
        wake()
    }

    /// Passes on a retry decided above the engine (an S3 error inside a 200 answer), so
    /// it is reported like the engine's own.
    public func reportRetry(_ notice: RetryNotice) {
        onRetry?(notice)
    }

    /// Runs `work` on the engine thread (where completion handlers run), so code that
    /// drives a multi-request job touches its state from one thread only. After the loop
    /// has ended (a stop), work still runs, one at a time, on the calling thread, as
    /// `submit` completes transfers there: work handed back from another thread (a part's
    /// CRC computed off the loop) must not be dropped, or the job waiting for it never ends.
    public func submitOnLoop(_ work: @escaping @Sendable () -> Void) {
        let runHere: Bool = lock.withLock {
            if !ended {
                tasks.append(work)
                return false
            }
            lateTasks.append(work)
            if drainingLateTasks { return false }
            drainingLateTasks = true
            return true
        }
        if runHere { drainLateTasks() } else { wake() }
    }

    /// Runs the work submitted after the loop ended, in order, until there is none; work
    /// that submits more (on this thread or another) is queued, not run re-entrantly.
    private func drainLateTasks() {
        while let work = lock.withLock({ () -> (@Sendable () -> Void)? in
            if lateTasks.isEmpty {
                drainingLateTasks = false
                return nil
            }
            return lateTasks.removeFirst()
        }) {
            work()
        }
    }

    /// No more submissions will come: the loop ends once everything queued is done.
    public func finishWhenIdle() {
        lock.withLock { finishing = true }
        wake()
    }

    /// Aborts everything in flight and queued; each completes with `.cancelled`.
    public func cancelAll() {
        lock.withLock {
            cancelling = true
            finishing = true
        }
        wake()
    }

    /// Ends the loop's wait at once. Should the wakeup fail, the loop still looks again
    /// within half a second (its longest wait).
    private func wake() { _ = arc_curl_multi_wakeup(multi) }

    /// Waits for the loop to end (after `finishWhenIdle` or `cancelAll`).
    public func wait() { thread?.join() }

    // MARK: the loop

    private func loop() {
        var stillRunning: Int32 = 0
        while true {
            let (incoming, work, finish, cancel) = lock.withLock { () -> ([Transfer], [@Sendable () -> Void], Bool, Bool) in
                defer {
                    inbox.removeAll(keepingCapacity: true)
                    tasks.removeAll()
                }
                return (inbox, tasks, finishing, cancelling)
            }
            for w in work { w() }
            waiting.append(contentsOf: incoming)
            if configuration.bandwidthLimit > 0 { refillBudget() }
            if !paused.isEmpty { resumePaused() }
            if cancel { cancelEverything() }
            startReady()
            let performed = arc_curl_multi_perform(multi, &stillRunning)
            if performed != CURLM_OK { failRunning("curl_multi_perform: " + Curl.text(performed)) }
            drainMessages()
            if finish && active == 0 && waitingHead == waiting.count && delayed.isEmpty && (throttle?.heldCount ?? 0) == 0 {
                let idle: Bool = lock.withLock {
                    if inbox.isEmpty && tasks.isEmpty { ended = true }
                    return ended
                }
                if idle { break }
                continue
            }
            var timeout: Int = 0
            if arc_curl_multi_timeout(multi, &timeout) != CURLM_OK { timeout = 10 }
            if timeout < 0 || timeout > 500 { timeout = 500 }
            if let next = delayed.map({ $0.notBefore }).min() {
                let now = MonotonicClock.nanos()
                let untilRetry = next > now ? Int((next - now) / 1_000_000) + 1 : 0
                timeout = min(timeout, untilRetry)
            }
            if let next = throttle?.nextRelease() {
                let now = MonotonicClock.nanos()
                timeout = min(timeout, next > now ? Int((next - now) / 1_000_000) + 1 : 0)
            }
            if waitingHead < waiting.count && active < configuration.maxConcurrent { timeout = 0 }
            if !paused.isEmpty { timeout = min(timeout, 2) }
            if arc_curl_multi_poll(multi, nil, 0, Int32(timeout), nil) != CURLM_OK {
                // Wait anyway, rather than spin until the multi handle recovers.
                usleep(UInt32(max(1, min(timeout, 10))) * 1000)
            }
        }
    }

    private func startReady() {
        if !delayed.isEmpty {
            let now = MonotonicClock.nanos()
            var still: [Transfer] = []
            for t in delayed {
                if t.notBefore <= now { waiting.append(t) } else { still.append(t) }
            }
            delayed = still
        }
        if let throttle {
            // Those that waited for their host's token first: they were queued before the rest.
            let now = MonotonicClock.nanos()
            for t in throttle.release(now: now, limit: configuration.maxConcurrent - active) { begin(t) }
        }
        while active < configuration.maxConcurrent && waitingHead < waiting.count {
            let t = waiting[waitingHead]!
            waiting[waitingHead] = nil
            waitingHead += 1
            if let throttle, !throttle.admit(t, now: MonotonicClock.nanos()) { continue }
            begin(t)
        }
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        } else if waitingHead > 256 && waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }

    private func begin(_ t: Transfer) {
        t.attempt += 1
        t.resetAttemptState()
        do {
            t.offset = try t.sink.beginAttempt()
            try t.body?.rewind()
        } catch {
            t.completion(.failure(.sink(url: t.request.url, error: error)), t.attempt)
            return
        }
        let easy: CurlEasy
        if let idle = idleHandles.popLast() { easy = idle } else {
            do { easy = try CurlEasy() } catch { return t.completion(.failure(error), t.attempt) }
        }
        t.easy = easy
        do { try configure(easy, for: t) } catch {
            // Nothing was sent; the handle is as good as ever for the next transfer.
            recycle(easy)
            t.easy = nil
            return t.completion(.failure(error), t.attempt)
        }
        let added = arc_curl_multi_add_handle(multi, easy.handle)
        guard added == CURLM_OK else {
            recycle(easy)
            t.easy = nil
            return t.completion(.failure(.setup(url: t.request.url, message: "curl_multi_add_handle: " + Curl.text(added))), t.attempt)
        }
        t.stats = stats
        t.engine = self
        running[easy.handle] = t
    }

    private func configure(_ easy: CurlEasy, for t: Transfer) throws(TransferError) {
        let c = configuration
        try easy.begin(url: t.request.url, delegate: t)
        // S3 keys may hold `/./` and `/../`: send the path exactly as built.
        try easy.set(CURLOPT_PATH_AS_IS, 1)
        try easy.set(CURLOPT_FOLLOWLOCATION, 1)
        try easy.set(CURLOPT_MAXREDIRS, 5)
        try easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        try easy.set(CURLOPT_BUFFERSIZE, c.bufferSize)
        try easy.set(CURLOPT_USERAGENT, c.userAgent)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(c.connectTimeout * 1000))
        if c.stallTimeout > 0 {
            try easy.set(CURLOPT_LOW_SPEED_LIMIT, 1)
            try easy.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(c.stallTimeout.rounded(.up))))
        }
        if c.attemptTimeout > 0 { try easy.set(CURLOPT_TIMEOUT_MS, Int(c.attemptTimeout * 1000)) }
        switch t.request.method {
        case .get: break
        case .head: try easy.set(CURLOPT_NOBODY, 1)
        case .put, .post, .delete:
            if t.request.method != .put { try easy.set(CURLOPT_CUSTOMREQUEST, t.request.method.rawValue) }
            if t.body != nil || t.request.method == .put { try easy.upload(length: t.body?.length ?? 0) }
        }
        var headers = t.request.headers
        if let more = t.attemptHeaders?() { headers += more }
        if t.offset > 0 {
            try easy.set(CURLOPT_RANGE, "\(t.offset)-")
            if let etag = t.request.ifRange {
                let quoted = etag.hasPrefix("\"") || etag.hasPrefix("W/") ? etag : "\"\(etag)\""
                headers.append("If-Range: \(quoted)")
            }
        }
        // No "Expect: 100-continue" round trip, ever.
        headers.append("Expect:")
        try easy.setHeaders(headers)
    }

    /// Back to the pool, ready for the next transfer.
    private func recycle(_ easy: CurlEasy) {
        easy.reset()
        idleHandles.append(easy)
    }

    /// Adds what the limit allows for the time passed (at most a tenth of a second's
    /// worth saved up, so a quiet spell does not become a burst).
    private func refillBudget() {
        let now = MonotonicClock.nanos()
        let rate = Double(configuration.bandwidthLimit)
        if budget.refilledAt == 0 { budget.bytes = rate / 10 }
        else { budget.bytes = min(rate / 10, budget.bytes + rate * Double(now - budget.refilledAt) / 1e9) }
        budget.refilledAt = now
    }

    /// Resumes the paused transfers that may go on. Resuming can call a callback at once,
    /// which may pause the transfer again: hence the copy.
    private func resumePaused() {
        let waiting = paused
        paused.removeAll()
        for t in waiting {
            guard let easy = t.easy else { continue }
            if mustWait(t) {
                paused.append(t)
                continue
            }
            do { try easy.pause(CURLPAUSE_CONT) } catch {
                // Left paused, it would never finish.
                release(t)
                t.completion(.failure(error), t.attempt)
            }
        }
    }

    private func mustWait(_ t: Transfer) -> Bool {
        (configuration.bandwidthLimit > 0 && budget.bytes <= 0) || t.sink.isBackedUp
    }

    /// Called by the body callbacks before moving `n` bytes: true to go on (taking them
    /// from the budget), false when the transfer is now paused.
    fileprivate func proceed(_ t: Transfer, _ n: Int) -> Bool {
        if mustWait(t) {
            paused.append(t)
            return false
        }
        if configuration.bandwidthLimit > 0 { budget.bytes -= Double(n) }
        return true
    }

    private func drainMessages() {
        var left: Int32 = 0
        while let msg = arc_curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let handle = msg.pointee.easy_handle,
                  let t = running[handle], let easy = t.easy else { continue }
            let code = arc_msg_result(msg)
            if !t.decided { t.status = easy.responseCode }
            let curlError = code == CURLE_OK ? "" : CurlEasy.text(code)
            release(t)
            finished(t, code: code, curlError: curlError)
        }
    }

    /// Takes the transfer's handle out of the multi handle and back to the pool.
    private func release(_ t: Transfer) {
        guard let easy = t.easy else { return }
        running[easy.handle] = nil
        t.easy = nil
        if arc_curl_multi_remove_handle(multi, easy.handle) == CURLM_OK {
            recycle(easy)
        } else {
            easy.reset() // not reused: it goes (curl_easy_cleanup) with its last reference
        }
    }

    /// The multi handle failed: every transfer in it ends with that failure.
    private func failRunning(_ message: String) {
        for t in Array(running.values) {
            release(t)
            t.completion(.failure(.setup(url: t.request.url, message: message)), t.attempt)
        }
    }

    private func finished(_ t: Transfer, code: CURLcode, curlError: String) {
        let url = t.request.url
        if t.cancelled { return t.completion(.failure(.cancelled(url: url)), t.attempt) }
        if let error = t.sinkError { return t.completion(.failure(.sink(url: url, error: error)), t.attempt) }

        let failure: TransferError
        var retryable: Bool
        if t.rangeMismatch || (t.status == 416 && t.offset > 0) {
            // The server cannot continue where we stopped: start over from byte 0.
            try? t.sink.restart()
            failure = .http(status: t.status, url: url, detail: "cannot resume from byte \(t.offset)")
            retryable = true
        } else if code == CURLE_OK {
            if (200..<300).contains(t.status) || (t.request.method == .head && t.status < 300) {
                let response = TransferResponse(status: t.status, headers: t.headers,
                                                bytesReceived: t.bytesReceived,
                                                durationMillis: Int64((MonotonicClock.nanos() - t.createdAt) / 1_000_000))
                throttle?.answered(url)
                return t.completion(.success(response), t.attempt)
            }
            failure = .http(status: t.status, url: url, detail: t.errorDetail)
            if t.status == 403, let throttle, !lock.withLock({ cancelling }),
               let wait = throttle.ban(t, retryAfter: t.headers.retryAfter, now: MonotonicClock.nanos()) {
                // A ban, not a refusal of this file: wait it out (HostThrottle.ban).
                stats.addRetry()
                if let notify = t.onRetry ?? onRetry {
                    notify(RetryNotice(url: url, attempt: t.attempt, maxAttempts: t.request.retry.maxAttempts + t.banRetries,
                                       delay: wait, error: failure))
                }
                return
            }
            retryable = t.request.retry.isRetryable(status: t.status)
        } else {
            failure = .network(curlCode: Int32(code.rawValue), url: url, message: curlError)
            retryable = TransferError.isRetryable(curlCode: code)
        }
        if retryable && t.attempt - t.banRetries < t.request.retry.maxAttempts && !lock.withLock({ cancelling }) {
            let delay = t.request.retry.delay(afterAttempt: t.attempt, retryAfter: t.headers.retryAfter)
            t.notBefore = MonotonicClock.nanos() + UInt64(delay * 1e9)
            stats.addRetry()
            if let notify = t.onRetry ?? onRetry {
                notify(RetryNotice(url: url, attempt: t.attempt, maxAttempts: t.request.retry.maxAttempts,
                                   delay: delay, error: failure))
            }
            delayed.append(t)
            return
        }
        t.completion(.failure(failure), t.attempt)
    }

    private func cancelEverything() {
        let queued = waiting[waitingHead...].compactMap { $0 } + delayed + (throttle?.drain() ?? [])
        waiting.removeAll()
        waitingHead = 0
        delayed.removeAll()
        let inFlight = Array(running.values)
        for t in inFlight {
            t.cancelled = true
            release(t)
        }
        for t in queued + inFlight { t.completion(.failure(.cancelled(url: t.request.url)), t.attempt) }
    }
}

/// libcurl's callbacks for a transfer, on the engine thread.
extension Transfer: CurlEasyDelegate {
    /// Body bytes: the first ones decide whether this is the body asked for.
    func curlBody(_ chunk: UnsafeRawBufferPointer) -> Int {
        if cancelled { return 0 }
        if let engine, !engine.proceed(self, chunk.count) { return CurlEasy.pauseWrite }
        if !decided {
            do { try decide() } catch {
                sinkError = error
                return 0
            }
        }
        if rangeMismatch { return 0 }
        guard acceptBody else {
            if errorBody.count < 8192 { errorBody.append(contentsOf: chunk.prefix(8192 - errorBody.count)) }
            return chunk.count
        }
        do {
            try sink.write(chunk)
        } catch {
            sinkError = error
            return 0
        }
        bytesReceived += Int64(chunk.count)
        stats?.add(bytes: chunk.count)
        return chunk.count
    }

    /// The next bytes of the request body.
    func curlRead(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        if cancelled { return CurlEasy.abortRead }
        guard let body else { return 0 }
        if let engine, !engine.proceed(self, buffer.count) { return CurlEasy.pauseRead }
        do {
            let n = try body.read(into: buffer)
            stats?.add(sent: n)
            return n
        } catch {
            sinkError = error
            return CurlEasy.abortRead
        }
    }

    func curlHeader(_ line: UnsafeRawBufferPointer) { header(line) }
}
