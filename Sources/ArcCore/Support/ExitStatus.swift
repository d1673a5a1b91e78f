/// Exit statuses shared by every tool (DESIGN.md, "Exit status"); each man page lists them.
public enum ExitStatus: Int32, CaseIterable, Sendable {
    /// The statuses every tool can exit with (each man page lists them).
    public static let standard: [ExitStatus] = [.ok, .failures, .usage, .unavailable, .interrupted, .terminated]

    /// Everything asked for was done.
    case ok = 0
    /// Some records failed; the rest were done.
    case failures = 1
    /// Usage error or invalid input: nothing was done.
    case usage = 2
    /// A required service or file could not be reached.
    case unavailable = 3
    /// wf-run: the workflow is already running and overlap was not allowed (sysexits'
    /// EX_TEMPFAIL: try again later). Cron's next firing will.
    case busy = 75
    /// Stopped cleanly after SIGINT.
    case interrupted = 130
    /// Stopped cleanly after SIGTERM.
    case terminated = 143

    public var meaning: String {
        switch self {
        case .ok: return "everything was done"
        case .failures: return "some records failed, the rest were done"
        case .usage: return "usage error or invalid input; nothing was done"
        case .unavailable: return "a required service or file could not be reached"
        case .busy: return "the workflow is already running (a second run was not started)"
        case .interrupted: return "interrupted by SIGINT after a clean stop"
        case .terminated: return "terminated by SIGTERM after a clean stop"
        }
    }
}
