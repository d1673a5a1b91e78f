/// A FIFO handed between threads. `capacity` bounds it so a fast producer cannot make
/// memory grow with the job: `put` waits while the queue is full.
public final class BlockingQueue<Element: Sendable>: @unchecked Sendable { // all state is guarded by `state`
    private let state = ConditionLock(conditions: 2)
    private static var notEmpty: Int { 0 }
    private static var notFull: Int { 1 }
    /// Taken slots are cleared at once, so a taken element is not kept alive until the
    /// next compaction.
    private var items: [Element?] = []
    private var head = 0
    private var closed = false
    private let capacity: Int
    private var count: Int { items.count - head }

    public init(capacity: Int = Int.max) { self.capacity = capacity }

    /// True when a `put` would wait.
    public var isFull: Bool { state.withLock { count >= capacity && !closed } }

    /// Adds an element, waiting for room. Returns false when the queue was closed.
    @discardableResult
    public func put(_ element: Element) -> Bool {
        state.withLock {
            while count >= capacity && !closed { state.wait(Self.notFull) }
            if closed { return false }
            items.append(element)
            state.signal(Self.notEmpty)
            return true
        }
    }

    /// Takes the next element, waiting for one; nil once closed and drained.
    public func take() -> Element? {
        state.withLock {
            while count == 0 && !closed { state.wait(Self.notEmpty) }
            return popLocked()
        }
    }

    /// Takes the next element, waiting at most `seconds`, capped at one second so that a
    /// caller waiting for a wall-clock time (a schedule) looks at the clock again at least
    /// that often; nil when none came.
    public func take(waitingAtMost seconds: Double) -> Element? {
        state.withLock {
            if count == 0 && !closed && seconds > 0 { state.wait(Self.notEmpty, seconds: min(seconds, 1)) }
            return popLocked()
        }
    }

    /// Takes everything queued now, waiting for at least one element; empty once closed and drained.
    public func takeAll(max: Int = Int.max) -> [Element] {
        state.withLock {
            while count == 0 && !closed { state.wait(Self.notEmpty) }
            var batch: [Element] = []
            while batch.count < max, let element = popLocked() { batch.append(element) }
            return batch
        }
    }

    /// Takes the next element if one is queued, without waiting.
    public func poll() -> Element? { state.withLock { popLocked() } }

    /// No more puts; takers drain what is left and then get nil.
    public func close() {
        state.withLock {
            closed = true
            state.broadcast(Self.notEmpty)
            state.broadcast(Self.notFull)
        }
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
        state.signal(Self.notFull)
        return element
    }
}
