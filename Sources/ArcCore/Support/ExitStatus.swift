/// Exit statuses shared by every tool (DESIGN.md, "Exit status"); each man page lists them.
public enum ExitStatus: Int32, CaseIterable, Sendable {
    /// Everything asked for was done.
    case ok = 0
    /// Some records failed; the rest were done.
    case failures = 1
    /// Usage error or invalid input: nothing was done.
    case usage = 2
    /// A required service or file could not be reached.
    case unavailable = 3
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
        case .interrupted: return "interrupted by SIGINT after a clean stop"
        case .terminated: return "terminated by SIGTERM after a clean stop"
        }
    }
}
