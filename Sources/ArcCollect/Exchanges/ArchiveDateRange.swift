import ArcCore

/// --since and --until of any source: where an archive's day or month falls against them.
public struct ArchiveDateRange: Sendable {
    public var since: Day?
    public var until: Day?

    public init(since: Day? = nil, until: Day? = nil) {
        self.since = since
        self.until = until
    }

    public enum Position { case before, within, after }

    /// Where `date` (`YYYY-MM-DD` daily, `YYYY-MM` monthly) falls; a month counts as within
    /// when any of its days is. A date that does not parse counts as within.
    public func position(of date: String, period: ArchivePeriod) -> Position {
        let first: Day, last: Day
        if period == .daily {
            guard let d = Day(date) else { return .within }
            first = d
            last = d
        } else {
            guard let m = Month(date) else { return .within }
            first = m.firstDay
            last = m.lastDay
        }
        if let since, last < since { return .before }
        if let until, first > until { return .after }
        return .within
    }

    /// --since and --until as given: a day, or a month (its first day for --since, its last
    /// for --until).
    public init(_ p: ParsedCommand) throws {
        self.init(since: try ArchiveDateRange.day(p, "since", endOfMonth: false),
                  until: try ArchiveDateRange.day(p, "until", endOfMonth: true))
        if let since, let until, since > until { throw UsageError("--since \(since) is after --until \(until)") }
    }

    private static func day(_ p: ParsedCommand, _ name: String, endOfMonth: Bool) throws -> Day? {
        guard let text = p.value(name) else { return nil }
        if let day = Day(text) { return day }
        if let month = Month(text) { return endOfMonth ? month.lastDay : month.firstDay }
        throw UsageError("--\(name): expected a date YYYY-MM-DD or a month YYYY-MM, got '\(text)'")
    }
}
