import Glibc

/// A pthread mutex in heap memory of its own. Short critical sections only: queues,
/// counters, registries.
///
/// pthread objects must not move while in use, and a Swift stored property passed as
/// `&field` is only guaranteed an address for the length of one call, so every pthread
/// object arc uses lives in memory allocated for it, freed in `deinit`.
public final class Lock: @unchecked Sendable { // the mutex is the synchronisation itself
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A mutex with condition variables, all in heap memory of their own (see `Lock`): the
/// waiting half of every queue, semaphore and wait group. State guarded by it is touched
/// only inside `withLock`; `wait` may only be called there. Conditions are numbered from
/// 0: a queue waits for "not empty" on one and "not full" on another, under one mutex.
public final class ConditionLock: @unchecked Sendable { // the mutex is the synchronisation itself
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let count: Int

    public init(conditions count: Int = 1) {
        self.count = count
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        conditions = .allocate(capacity: count)
        conditions.initialize(repeating: pthread_cond_t(), count: count)
        // Timed waits measure by the monotonic clock: a step of the wall clock must not
        // stretch or cut them.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        for i in 0..<count { pthread_cond_init(conditions + i, &attributes) }
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        for i in 0..<count { pthread_cond_destroy(conditions + i) }
        conditions.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a `signal` or `broadcast` of `condition`, the lock released meanwhile.
    /// Inside `withLock` only, and in a loop over what is waited for: wake-ups may be spurious.
    public func wait(_ condition: Int = 0) { pthread_cond_wait(conditions + condition, mutex) }

    /// As `wait`, for at most `seconds`; false when the time ran out.
    @discardableResult
    public func wait(_ condition: Int = 0, seconds: Double) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanos = Int(deadline.tv_nsec) + Int(max(0, min(seconds, 1e9)) * 1e9)
        deadline.tv_sec += nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        return pthread_cond_timedwait(conditions + condition, mutex, &deadline) != ETIMEDOUT
    }

    /// Wakes one waiter. Call inside `withLock`, after changing what it waits for.
    public func signal(_ condition: Int = 0) { pthread_cond_signal(conditions + condition) }

    /// Wakes every waiter. Call inside `withLock`, after changing what they wait for.
    public func broadcast(_ condition: Int = 0) { pthread_cond_broadcast(conditions + condition) }
}

/// A value behind its own lock (NIO's NIOLockedValueBox): for the few results a thread
/// hands to another (an error met while listing, counters) where a type of its own would
/// be ceremony.
public final class Locked<Value>: @unchecked Sendable { // `value` is guarded by `lock`
    private let lock = Lock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    /// Reads or changes the value under the lock.
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&value) }
    }

    /// A copy of the value now.
    public var current: Value { lock.withLock { value } }
}
