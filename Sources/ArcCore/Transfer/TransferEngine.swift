import CCurl
import Glibc

/// Counters the progress display and summaries read while transfers run.
public final class TransferStats: @unchecked Sendable {
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
public final class TransferEngine: @unchecked Sendable {
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
    /// Transfers with an easy handle in the multi handle, by identity.
    private var running: [ObjectIdentifier: Transfer] = [:]
    private var active: Int { running.count }
    private var idleHandles: [UnsafeMutableRawPointer] = []
    /// --bwlimit: one budget for all transfers together, refilled as time passes; a
    /// transfer that finds it spent pauses until the loop refills it. (libcurl's own
    /// per-transfer limits split a budget badly across many short transfers.)
    private var budget = Budget()
    /// Transfers paused in a callback: the budget was spent, or their sink is busy (a
    /// hashing thread behind). The loop resumes each once its reason has passed.
    private var paused: [Transfer] = []

    struct Budget {
        var bytes: Double = 0
        var refilledAt: UInt64 = 0
    }

    public init(_ configuration: TransferConfiguration) {
        Curl.ensureInitialized()
        self.configuration = configuration
        multi = curl_multi_init()
        arc_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, configuration.maxConnections)
        arc_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
    }

    deinit {
        for handle in idleHandles { curl_easy_cleanup(handle) }
        curl_multi_cleanup(multi)
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
        curl_multi_wakeup(multi)
    }

    /// Passes on a retry decided above the engine (an S3 error inside a 200 answer), so
    /// it is reported like the engine's own.
    public func reportRetry(_ notice: RetryNotice) {
        onRetry?(notice)
    }

    /// Runs `work` on the engine thread (where completion handlers run), so code that
    /// drives a multi-request job touches its state from one thread only.
    public func submitOnLoop(_ work: @escaping @Sendable () -> Void) {
        lock.withLock { tasks.append(work) }
        curl_multi_wakeup(multi)
    }

    /// No more submissions will come: the loop ends once everything queued is done.
    public func finishWhenIdle() {
        lock.withLock { finishing = true }
        curl_multi_wakeup(multi)
    }

    /// Aborts everything in flight and queued; each completes with `.cancelled`.
    public func cancelAll() {
        lock.withLock {
            cancelling = true
            finishing = true
        }
        curl_multi_wakeup(multi)
    }

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
            curl_multi_perform(multi, &stillRunning)
            drainMessages()
            if finish && active == 0 && waitingHead == waiting.count && delayed.isEmpty {
                let idle: Bool = lock.withLock {
                    if inbox.isEmpty && tasks.isEmpty { ended = true }
                    return ended
                }
                if idle { break }
                continue
            }
            var timeout: Int = 0
            curl_multi_timeout(multi, &timeout)
            if timeout < 0 || timeout > 500 { timeout = 500 }
            if let next = delayed.map({ $0.notBefore }).min() {
                let now = MonotonicClock.nanos()
                let untilRetry = next > now ? Int((next - now) / 1_000_000) + 1 : 0
                timeout = min(timeout, untilRetry)
            }
            if waitingHead < waiting.count && active < configuration.maxConcurrent { timeout = 0 }
            if !paused.isEmpty { timeout = min(timeout, 2) }
            curl_multi_poll(multi, nil, 0, Int32(timeout), nil)
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
        while active < configuration.maxConcurrent && waitingHead < waiting.count {
            let t = waiting[waitingHead]!
            waiting[waitingHead] = nil
            waitingHead += 1
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
        let easy = idleHandles.popLast() ?? curl_easy_init()!
        t.easy = easy
        t.stats = stats
        t.engine = self
        configure(easy, for: t)
        running[ObjectIdentifier(t)] = t
        curl_multi_add_handle(multi, easy)
    }

    private func configure(_ easy: UnsafeMutableRawPointer, for t: Transfer) {
        let c = configuration
        let me = Unmanaged.passUnretained(t).toOpaque()
        arc_easy_setopt_str(easy, CURLOPT_URL, t.request.url)
        arc_easy_setopt_ptr(easy, CURLOPT_PRIVATE, me)
        arc_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        // S3 keys may hold `/./` and `/../`: send the path exactly as built.
        arc_easy_setopt_long(easy, CURLOPT_PATH_AS_IS, 1)
        arc_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        arc_easy_setopt_long(easy, CURLOPT_MAXREDIRS, 5)
        arc_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        arc_easy_setopt_long(easy, CURLOPT_BUFFERSIZE, c.bufferSize)
        arc_easy_setopt_str(easy, CURLOPT_USERAGENT, c.userAgent)
        arc_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(c.connectTimeout * 1000))
        if c.stallTimeout > 0 {
            arc_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
            arc_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, Int(c.stallTimeout.rounded(.up))))
        }
        if c.attemptTimeout > 0 { arc_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(c.attemptTimeout * 1000)) }
        switch t.request.method {
        case .get: break
        case .head: arc_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        case .put, .post, .delete:
            if t.request.method != .put { arc_easy_setopt_str(easy, CURLOPT_CUSTOMREQUEST, t.request.method.rawValue) }
            if t.body != nil || t.request.method == .put {
                arc_easy_setopt_long(easy, CURLOPT_UPLOAD, 1)
                arc_easy_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, Int(t.body?.length ?? 0))
                arc_easy_setopt_data_cb(easy, CURLOPT_READFUNCTION, { ptr, size, count, user in
                    let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                    return TransferEngine.readBody(t, UnsafeMutableRawBufferPointer(start: ptr, count: size * count))
                })
                arc_easy_setopt_ptr(easy, CURLOPT_READDATA, me)
            }
        }
        arc_easy_setopt_data_cb(easy, CURLOPT_WRITEFUNCTION, { ptr, size, count, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            return TransferEngine.body(t, UnsafeRawBufferPointer(start: ptr, count: size * count))
        })
        arc_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, me)
        arc_easy_setopt_data_cb(easy, CURLOPT_HEADERFUNCTION, { ptr, size, count, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            t.header(UnsafeRawBufferPointer(start: ptr, count: size * count))
            return size * count
        })
        arc_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, me)

        var list: UnsafeMutablePointer<curl_slist>?
        for h in t.request.headers { list = curl_slist_append(list, h) }
        for h in t.attemptHeaders?() ?? [] { list = curl_slist_append(list, h) }
        if t.offset > 0 {
            arc_easy_setopt_str(easy, CURLOPT_RANGE, "\(t.offset)-")
            if let etag = t.request.ifRange {
                let quoted = etag.hasPrefix("\"") || etag.hasPrefix("W/") ? etag : "\"\(etag)\""
                list = curl_slist_append(list, "If-Range: \(quoted)")
            }
        }
        // No "Expect: 100-continue" round trip, ever.
        list = curl_slist_append(list, "Expect:")
        t.headerList = list
        arc_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
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
        for t in waiting where t.easy != nil {
            if mustWait(t) { paused.append(t) } else { curl_easy_pause(t.easy, CURLPAUSE_CONT) }
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

    /// The write callback: the first bytes decide whether this is the body asked for.
    private static func body(_ t: Transfer, _ chunk: UnsafeRawBufferPointer) -> Int {
        if t.cancelled { return 0 }
        if let engine = t.engine, !engine.proceed(t, chunk.count) { return Int(CURL_WRITEFUNC_PAUSE) }
        if !t.decided {
            do { try t.decide() } catch {
                t.sinkError = error
                return 0
            }
        }
        if t.rangeMismatch { return 0 }
        guard t.acceptBody else {
            if t.errorBody.count < 8192 { t.errorBody.append(contentsOf: chunk.prefix(8192 - t.errorBody.count)) }
            return chunk.count
        }
        do {
            try t.sink.write(chunk)
        } catch {
            t.sinkError = error
            return 0
        }
        t.bytesReceived += Int64(chunk.count)
        t.stats?.add(bytes: chunk.count)
        return chunk.count
    }

    /// The read callback: the next bytes of the request body.
    private static func readBody(_ t: Transfer, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        if t.cancelled { return Int(CURL_READFUNC_ABORT) }
        guard let body = t.body else { return 0 }
        if let engine = t.engine, !engine.proceed(t, buffer.count) { return Int(CURL_READFUNC_PAUSE) }
        do {
            let n = try body.read(into: buffer)
            t.stats?.add(sent: n)
            return n
        } catch {
            t.sinkError = error
            return Int(CURL_READFUNC_ABORT)
        }
    }

    private func drainMessages() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
            var raw: UnsafeMutableRawPointer?
            arc_easy_getinfo_ptr(easy, CURLINFO_PRIVATE, &raw)
            let t = Unmanaged<Transfer>.fromOpaque(raw!).takeUnretainedValue()
            let code = arc_msg_result(msg)
            if !t.decided {
                var status = 0
                arc_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
                t.status = status
            }
            var curlError = ""
            if code != CURLE_OK { curlError = String(cString: curl_easy_strerror(code)) }
            release(t)
            finished(t, code: code, curlError: curlError)
        }
    }

    private func release(_ t: Transfer) {
        guard let easy = t.easy else { return }
        curl_multi_remove_handle(multi, easy)
        curl_easy_reset(easy)
        idleHandles.append(easy)
        t.easy = nil
        curl_slist_free_all(t.headerList)
        t.headerList = nil
        running[ObjectIdentifier(t)] = nil
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
                return t.completion(.success(response), t.attempt)
            }
            failure = .http(status: t.status, url: url, detail: t.errorDetail)
            retryable = t.request.retry.isRetryable(status: t.status)
        } else {
            failure = .network(curlCode: Int32(code.rawValue), url: url, message: curlError)
            retryable = TransferError.isRetryable(curlCode: code)
        }
        if retryable && t.attempt < t.request.retry.maxAttempts && !lock.withLock({ cancelling }) {
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
        let queued = waiting[waitingHead...].compactMap { $0 } + delayed
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

/// Process-wide libcurl set-up, done once before any thread uses it.
public enum Curl {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        return true
    }()

    public static func ensureInitialized() { _ = initialized }

    public static var version: String { String(cString: curl_version()) }
}
