/// A counting semaphore that can be cancelled, so a producer blocked on it wakes up at shutdown.
public final class Slots: @unchecked Sendable { // `available` and `cancelled` are guarded by `state`
    private let state = ConditionLock()
    private var available: Int
    private var cancelled = false

    public init(_ count: Int) { available = count }

    /// Waits for a free slot; false when cancelled.
    public func acquire() -> Bool {
        state.withLock {
            while available == 0 && !cancelled { state.wait() }
            if cancelled { return false }
            available -= 1
            return true
        }
    }

    /// Slots free at this moment (a hint: another thread may take one at once).
    public var free: Int { state.withLock { available } }

    public func release() {
        state.withLock {
            available += 1
            state.signal()
        }
    }

    public func cancel() {
        state.withLock {
            cancelled = true
            state.broadcast()
        }
    }
}
