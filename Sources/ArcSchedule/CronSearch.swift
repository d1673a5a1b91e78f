import ArcCore

/// The search behind `CronSchedule.next`: the first local wall-clock time at or after a
/// given one that every field allows. It skips by whole fields (to the next allowed month,
/// then day, hour, minute, second) so that a schedule years away costs a few hundred steps.
extension CronSchedule {
    func nextLocalTime(atOrAfter local: Int64, throughYear lastYear: Int) -> Int64? {
        var c = CivilTime(localSeconds: local)
        while c.year <= lastYear {
            guard months.contains(c.month) else {
                if let month = months.first(atOrAbove: c.month + 1), month <= 12 {
                    c = CivilTime(year: c.year, month: month, day: 1, hour: 0, minute: 0, second: 0)
                } else {
                    c = CivilTime(year: c.year + 1, month: months.first(atOrAbove: 1)!, day: 1, hour: 0, minute: 0, second: 0)
                }
                continue
            }
            guard dayMatches(c) else {
                advanceDay(&c)
                continue
            }
            guard hours.contains(c.hour) else {
                if let hour = hours.first(atOrAbove: c.hour + 1), hour <= 23 {
                    (c.hour, c.minute, c.second) = (hour, 0, 0)
                } else {
                    advanceDay(&c)
                }
                continue
            }
            guard minutes.contains(c.minute) else {
                if let minute = minutes.first(atOrAbove: c.minute + 1), minute <= 59 {
                    (c.minute, c.second) = (minute, 0)
                } else {
                    advanceHour(&c)
                }
                continue
            }
            guard seconds.contains(c.second) else {
                if let second = seconds.first(atOrAbove: c.second + 1), second <= 59 {
                    c.second = second
                } else {
                    advanceMinute(&c)
                }
                continue
            }
            return c.localSeconds
        }
        return nil
    }

    /// Vixie cron's rule: either day field may match when both are restricted.
    func dayMatches(_ c: CivilTime) -> Bool {
        guard c.day <= Day.daysIn(year: c.year, month: c.month) else { return false }
        let byMonthDay = daysOfMonth.contains(c.day), byWeekday = daysOfWeek.contains(c.weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return byMonthDay || byWeekday }
        return byMonthDay && byWeekday
    }

    /// To 00:00:00 of the next day (the month and year roll over as needed).
    private func advanceDay(_ c: inout CivilTime) {
        (c.hour, c.minute, c.second) = (0, 0, 0)
        c.day += 1
        if c.day > Day.daysIn(year: c.year, month: c.month) {
            c.day = 1
            c.month += 1
            if c.month > 12 { (c.month, c.year) = (1, c.year + 1) }
        }
    }

    /// To the start of the next hour.
    private func advanceHour(_ c: inout CivilTime) {
        (c.minute, c.second) = (0, 0)
        if c.hour < 23 { c.hour += 1 } else { advanceDay(&c) }
    }

    /// To the start of the next minute.
    private func advanceMinute(_ c: inout CivilTime) {
        c.second = 0
        if c.minute < 59 { c.minute += 1 } else { advanceHour(&c) }
    }
}
