import Glibc

/// A pthread mutex. Short critical sections only: queues, counters, registries.
public final class Lock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    public init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// A FIFO handed between threads. `capacity` bounds it so a fast producer cannot make
/// memory grow with the job: `put` waits while the queue is full.
public final class BlockingQueue<Element>: @unchecked Sendable {
    /// Taken slots are cleared at once, so a taken element is not kept alive until the
    /// next compaction.
    private var items: [Element?] = []
    private var head = 0
    private var closed = false
    private let capacity: Int
    private var mutex = pthread_mutex_t()
    private var notEmpty = pthread_cond_t()
    private var notFull = pthread_cond_t()

    public init(capacity: Int = Int.max) {
        self.capacity = capacity
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&notEmpty, nil)
        pthread_cond_init(&notFull, nil)
    }

    deinit {
        pthread_cond_destroy(&notEmpty)
        pthread_cond_destroy(&notFull)
        pthread_mutex_destroy(&mutex)
    }

    private var count: Int { items.count - head }

    /// True when a `put` would wait.
    public var isFull: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return count >= capacity && !closed
    }

    /// Adds an element, waiting for room. Returns false when the queue was closed.
    @discardableResult
    public func put(_ element: Element) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while count >= capacity && !closed { pthread_cond_wait(&notFull, &mutex) }
        if closed { return false }
        items.append(element)
        pthread_cond_signal(&notEmpty)
        return true
    }

    /// Takes the next element, waiting for one; nil once closed and drained.
    public func take() -> Element? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while count == 0 && !closed { pthread_cond_wait(&notEmpty, &mutex) }
        return popLocked()
    }

    /// Takes the next element, waiting at most `seconds` (capped at one second, so a step
    /// of the wall clock, which pthread_cond_timedwait measures by, cannot stretch a wait);
    /// nil when none came.
    public func take(waitingAtMost seconds: Double) -> Element? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if count == 0 && !closed && seconds > 0 {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            let total = Int(ts.tv_nsec) + Int(min(seconds, 1) * 1e9)
            ts.tv_sec += total / 1_000_000_000
            ts.tv_nsec = total % 1_000_000_000
            pthread_cond_timedwait(&notEmpty, &mutex, &ts)
        }
        return popLocked()
    }

    /// Takes everything queued now, waiting for at least one element; empty once closed and drained.
    public func takeAll(max: Int = Int.max) -> [Element] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while count == 0 && !closed { pthread_cond_wait(&notEmpty, &mutex) }
        var batch: [Element] = []
        while batch.count < max, let element = popLocked() { batch.append(element) }
        return batch
    }

    /// Takes the next element if one is queued, without waiting.
    public func poll() -> Element? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return popLocked()
    }

    /// No more puts; takers drain what is left and then get nil.
    public func close() {
        pthread_mutex_lock(&mutex)
        closed = true
        pthread_cond_broadcast(&notEmpty)
        pthread_cond_broadcast(&notFull)
        pthread_mutex_unlock(&mutex)
    }

    private func popLocked() -> Element? {
        guard count > 0 else { return nil }
        let element = items[head]!
        items[head] = nil
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        pthread_cond_signal(&notFull)
        return element
    }
}

/// A counting semaphore that can be cancelled, so a producer blocked on it wakes up at shutdown.
public final class Slots: @unchecked Sendable {
    private var available: Int
    private var cancelled = false
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()

    public init(_ count: Int) {
        available = count
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    deinit {
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    /// Waits for a free slot; false when cancelled.
    public func acquire() -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while available == 0 && !cancelled { pthread_cond_wait(&changed, &mutex) }
        if cancelled { return false }
        available -= 1
        return true
    }

    public func release() {
        pthread_mutex_lock(&mutex)
        available += 1
        pthread_cond_signal(&changed)
        pthread_mutex_unlock(&mutex)
    }

    public func cancel() {
        pthread_mutex_lock(&mutex)
        cancelled = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }
}

/// Starts a named thread running `body`; join it with `join()`.
public final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    /// For debugging: what the thread is for.
    public let name: String
    private let body: () -> Void

    public init(name: String, _ body: @escaping () -> Void) {
        self.name = name
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { raw in
            let worker = Unmanaged<WorkerThread>.fromOpaque(raw!).takeRetainedValue()
            worker.body()
            return nil
        }, unmanaged.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    public func join() { pthread_join(thread, nil) }
}
