import ArcCore

/// Wall-clock ("local") times are kept as seconds since 1970-01-01T00:00 *local*, i.e. as
/// if the zone were UTC, so civil-date arithmetic (Day.civilToDays) applies unchanged.
extension TimeZoneRules {
    /// The local wall-clock time at an instant.
    func localSeconds(at unixSeconds: Int64) -> Int64 { unixSeconds + Int64(offset(at: unixSeconds)) }

    /// The instant a local wall-clock time names. A time that occurs twice (the clock went
    /// back) gives its first occurrence; a time that never occurs (the clock jumped over it)
    /// gives the transition instant that ends the gap. Both choices keep the mapping
    /// non-decreasing, which CronSchedule.next relies on.
    func instant(forLocal local: Int64) -> Int64 {
        // Offsets stay within about a day of UTC, so every instant this local time could
        // name lies within two days of it; split that window at each possible change.
        let low = local - 2 * 86_400, high = local + 2 * 86_400
        var starts = [low]
        for change in changeInstants(in: low + 1, high) where change > starts[starts.count - 1] {
            starts.append(change)
        }
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : high + 1
            let candidate = local - Int64(offset(at: start))
            if candidate >= start && candidate < end { return candidate }
        }
        // In a gap: the first stretch whose wall clock starts past this time begins at the
        // transition that skipped it.
        for start in starts.dropFirst() where localSeconds(at: start) > local { return start }
        return local - Int64(offset(at: local))
    }
}

/// Splits local seconds into a civil date and time of day.
struct CivilTime: Equatable {
    var year: Int, month: Int, day: Int
    var hour: Int, minute: Int, second: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second) = (hour, minute, second)
    }

    init(localSeconds: Int64) {
        let days = localSeconds >= 0 ? localSeconds / 86_400 : (localSeconds - 86_399) / 86_400
        let secondOfDay = Int(localSeconds - days * 86_400)
        (year, month, day) = Day.daysToCivil(Int(days))
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
    }

    var localSeconds: Int64 {
        Int64(Day.civilToDays(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }

    /// 0 = Sunday.
    var weekday: Int { ((Day.civilToDays(year: year, month: month, day: day) + 4) % 7 + 7) % 7 }
}

/// `2026-11-26T01:00:00+01:00`, or `...Z` at offset 0. RFC 3339 offsets have no seconds,
/// so an offset that does (local mean time, before about 1900) is written in UTC instead.
public func rfc3339(_ unixSeconds: Int64, in zone: TimeZoneRules) -> String {
    var offset = Int(zone.offset(at: unixSeconds))
    if offset % 60 != 0 { offset = 0 }
    let c = CivilTime(localSeconds: unixSeconds + Int64(offset))
    let text = zeroPadded(c.year, 4) + "-" + zeroPadded(c.month, 2) + "-" + zeroPadded(c.day, 2) + "T"
        + zeroPadded(c.hour, 2) + ":" + zeroPadded(c.minute, 2) + ":" + zeroPadded(c.second, 2)
    if offset == 0 { return text + "Z" }
    let magnitude = abs(offset)
    return text + (offset < 0 ? "-" : "+") + zeroPadded(magnitude / 3600, 2) + ":" + zeroPadded(magnitude / 60 % 60, 2)
}
