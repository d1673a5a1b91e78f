import ArcCore

/// What the user asked arc-discover for. Empty filters mean everything listed.
public struct TreeSelection<Market: ArchiveMarket>: SymbolSelecting, Sendable {
    public var markets: [Market] = Array(Market.allCases)
    public var periods: [ArchivePeriod] = ArchivePeriod.allCases
    /// nil: every type the listing shows.
    public var types: [String]?
    /// Exact names or globs; empty: every symbol listed.
    public var symbols: [Glob] = []
    /// nil: every interval listed.
    public var intervals: [String]?
    public var since: Day?
    public var until: Day?

    public init() {}

    public func wantsType(_ type: String) -> Bool { types.map { $0.contains(type) } ?? true }

    /// A folder holding types (`depth/`) is listed when any wanted type is inside it.
    public func wantsTypeGroup(_ group: String) -> Bool {
        types.map { $0.contains { $0.hasPrefix(group + "/") } } ?? true
    }

    public func wantsInterval(_ interval: String) -> Bool { intervals.map { $0.contains(interval) } ?? true }

    public typealias DatePosition = ArchiveDateRange.Position

    /// Where an archive's date (`YYYY-MM-DD` or `YYYY-MM`) falls against --since/--until;
    /// a month counts as within when any of its days is.
    public func position(of date: String, period: ArchivePeriod) -> DatePosition {
        ArchiveDateRange(since: since, until: until).position(of: date, period: period)
    }

    /// A listing marker that skips the keys dated before --since: keys sort by date
    /// within a folder, and `STEM-2024-01-01` sorts just before `STEM-2024-01-01.zip`.
    public func sinceMarker(folder: String, stem: String, period: ArchivePeriod) -> String? {
        guard let since else { return nil }
        return folder + stem + "-" + (period == .daily ? since.description : since.month.description)
    }
}
