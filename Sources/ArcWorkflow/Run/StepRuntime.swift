import Glibc
import ArcCore

/// A step while a run drives it: its outcome so far and, while an attempt runs, that
/// attempt's process group, deadlines and span.
final class StepRuntime {
    let step: Step
    var status = RunState.StepStatus.pending
    var attempt = 0
    /// The running attempt's process group (its shell's pid), or 0.
    var processGroup: pid_t = 0
    var attemptStart: UInt64 = 0
    var attemptStartWall = ""
    /// When the running attempt times out, and when a stopped one is killed outright.
    var deadline: UInt64?
    var killAt: UInt64?
    var timedOut = false
    var retryAt: UInt64?
    /// Skipped because a need failed (so a `when = "failure"` step after it runs).
    var upstreamFailed = false
    /// Where its output is: this run's step directory, or a cached run's.
    var directory: String
    var span: Span?
    var waiter: WorkerThread?
    var exitStatus: Int32?

    init(step: Step, directory: String) {
        self.step = step
        self.directory = directory
    }

    var isTerminal: Bool {
        switch status {
        case .succeeded, .failed, .skipped, .cancelled: return true
        default: return false
        }
    }

    /// Counts as a success for the steps after it: succeeded, or failed with continue_on_failure.
    var letsDependentsRun: Bool { status == .succeeded || (status == .failed && step.continueOnFailure) }

    /// Failed, or skipped because something before it failed.
    var failedUpstream: Bool { status == .failed || (status == .skipped && upstreamFailed) }

    /// Fails the run: a failure not allowed by continue_on_failure.
    var failsRun: Bool { status == .failed && !step.continueOnFailure }

    /// The delay before retry number `retry` (1-based): retry_delay doubled each time, up to
    /// retry_max_delay, then scaled by a random factor in [0.5, 1] so that steps failing
    /// together do not all come back at once.
    static func backoff(_ step: Step, retry: Int) -> Double {
        let exponential = step.retryDelay * Double(1 << min(max(retry - 1, 0), 30))
        return min(exponential, step.retryMaxDelay) * Double.random(in: 0.5...1)
    }
}

/// The process groups of running steps: on a second Ctrl-C the signal thread kills them
/// all before wf-run exits. That thread waits in sigwait, not in a signal handler, so a
/// lock is safe here, and the holders never block inside it.
final class ProcessGroups: Sendable {
    private let groups = Locked(Set<pid_t>())

    func add(_ pgid: pid_t) { groups.withLock { _ = $0.insert(pgid) } }

    func remove(_ pgid: pid_t) { groups.withLock { _ = $0.remove(pgid) } }

    func killAll(_ sig: Int32) {
        for pgid in groups.current where pgid > 0 { kill(-pgid, sig) }
    }
}
