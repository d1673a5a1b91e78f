import ArcCore

/// The open times a kline interval allows. Intervals up to a day start at midnight UTC
/// (epoch-aligned); `1w` on Mondays (1970-01-05 was one); `1mo` on the first of each
/// month; `3d` has no documented anchor, so its grid starts at the file's first row.
struct KlineGrid {
    static let day: Int64 = 86_400_000_000

    let step: Int64
    let calendarMonths: Bool
    /// An open time on the grid; nil until the first row sets it (3d).
    var origin: Int64?

    init(_ interval: KlineInterval) {
        step = interval.micros
        calendarMonths = interval.isCalendarMonth
        switch interval.name {
        case "3d": origin = nil
        case "1w": origin = 4 * KlineGrid.day
        default: origin = 0
        }
    }

    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        let r = a % b
        return r < 0 ? r + b : r
    }

    static func monthStart(_ t: Int64) -> Int64 {
        let days = t >= 0 ? t / day : (t - day + 1) / day
        let c = Day.daysToCivil(Int(days))
        return Int64(Day.civilToDays(year: c.year, month: c.month, day: 1)) * day
    }

    static func nextMonth(_ t: Int64) -> Int64 {
        let c = Day.daysToCivil(Int(monthStart(t) / day))
        let (y, m) = c.month == 12 ? (c.year + 1, 1) : (c.year, c.month + 1)
        return Int64(Day.civilToDays(year: y, month: m, day: 1)) * day
    }

    func onGrid(_ t: Int64) -> Bool {
        if calendarMonths { return KlineGrid.monthStart(t) == t }
        guard let origin else { return true }
        return KlineGrid.floorMod(t - origin, step) == 0
    }

    /// The open time after `t`'s.
    func next(_ t: Int64) -> Int64 { calendarMonths ? KlineGrid.nextMonth(t) : t + step }

    /// The first grid time at or after `t`; nil while the grid has no origin.
    func atOrAfter(_ t: Int64) -> Int64? {
        if calendarMonths { return KlineGrid.monthStart(t) == t ? t : KlineGrid.nextMonth(t) }
        guard let origin else { return nil }
        return t + KlineGrid.floorMod(origin - t, step)
    }

    /// Open times in [from, to).
    func count(from: Int64, to: Int64) -> Int64 {
        guard to > from else { return 0 }
        if calendarMonths {
            var n: Int64 = 0, t = from
            while t < to && n < 10_000 { n += 1; t = KlineGrid.nextMonth(t) }
            return n
        }
        return (to - from + step - 1) / step
    }
}
