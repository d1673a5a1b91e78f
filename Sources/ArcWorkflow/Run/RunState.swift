import ArcCore

/// A run as its event log tells it: each step's outcome and the run's. `status`,
/// `history` and `resume` all read runs through this one fold.
public struct RunState: Sendable {
    public enum StepStatus: String, Sendable {
        case pending, running, retrying, succeeded, failed, skipped, cancelled
        /// Done for good: resume keeps it.
        var keptOnResume: Bool { self == .succeeded }
    }

    public struct StepState: Sendable {
        public var id: String
        public var status = StepStatus.pending
        public var attempts = 0
        public var exitStatus: Int?
        public var durationMillis: Int64?
        public var reason: String?
        public var message: String?
        public var startedAt: String?
        public var endedAt: String?
        /// The process group of the attempt last started, while it may still be running.
        public var processGroup: Int?
        /// When that group's leader started (see StepProcessGroup).
        public var processGroupStart: Int64?
        /// For a step skipped on a cache hit: the run whose output it reuses.
        public var cachedFrom: String?
    }

    public enum Status: String, Sendable {
        case running, succeeded, failed, cancelled
        /// Stopped without an end in the log (wf-run was killed): resumable.
        case interrupted
    }

    public var runID: String
    public var steps: [StepState] = []
    /// The log's verdict; `running` until a run event ends it.
    public var ended: RunEvent.Kind?
    public var startedAt: String?
    public var endedAt: String?
    public var resumes = 0
    public var traceID: String?
    public var pid: Int?
    public var message: String?

    public init(runID: String, events: [RunEvent], stepOrder: [String]) {
        self.runID = runID
        steps = stepOrder.map { StepState(id: $0) }
        for e in events { apply(e) }
    }

    public mutating func apply(_ e: RunEvent) {
        switch e.kind {
        case .runStarted, .runResumed:
            if e.kind == .runStarted { startedAt = e.time } else { resumes += 1 }
            ended = nil
            endedAt = nil
            message = nil
            pid = e.pid
            traceID = e.traceID ?? traceID
        case .runSucceeded, .runFailed, .runCancelled:
            ended = e.kind
            endedAt = e.time
            message = e.message
        default:
            guard let id = e.step else { return }
            if !steps.contains(where: { $0.id == id }) { steps.append(StepState(id: id)) }
            let i = steps.firstIndex { $0.id == id }!
            update(&steps[i], e)
        }
    }

    func update(_ s: inout StepState, _ e: RunEvent) {
        switch e.kind {
        case .stepStarted:
            s.status = .running
            s.attempts = e.attempt ?? s.attempts + 1
            if e.attempt == 1 || s.startedAt == nil { s.startedAt = e.time }
            s.processGroup = e.pid
            s.processGroupStart = e.pidStart
            s.exitStatus = nil
            s.reason = nil
            s.message = nil
            s.endedAt = nil
        case .stepRetrying:
            s.status = .retrying
            s.exitStatus = e.exitStatus
            s.reason = e.reason
            s.message = e.message
            s.processGroup = nil
        default:
            s.status = e.kind == .stepSucceeded ? .succeeded : e.kind == .stepFailed ? .failed
                : e.kind == .stepSkipped ? (e.reason == "cached" ? .succeeded : .skipped) : .cancelled
            s.exitStatus = e.exitStatus ?? s.exitStatus
            s.durationMillis = e.durationMillis
            s.reason = e.reason
            s.message = e.message
            s.endedAt = e.time
            s.processGroup = nil
            if e.reason == "cached" { s.cachedFrom = e.message }
        }
    }

    /// `live`: whether a wf-run process holds the run now (its lock is taken).
    public func status(live: Bool) -> Status {
        switch ended {
        case .runSucceeded?: return .succeeded
        case .runFailed?: return .failed
        case .runCancelled?: return .cancelled
        default: return live ? .running : .interrupted
        }
    }

    public func step(_ id: String) -> StepState? { steps.first { $0.id == id } }

    /// The steps whose process groups still run though no end was recorded for them: those
    /// of an interrupted run (its wf-run was killed) outlive it until stopped.
    func leftoverGroups() -> [(step: String, group: StepProcessGroup)] {
        steps.compactMap { s in
            guard let group = StepProcessGroup(id: s.processGroup, leaderStart: s.processGroupStart), group.isRunning else { return nil }
            return (s.id, group)
        }
    }

    /// The steps to show: every step, and the handlers that ran (a run that succeeded
    /// never runs on_failure; listing it as pending would suggest it still might).
    public var shownSteps: [StepState] {
        steps.filter { !(Self.handlerIDs.contains($0.id) && $0.status == .pending) }
    }

    static let handlerIDs: Set<String> = ["on_success", "on_failure", "on_exit"]
}
