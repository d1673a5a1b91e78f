import ArcCore

/// A cron expression: `minute hour day-of-month month day-of-week`, or six fields with
/// seconds first, or one of the macros @yearly (@annually), @monthly, @weekly, @daily
/// (@midnight) and @hourly.
///
/// Day matching follows Vixie cron: when day-of-month and day-of-week are both restricted
/// (neither field starts with `*`), a day matches if either does; otherwise both must.
///
/// Time zones and daylight saving time. Fields are matched against LOCAL wall-clock time
/// in the zone given to `next(after:in:)`. Where the clock jumps forward (spring), the
/// local times it skips do not exist: a schedule matching any of them fires once, at the
/// instant the gap ends (the transition), however many of its times fell in the gap.
/// Where the clock goes back (autumn), the local times that occur twice fire once, at
/// their first occurrence; during the repeated stretch nothing fires a second time, so an
/// every-15-minutes schedule is quiet for that hour. A schedule whose times avoid the gap
/// and the overlap (as most do: transitions are usually between 00:00 and 03:00) is not
/// affected. Internally each matching local time is mapped to an instant (a gap to its
/// transition, a repeated time to its earlier instant); that mapping never decreases, so
/// the first match whose instant is after the given one is the answer.
public struct CronSchedule: Sendable {
    /// The expression as written.
    public let expression: String
    let seconds: CronValues
    let minutes: CronValues
    let hours: CronValues
    let daysOfMonth: CronValues
    let months: CronValues
    /// 0-6, Sunday 0 (a 7 in the expression is folded into 0).
    let daysOfWeek: CronValues
    /// Whether the day-of-month and day-of-week fields do not start with `*` (Vixie's test).
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    /// Where the day-of-month field starts in the expression (1-based), for `checkCanFire`.
    let dayOfMonthColumn: Int

    static let macros: [(name: String, fields: String)] = [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"),
    ]

    public static func parse(_ text: String) throws -> CronSchedule {
        let chars = Array(text)
        var fields = splitFields(chars)
        if let first = fields.first, first.text.first == "@" {
            let name = String(first.text).lowercased()
            if name == "@reboot" {
                throw CronError("@reboot is not supported: schedules here are by the clock only", column: first.start + 1)
            }
            guard let macro = macros.first(where: { $0.name == name }) else {
                let known = macros.map(\.name).joined(separator: " ")
                throw CronError("unknown macro '\(String(first.text))' (known: \(known))", column: first.start + 1)
            }
            if fields.count > 1 {
                throw CronError("unexpected text after \(String(first.text))", column: fields[1].start + 1)
            }
            fields = splitFields(Array(macro.fields)).map { (first.start, $0.text) }
        } else if fields.count != 5 && fields.count != 6 {
            let column = fields.count > 6 ? fields[6].start + 1 : (fields.last.map { $0.start + $0.text.count + 1 } ?? 1)
            throw CronError("expected 5 fields (or 6 with seconds), got \(fields.count)", column: column)
        }
        if fields.count == 5 { fields.insert((0, ["0"]), at: 0) }
        let kinds: [CronFieldKind] = [.second, .minute, .hour, .dayOfMonth, .month, .dayOfWeek]
        var values: [CronValues] = []
        for (kind, field) in zip(kinds, fields) {
            var parser = CronFieldParser(kind: kind, text: field.text, column: field.start + 1)
            values.append(try parser.parse())
        }
        var daysOfWeek = values[5]
        if daysOfWeek.contains(7) {
            daysOfWeek.bits &= ~(1 << 7)
            daysOfWeek.insert(0)
        }
        return CronSchedule(expression: text, seconds: values[0], minutes: values[1], hours: values[2],
                            daysOfMonth: values[3], months: values[4], daysOfWeek: daysOfWeek,
                            dayOfMonthRestricted: fields[3].text.first != "*",
                            dayOfWeekRestricted: fields[5].text.first != "*", dayOfMonthColumn: fields[3].start + 1)
    }

    /// Throws when the expression can never fire (`0 0 30 2 *`, `0 0 31 4,6,9,11 *`): a
    /// schedule that silently never runs is a mistake to report where it is written, not a
    /// quiet scheduler. Only days and months can rule out every time: the other fields
    /// always allow some value, every month has every weekday, and when both day fields are
    /// restricted either one will do.
    public func checkCanFire() throws {
        if dayOfMonthRestricted && dayOfWeekRestricted { return }
        let allowedMonths = (1...12).filter { months.contains($0) }
        let days = (1...31).filter { daysOfMonth.contains($0) }
        // February: 29 days in leap years.
        let lengths = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard let firstDay = days.first, !allowedMonths.contains(where: { firstDay <= lengths[$0 - 1] }) else { return }
        let names = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                     "October", "November", "December"]
        let monthList = Self.list(allowedMonths.map { names[$0 - 1] }, "and")
        throw CronError("never fires: \(monthList) \(allowedMonths.count == 1 ? "has" : "have") no day \(Self.list(days.map(String.init), "or"))",
                        column: dayOfMonthColumn)
    }

    /// "a", "a and b", "a, b and c".
    private static func list(_ items: [String], _ conjunction: String) -> String {
        items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
    }

    /// Whitespace-separated fields with the index of each one's first character.
    private static func splitFields(_ chars: [Character]) -> [(start: Int, text: [Character])] {
        var fields: [(start: Int, text: [Character])] = []
        var i = 0
        while i < chars.count {
            if chars[i] == " " || chars[i] == "\t" { i += 1; continue }
            let start = i
            while i < chars.count, chars[i] != " ", chars[i] != "\t" { i += 1 }
            fields.append((start, Array(chars[start..<i])))
        }
        return fields
    }

    /// The first firing strictly after `unixSeconds`, or nil if the expression can never
    /// fire (`0 0 30 2 *`). Every possible schedule fires at least once in any 8 years (29
    /// February may be 8 years away across 2100), so the search stops after 9.
    public func next(after unixSeconds: Int64, in zone: TimeZoneRules) -> Int64? {
        // Beyond about ±30,000 years the local-time arithmetic could overflow; no clock is there.
        guard abs(unixSeconds) < 1 << 40 else { return nil }
        let startLocal = zone.localSeconds(at: unixSeconds)
        let lastYear = CivilTime(localSeconds: startLocal).year + 9
        // A local time at or before the current one maps to an instant at or before it
        // (the mapping never decreases), so the search starts one second later.
        var from = startLocal + 1
        while let local = nextLocalTime(atOrAfter: from, throughYear: lastYear) {
            let instant = zone.instant(forLocal: local)
            if instant > unixSeconds { return instant }
            // The second pass of a repeated hour: this time already fired on the first.
            from = local + 1
        }
        return nil
    }

    /// Firing times in `after < t <= until`, ascending, at most `maxCount` of them.
    public func firings(after: Int64, until: Int64, in zone: TimeZoneRules, maxCount: Int = 10_000) -> [Int64] {
        var found: [Int64] = []
        var last = after
        while found.count < maxCount, let t = next(after: last, in: zone), t <= until {
            found.append(t)
            last = t
        }
        return found
    }
}
