import ArcCore

/// The POSIX TZ rule in a TZif footer (RFC 8536 section 3.3), e.g. `EST5EDT,M3.2.0,M11.1.0`,
/// `CET-1CEST,M3.5.0,M10.5.0/3` or `<+0330>-3:30`. It governs every time after the file's
/// last transition; Debian's "slim" files stop their explicit transitions early, so this
/// is what answers for the years a scheduler cares about.
struct PosixTimeZoneRule: Sendable {
    let standard: TimeZoneRules.LocalTimeType
    let daylight: Daylight?

    struct Daylight: Sendable {
        let type: TimeZoneRules.LocalTimeType
        /// Local standard time when daylight time starts.
        let start: TransitionTime
        /// Local daylight time when it ends.
        let end: TransitionTime
    }

    /// A day of the year and a time of that day, which RFC 8536 lets run from -167 to 167
    /// hours, so a transition may land on a neighbouring day or even year.
    struct TransitionTime: Sendable {
        enum DayRule: Sendable {
            /// `Jn`: 1...365, February 29 never counted.
            case julianNoLeap(Int)
            /// `n`: 0...365, February 29 counted.
            case zeroBased(Int)
            /// `Mm.w.d`: weekday d (0 = Sunday) of week w (5 = last) of month m.
            case monthWeekDay(month: Int, week: Int, weekday: Int)
        }
        let day: DayRule
        let secondsIntoDay: Int64

        /// Days since the epoch of this day in `year`.
        func daysSinceEpoch(in year: Int) -> Int {
            let january1 = Day.civilToDays(year: year, month: 1, day: 1)
            switch day {
            case .julianNoLeap(let n):
                return january1 + n - 1 + (Day.isLeap(year) && n >= 60 ? 1 : 0)
            case .zeroBased(let n):
                return january1 + n
            case .monthWeekDay(let month, let week, let weekday):
                let first = Day.civilToDays(year: year, month: month, day: 1)
                let firstWeekday = ((first + 4) % 7 + 7) % 7  // 1970-01-01 was a Thursday
                var day = 1 + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
                if day > Day.daysIn(year: year, month: month) { day -= 7 }
                return first + day - 1
            }
        }
    }

    func localTimeType(at t: Int64) -> TimeZoneRules.LocalTimeType {
        guard let daylight else { return standard }
        let year = Self.year(of: t + Int64(standard.utoff))
        var state: (instant: Int64, isDST: Bool)?
        for event in events(from: year - 2, through: year + 1) where event.instant <= t {
            state = event
        }
        return state?.isDST == true ? daylight.type : standard
    }

    /// Instants in `low...high` where daylight time starts or ends, ascending.
    func eventInstants(in low: Int64, _ high: Int64) -> [Int64] {
        guard daylight != nil, low <= high else { return [] }
        let first = Self.year(of: low) - 1, last = Self.year(of: high) + 1
        return events(from: first, through: last).map(\.instant).filter { $0 >= low && $0 <= high }
    }

    /// Starts and ends of daylight time for the years given, ascending. At equal instants an
    /// end sorts before a start, so `0/0,J365/25` (the RFC's idiom for all-year daylight
    /// time) stays in daylight time across the new year.
    private func events(from firstYear: Int, through lastYear: Int) -> [(instant: Int64, isDST: Bool)] {
        guard let daylight else { return [] }
        var list: [(instant: Int64, isDST: Bool)] = []
        for year in firstYear...lastYear {
            let start = Int64(daylight.start.daysSinceEpoch(in: year)) * 86_400
                + daylight.start.secondsIntoDay - Int64(standard.utoff)
            let end = Int64(daylight.end.daysSinceEpoch(in: year)) * 86_400
                + daylight.end.secondsIntoDay - Int64(daylight.type.utoff)
            list.append((start, true))
            list.append((end, false))
        }
        return list.sorted { $0.instant != $1.instant ? $0.instant < $1.instant : !$0.isDST && $1.isDST }
    }

    static func year(of seconds: Int64) -> Int {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return Day.daysToCivil(Int(days)).year
    }
}
