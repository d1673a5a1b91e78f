import Glibc

/// Wall-clock time for record timestamps (RFC 3339, UTC, milliseconds).
public enum WallClock {
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// `2024-01-02T03:04:05.678Z`
    public static func rfc3339(millis: Int64) -> String {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let ms = Int(millis - seconds * 1000)
        let day = Day(daysSinceEpoch: Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400))
        let secOfDay = Int(seconds - Int64(day.daysSinceEpoch) * 86_400)
        return day.description + "T" + zeroPadded(secOfDay / 3600, 2) + ":" + zeroPadded(secOfDay / 60 % 60, 2) + ":"
            + zeroPadded(secOfDay % 60, 2) + "." + zeroPadded(ms, 3) + "Z"
    }

    public static func now() -> String { rfc3339(millis: nowMillis()) }

    public static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// `2024-01-02T03:04:05.678901Z`: microseconds, for spans (a waterfall of short spans
    /// needs more than milliseconds; nanoseconds would be noise).
    public static func rfc3339(nanos: Int64) -> String {
        let millis = nanos >= 0 ? nanos / 1_000_000 : (nanos - 999_999) / 1_000_000
        let micros = Int((nanos - millis * 1_000_000) / 1000)
        let text = rfc3339(millis: millis)
        return String(text.dropLast()) + zeroPadded(micros, 3) + "Z"
    }

    /// Like `parseRFC3339`, to the nanosecond.
    /// Nil outside what Int64 nanoseconds hold (1677-09-21 to 2262-04-11).
    public static func parseRFC3339Nanos(_ text: String) -> Int64? {
        guard let millis = parseRFC3339(text) else { return nil }
        let (nanos, overflow) = millis.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return nil }
        // The digits past milliseconds, if any (parseRFC3339 has checked the shape).
        let b = Array(text.utf8)
        guard b.count > 23, b[19] == UInt8(ascii: "."), b[20...22].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nanos }
        var extra: Int64 = 0, scale: Int64 = 100_000, i = 23
        while i < b.count, b[i] >= 48, b[i] <= 57 {
            extra += Int64(b[i] - 48) * scale
            scale /= 10
            i += 1
        }
        let (sum, past) = nanos.addingReportingOverflow(extra)
        return past ? nil : sum
    }

    /// Parses RFC 3339 (`2024-01-02T03:04:05Z`, fractions and offsets allowed) or a bare
    /// `YYYY-MM-DD` (midnight UTC) into milliseconds since the epoch.
    public static func parseRFC3339(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 10, let day = Day(Substring(text.prefix(10))) else { return nil }
        var millis = Int64(day.daysSinceEpoch) * 86_400_000
        if b.count == 10 { return millis }
        guard b.count >= 19, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 32,
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let h = Day.digits(b, 11, 2), let m = Day.digits(b, 14, 2), let s = Day.digits(b, 17, 2),
              h < 24, m < 60, s < 61
        else { return nil }
        millis += Int64(h * 3_600_000 + m * 60_000 + s * 1000)
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                millis += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        guard i < b.count else { return nil }
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            return i + 1 == b.count ? millis : nil
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
                  let oh = Day.digits(b, i + 1, 2), let om = Day.digits(b, i + 4, 2) else { return nil }
            let offset = Int64(oh * 3_600_000 + om * 60_000)
            return b[i] == UInt8(ascii: "+") ? millis - offset : millis + offset
        default:
            return nil
        }
    }

    /// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) into milliseconds.
    public static func parseHTTPDate(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, let d = Int(parts[1]), let y = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let mi = months.firstIndex(of: String(parts[2])), let day = Day(year: y, month: mi + 1, day: d) else { return nil }
        let t = parts[4].split(separator: ":").compactMap { Int($0) }
        guard t.count == 3 else { return nil }
        return (Int64(day.daysSinceEpoch) * 86_400 + Int64(t[0] * 3600 + t[1] * 60 + t[2])) * 1000
    }
}

/// Monotonic time for durations, timeouts and backoff.
public enum MonotonicClock {
    public static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
    public static func millis() -> Int64 { Int64(nanos() / 1_000_000) }
}

/// Parses durations as users write them: `500ms`, `30s`, `5m`, `2h`, `1d`, compounds such
/// as `1h30m` (largest unit first, as Go and systemd write them), or bare seconds.
public func parseDuration(_ text: String) -> Double? {
    if let v = Double(text), v >= 0, v.isFinite { return v }
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
    var rest = Substring(text), total = 0.0, lastScale = Double.infinity
    while !rest.isEmpty {
        let number = rest.prefix { $0.isNumber || $0 == "." }
        rest = rest.dropFirst(number.count)
        guard let value = Double(number), let unit = units.first(where: { rest.hasPrefix($0.0) }),
              unit.1 < lastScale else { return nil }
        rest = rest.dropFirst(unit.0.count)
        total += value * unit.1
        lastScale = unit.1
    }
    return text.isEmpty ? nil : total
}
