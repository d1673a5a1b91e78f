/// One bit per open time of a kline file's period: set when a row had it.
struct KlineSlots {
    private(set) var count = 0
    private var first: Int64 = 0
    private var bits: [UInt64] = []
    /// The highest slot a row had; nil before any.
    private(set) var lastMarked: Int?

    mutating func start(first: Int64, count: Int) {
        self.first = first
        self.count = max(0, count)
        bits = Array(repeating: 0, count: (self.count + 63) / 64)
    }

    /// The slot of an open time on the grid inside the period; nil otherwise.
    func slot(_ t: Int64, _ grid: KlineGrid) -> Int? {
        guard t >= first, grid.onGrid(t) else { return nil }
        let n = grid.calendarMonths ? Int(grid.count(from: first, to: t)) : Int((t - first) / grid.step)
        return n < count ? n : nil
    }

    func time(_ slot: Int, _ grid: KlineGrid) -> Int64 {
        guard grid.calendarMonths else { return first + Int64(slot) * grid.step }
        var t = first
        for _ in 0..<slot { t = KlineGrid.nextMonth(t) }
        return t
    }

    mutating func mark(_ t: Int64, _ grid: KlineGrid) {
        guard let n = slot(t, grid) else { return }
        bits[n >> 6] |= 1 << UInt64(n & 63)
        if n > (lastMarked ?? -1) { lastMarked = n }
    }

    /// Runs [from, to) of slots no row had, in order.
    func unmarkedRuns() -> [(Int, Int)] {
        var runs: [(Int, Int)] = []
        var n = 0
        while n < count {
            if bits[n >> 6] == UInt64.max && n & 63 == 0 && n + 64 <= count { n += 64; continue }
            if bits[n >> 6] & (1 << UInt64(n & 63)) != 0 { n += 1; continue }
            let from = n
            while n < count && bits[n >> 6] & (1 << UInt64(n & 63)) == 0 { n += 1 }
            runs.append((from, n))
        }
        return runs
    }
}
