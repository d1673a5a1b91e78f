import Glibc

/// Starts a named thread running `body`; join it with `join()`. The body is `@Sendable`:
/// what it captures is shared with the thread that started it, so the compiler checks it.
public final class WorkerThread: @unchecked Sendable { // `thread` is written once, in init; `joined` is guarded by `joining`
    private var thread = pthread_t()
    private let joining = Lock()
    private var joined = false
    /// For debugging: what the thread is for.
    public let name: String
    private let body: @Sendable () -> Void

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
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

    /// Lets the thread end on its own, its resources freed when it does: for threads no one
    /// will join (a connection's, the signal watcher, a reader that may block for good).
    /// After this, `join` returns at once.
    public func detach() {
        joining.withLock {
            guard !joined else { return }
            pthread_detach(thread)
            joined = true
        }
    }

    /// Waits for the thread to end. Any number of calls, from any threads: pthread_join
    /// runs once (a second pthread_join of one thread is undefined behaviour), and later
    /// callers wait for that one to return.
    public func join() {
        joining.withLock {
            guard !joined else { return }
            pthread_join(thread, nil)
            joined = true
        }
    }
}
