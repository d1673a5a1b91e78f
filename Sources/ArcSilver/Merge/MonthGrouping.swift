import ArcCore

/// Gathers daily archives by series and month for `--merge month`, and adds the days of
/// those months that the collect ledger holds but the input did not name.
struct MonthGrouping {
    let runner: SilverRunner
    private var groups: [MonthJob.Key: [MonthJob.Day]] = [:]
    private var order: [MonthJob.Key] = []

    init(runner: SilverRunner) { self.runner = runner }

    /// Takes a daily archive of a known layout into its month; false for anything else
    /// (monthly archives, archives that cannot be identified), which go on alone.
    mutating func add(_ item: ArchiveItem) throws -> Bool {
        guard let identity = try? ArchiveIdentity(path: item.identityText, source: item.source), identity.period == "daily",
              (try? Dataset.of(identity)) != nil else { return false }
        let key = MonthJob.Key(source: identity.source, market: identity.market, type: identity.type, symbol: identity.symbol,
                               interval: identity.interval, month: String(identity.date.prefix(7)))
        if groups[key] == nil { order.append(key) }
        runner.count { $0.read += 1 }
        groups[key, default: []].append(MonthJob.Day(item: item, identity: identity, fromInput: true))
        return true
    }

    func jobs() throws -> [MonthJob] {
        try order.map { key in
            var days = groups[key]!
            let first = days[0].identity
            let folder = String(first.key.prefix(upTo: first.key.lastIndex(of: "/")!)) + "/"
            let named = Set(days.map(\.identity.key))
            for held in try runner.silver?.heldDays(folder: folder, month: key.month) ?? [] where !named.contains(held.key) {
                let item = try ArchiveItem(held: held.dest, key: held.key, sha256: held.sha256, source: first.source)
                if let identity = try? ArchiveIdentity(path: held.key, source: first.source) {
                    days.append(MonthJob.Day(item: item, identity: identity, fromInput: false))
                }
            }
            // One archive per day: the input's last one wins.
            var byDate: [String: MonthJob.Day] = [:]
            for day in days where byDate[day.identity.date]?.fromInput != true || day.fromInput {
                byDate[day.identity.date] = day
            }
            return MonthJob(key: key, days: Array(byDate.values), dataset: try Dataset.of(first), runner: runner)
        }
    }
}
