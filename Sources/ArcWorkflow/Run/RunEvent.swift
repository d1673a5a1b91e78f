import ArcCore

/// One entry of a run's append-only log, and one record on `wf-run run`'s stdout.
public struct RunEvent: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case runStarted = "run_started", runResumed = "run_resumed"
        case stepStarted = "step_started", stepRetrying = "step_retrying"
        case stepSucceeded = "step_succeeded", stepFailed = "step_failed"
        case stepSkipped = "step_skipped", stepCancelled = "step_cancelled"
        case runSucceeded = "run_succeeded", runFailed = "run_failed", runCancelled = "run_cancelled"

        /// Ends the run (until a resume).
        public var endsRun: Bool { self == .runSucceeded || self == .runFailed || self == .runCancelled }
    }

    public var runID: String
    public var kind: Kind
    public var time: String
    public var step: String?
    public var attempt: Int?
    public var exitStatus: Int?
    public var durationMillis: Int64?
    public var reason: String?
    /// Why, in words (an error, a step's failure): without credentials, as every event is
    /// printed, stored and sent with spans.
    public var message: String? {
        get { redactedMessage }
        set { redactedMessage = newValue.map(Secrets.redact) }
    }
    private var redactedMessage: String?
    public var cacheKey: String?
    public var pid: Int?
    /// For step_started: when the process group's leader (pid) started, in clock ticks
    /// after boot, so a reused pid is not taken for the step. Kept in the state only.
    public var pidStart: Int64?
    public var traceID: String?

    public init(runID: String, kind: Kind, time: String = WallClock.now(), step: String? = nil) {
        self.runID = runID
        self.kind = kind
        self.time = time
        self.step = step
    }

    /// The NDJSON record: `ts run_id workflow event step? attempt? exit_status? ...`.
    func record(workflow: String, into b: inout RecordBuilder) {
        b.begin()
        b.string("ts", time)
        b.string("run_id", runID)
        b.string("workflow", workflow)
        b.string("event", kind.rawValue)
        b.optionalString("step", step)
        if let attempt { b.int("attempt", attempt) }
        if let exitStatus { b.int("exit_status", exitStatus) }
        if let durationMillis { b.int("duration_ms", durationMillis) }
        b.optionalString("reason", reason)
        b.optionalString("message", message)
        b.optionalString("cache_key", cacheKey)
        if let pid { b.int(kind == .stepStarted ? "pgid" : "pid", pid) }
        b.optionalString("trace_id", traceID)
        b.end()
    }
}
