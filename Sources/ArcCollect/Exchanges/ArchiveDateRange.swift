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
}
