/// Counts work in flight and lets a thread wait until none is left (Go's sync.WaitGroup):
/// `enter` before starting a piece of work, `leave` when it is done, `wait` for zero.
public final class WaitGroup: @unchecked Sendable { // `count` is guarded by `state`
    private let state = ConditionLock()
    private var count = 0

    public init() {}

    public func enter() { state.withLock { count += 1 } }

    public func leave() {
        state.withLock {
            precondition(count > 0, "WaitGroup.leave without enter")
            count -= 1
            if count == 0 { state.broadcast() }
        }
    }

    /// The pieces of work in flight now.
    public var pending: Int { state.withLock { count } }

    /// Waits until every `enter` has had its `leave`.
    public func wait() { state.withLock { while count > 0 { state.wait() } } }
}
