import Glibc

/// SIGINT and SIGTERM, turned from asynchronous signals into an ordinary event: the
/// signals are blocked in every thread and one watcher thread waits for them with
/// `sigwait`, so stop handlers run as normal code (they may take locks, wake event
/// loops). A second signal exits at once: every write is already safe to cut short.
public final class StopSignal: @unchecked Sendable { // handlers and `received` are guarded by `lock`
    private let lock = Lock()
    private var handlers: [@Sendable (Int32) -> Void] = []
    private var forcedExitHandlers: [@Sendable () -> Void] = []
    private var received: Int32 = 0

    public static let shared = StopSignal()

    /// The signal that asked us to stop, or 0.
    public var signal: Int32 { lock.withLock { received } }
    public var requested: Bool { signal != 0 }

    /// The exit status for a clean stop after the signal received.
    public var exitStatus: ExitStatus { signal == SIGTERM ? .terminated : .interrupted }

    /// Blocks SIGINT and SIGTERM and starts the watcher. Call before starting other threads,
    /// which inherit the mask.
    public func install() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        WorkerThread(name: "signals") { [self, set] in
            var set = set
            while true {
                var sig: Int32 = 0
                guard sigwait(&set, &sig) == 0 else { continue }
                let (first, toRun, lastWords): (Bool, [@Sendable (Int32) -> Void], [@Sendable () -> Void]) = lock.withLock {
                    let first = received == 0
                    if first { received = sig }
                    return (first, handlers, forcedExitHandlers)
                }
                if !first {
                    lastWords.forEach { $0() }
                    _exit(sig == SIGTERM ? ExitStatus.terminated.rawValue : ExitStatus.interrupted.rawValue)
                }
                for handler in toRun { handler(sig) }
            }
        }.detach()
    }

    /// Runs `handler` just before a second signal exits at once: for what must not outlive
    /// us (a child process). It must be quick and must not take locks.
    public func onForcedExit(_ handler: @escaping @Sendable () -> Void) {
        lock.withLock { forcedExitHandlers.append(handler) }
    }

    /// Runs `handler` (on the watcher thread) when a stop is requested.
    public func onStop(_ handler: @escaping @Sendable (Int32) -> Void) {
        let already: Int32 = lock.withLock {
            handlers.append(handler)
            return received
        }
        if already != 0 { handler(already) }
    }
}

/// Ignore SIGPIPE: a closed pipe shows up as EPIPE from write, which tools handle.
public func ignoreSIGPIPE() {
    signal(SIGPIPE, SIG_IGN)
}

/// Linux's names for its standard signals (the numbers differ on other systems).
public enum SignalName {
    static let names = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
                        "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD",
                        "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ",
                        "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"]

    /// "SIGKILL" for 9; nil for a real-time or unknown signal.
    public static func of(_ sig: Int32) -> String? {
        sig >= 1 && Int(sig) <= names.count ? names[Int(sig) - 1] : nil
    }
}
