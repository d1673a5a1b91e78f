import ArcCore

/// Parses a POSIX TZ string as RFC 8536 extends it: `std offset [dst [offset] [,start[/time],end[/time]]]`.
/// A daylight name without rules gets the US rules (`M3.2.0,M11.1.0`), as glibc does.
extension PosixTimeZoneRule {
    init?(_ text: String) {
        var scanner = PosixScanner(bytes: Array(text.utf8))
        guard let standardName = scanner.name(), let standardWest = scanner.duration(maxHours: 24) else { return nil }
        let standard = TimeZoneRules.LocalTimeType(utoff: Int32(-standardWest), isDST: false, abbreviation: standardName)
        if scanner.atEnd {
            self.init(standard: standard, daylight: nil)
            return
        }
        guard let daylightName = scanner.name() else { return nil }
        var daylightWest = standardWest - 3600
        if !scanner.atEnd && !scanner.peek(","), let west = scanner.duration(maxHours: 24) { daylightWest = west }
        let start: TransitionTime, end: TransitionTime
        if scanner.atEnd {
            start = TransitionTime(day: .monthWeekDay(month: 3, week: 2, weekday: 0), secondsIntoDay: 7200)
            end = TransitionTime(day: .monthWeekDay(month: 11, week: 1, weekday: 0), secondsIntoDay: 7200)
        } else {
            guard scanner.take(","), let s = scanner.transitionTime(), scanner.take(","),
                  let e = scanner.transitionTime(), scanner.atEnd else { return nil }
            start = s
            end = e
        }
        let type = TimeZoneRules.LocalTimeType(utoff: Int32(-daylightWest), isDST: true, abbreviation: daylightName)
        self.init(standard: standard, daylight: Daylight(type: type, start: start, end: end))
    }
}

struct PosixScanner {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { i >= bytes.count }

    func peek(_ c: Character) -> Bool { i < bytes.count && bytes[i] == c.asciiValue! }

    mutating func take(_ c: Character) -> Bool {
        guard peek(c) else { return false }
        i += 1
        return true
    }

    /// `EST`, or `<+0545>` for names that are not all letters; at least three characters.
    mutating func name() -> String? {
        let start: Int, end: Int
        if take("<") {
            start = i
            while i < bytes.count, bytes[i] != UInt8(ascii: ">") {
                let c = bytes[i]
                guard isLetter(c) || isDigit(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") else { return nil }
                i += 1
            }
            end = i
            guard take(">") else { return nil }
        } else {
            start = i
            while i < bytes.count, isLetter(bytes[i]) { i += 1 }
            end = i
        }
        guard end - start >= 3 else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// `[+-]hh[:mm[:ss]]` in seconds. For an offset the sign means west (POSIX), for a
    /// transition time it means before or after midnight.
    mutating func duration(maxHours: Int) -> Int64? {
        var sign: Int64 = 1
        if take("-") { sign = -1 } else { _ = take("+") }
        guard let hours = number(maxDigits: 3), hours <= maxHours else { return nil }
        var seconds = Int64(hours) * 3600
        if take(":") {
            guard let minutes = number(maxDigits: 2), minutes < 60 else { return nil }
            seconds += Int64(minutes) * 60
            if take(":") {
                guard let secs = number(maxDigits: 2), secs < 60 else { return nil }
                seconds += Int64(secs)
            }
        }
        return sign * seconds
    }

    /// `Jn`, `n` or `Mm.w.d`, then an optional `/time` (02:00 when absent).
    mutating func transitionTime() -> PosixTimeZoneRule.TransitionTime? {
        let day: PosixTimeZoneRule.TransitionTime.DayRule
        if take("J") {
            guard let n = number(maxDigits: 3), (1...365).contains(n) else { return nil }
            day = .julianNoLeap(n)
        } else if take("M") {
            guard let m = number(maxDigits: 2), (1...12).contains(m), take("."),
                  let w = number(maxDigits: 1), (1...5).contains(w), take("."),
                  let d = number(maxDigits: 1), (0...6).contains(d) else { return nil }
            day = .monthWeekDay(month: m, week: w, weekday: d)
        } else {
            guard let n = number(maxDigits: 3), (0...365).contains(n) else { return nil }
            day = .zeroBased(n)
        }
        var time: Int64 = 7200
        if take("/") {
            guard let t = duration(maxHours: 167) else { return nil }
            time = t
        }
        return PosixTimeZoneRule.TransitionTime(day: day, secondsIntoDay: time)
    }

    mutating func number(maxDigits: Int) -> Int? {
        var value = 0, count = 0
        while i < bytes.count, isDigit(bytes[i]), count < maxDigits {
            value = value * 10 + Int(bytes[i] - 48)
            i += 1
            count += 1
        }
        return count == 0 ? nil : value
    }

    private func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }
    private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}
