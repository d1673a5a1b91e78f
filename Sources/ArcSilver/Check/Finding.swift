import ArcCore

/// How bad a finding is: `fail` keeps the archive out of silver, `warn` lets it in with
/// the finding recorded.
public enum Severity: String, Sendable {
    case warn, fail
}

/// A check's verdict on an archive: `pass` (no finding), `warn` (warnings only) or `fail`.
public enum CheckStatus: String, Sendable, Comparable {
    case pass, warn, fail

    public static func < (a: CheckStatus, b: CheckStatus) -> Bool { a.rank < b.rank }
    private var rank: Int { self == .pass ? 0 : self == .warn ? 1 : 2 }
}

/// One thing a check found in an archive, with enough to find it again: how often, a few
/// line numbers, and time ranges (from, to: `to` excluded) where it is about time.
public struct Finding: Sendable, Equatable {
    public let code: FailureCode
    public let severity: Severity
    /// One line a user understands.
    public let message: String
    public let count: Int?
    /// Microseconds since the epoch, each [from, to).
    public let ranges: [TimeRange]
    public let lines: [Int]

    public init(code: FailureCode, severity: Severity, message: String, count: Int? = nil,
                ranges: [TimeRange] = [], lines: [Int] = []) {
        self.code = code
        self.severity = severity
        self.message = message
        self.count = count
        self.ranges = ranges
        self.lines = lines
    }
}

/// A span of time in microseconds: from `start` up to, not including, `end`.
public struct TimeRange: Sendable, Equatable {
    public let start: Int64
    public let end: Int64
    public init(_ start: Int64, _ end: Int64) {
        self.start = start
        self.end = end
    }
}
