import Glibc

/// Starts a named thread running `body`; join it with `join()`. The body is `@Sendable`:
/// what it captures is shared with the thread that started it, so the compiler checks it.
public final class WorkerThread: @unchecked Sendable { // `thread` is written once, in init, before any join
    private var thread = pthread_t()
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

    public func join() { pthread_join(thread, nil) }
}
