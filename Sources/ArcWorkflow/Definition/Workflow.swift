import ArcCore
import ArcSchedule

/// A workflow as its file describes it: steps (shell command lines) with their needs,
/// retries, timeouts and conditions, plus the run's environment, parameters, schedule and
/// handlers. Built by `WorkflowLoader`; every value has been checked, so the runner
/// trusts it.
public struct Workflow: Sendable {
    public var name: String
    /// Where it was read from (absolute), and the text read: a run keeps the text, so a
    /// resume runs what the original run ran even if the file changed since.
    public var file: String
    public var text: String
    public var schedule: CronSchedule?
    public var timeZone: TimeZoneRules
    /// Steps running at once, at most.
    public var concurrency: Int
    /// Environment for every step, in file order (a value may use the ones before it).
    public var environment: [(String, String)]
    /// Dotenv files for every step (`env_file`), read when a run starts, never kept.
    public var envFiles: [EnvFileReference] = []
    /// Parameters and their defaults, in file order; `-p name=value` overrides.
    public var parameters: [(String, String)]
    public var steps: [Step]
    public var onSuccess: Step?
    public var onFailure: Step?
    /// Runs last, whatever the outcome (after on_success or on_failure).
    public var onExit: Step?

    public var handlers: [Step] { [onSuccess, onFailure, onExit].compactMap { $0 } }

    /// The directory relative paths in the file are resolved against.
    public var directory: String { FileSystem.parent(of: file) }
}

/// One step: a shell command line and how to run it.
public struct Step: Sendable {
    public enum Condition: String, Sendable, CaseIterable {
        /// Every need succeeded (the default).
        case success
        /// At least one need failed, or was skipped because something before it failed.
        case failure
        /// Every need finished, whatever its outcome.
        case always
    }

    public var id: String
    public var run: String
    public var needs: [String] = []
    /// Where each need is written (line, column), for messages about it.
    public var needPositions: [(line: Int, column: Int)] = []
    /// Attempts after the first.
    public var retries = 0
    /// The delay before the first retry; each later one doubles it, with jitter.
    public var retryDelay = 1.0
    public var retryMaxDelay = 300.0
    /// Seconds; nil: no limit.
    public var timeout: Double?
    public var when = Condition.success
    /// A failure does not fail the run, and the steps after it run as after a success.
    public var continueOnFailure = false
    public var environment: [(String, String)] = []
    /// Dotenv files for this step; their values override the workflow's [env], the
    /// step's env overrides them.
    public var envFiles: [EnvFileReference] = []
    public var workdir: String?
    public var cacheKey: String?
    /// Where the step's table starts in the file, for messages.
    public var line = 0
    /// True for on_success, on_failure and on_exit.
    public var isHandler = false

    public init(id: String, run: String) {
        self.id = id
        self.run = run
    }
}
