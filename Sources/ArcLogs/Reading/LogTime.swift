import Glibc
import ArcCore

/// Times in log lines and on the command line, as milliseconds since the epoch.
public enum LogTime {
    /// RFC 3339 from bytes (`2026-11-25T12:00:00.123Z`, a space for the T, any fraction,
    /// Z or an offset); a bare date is midnight UTC. Runs per line when merging, so no String.
    public static func parseRFC3339(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = b.count
        guard n >= 10, let y = digits(b, 0, 4), b[4] == UInt8(ascii: "-"), let mo = digits(b, 5, 2),
              b[7] == UInt8(ascii: "-"), let d = digits(b, 8, 2), (1...12).contains(mo), (1...31).contains(d)
        else { return nil }
        var millis = Int64(daysFromCivil(y, mo, d)) * 86_400_000
        if n == 10 { return millis }
        guard n >= 19, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 32,
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let h = digits(b, 11, 2), let m = digits(b, 14, 2), let s = digits(b, 17, 2), h < 24, m < 60, s < 61
        else { return nil }
        millis += Int64(h * 3_600_000 + m * 60_000 + s * 1000)
        var i = 19
        if i < n, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
            i += 1
            var scale: Int64 = 100
            let start = i
            while i < n, b[i] >= 48, b[i] <= 57 {
                millis += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        // No zone: taken as UTC, as arc writes and most collectors assume.
        guard i < n else { return millis }
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            return i + 1 == n ? millis : nil
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            var oh: Int?, om: Int?
            if n == i + 6, b[i + 3] == UInt8(ascii: ":") {
                oh = digits(b, i + 1, 2); om = digits(b, i + 4, 2)
            } else if n == i + 5 {
                oh = digits(b, i + 1, 2); om = digits(b, i + 3, 2)
            }
            guard let oh, let om else { return nil }
            let offset = Int64(oh * 3_600_000 + om * 60_000)
            return b[i] == UInt8(ascii: "+") ? millis - offset : millis + offset
        default:
            return nil
        }
    }

    public static func parseRFC3339(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseRFC3339($0) }
    }

    /// A numeric epoch, its unit guessed from its size: seconds (up to 1e11, i.e. year
    /// 5138), milliseconds, microseconds, nanoseconds. Fractions of seconds are kept.
    public static func epochMillis(_ raw: UnsafeBufferPointer<UInt8>) -> Int64? {
        var buf = [CChar](repeating: 0, count: min(raw.count, 63) + 1)
        for i in 0..<min(raw.count, 63) { buf[i] = CChar(bitPattern: raw[i]) }
        let v = strtod(buf, nil)
        // Beyond 9e24 (nanoseconds, some 285 million years) the milliseconds overflow Int64.
        guard v.isFinite, v >= 0, v < 9e24 else { return nil }
        if v < 1e11 { return Int64(v * 1000) }
        if v < 1e14 { return Int64(v) }
        if v < 1e17 { return Int64(v / 1000) }
        return Int64(v / 1_000_000)
    }

    /// `--since`/`--until`: a time ago (`30s`, `15m`, `2h`, `3d`, `1w`, `500ms`) or an
    /// RFC 3339 time or date.
    public static func parseBound(_ text: String, now: Int64) -> Int64? {
        if let ago = parseAgo(text) { return now - ago }
        return parseRFC3339(text)
    }

    /// A duration with a unit, in milliseconds (`--every` and relative times). A bare
    /// number is refused: `--since 5` is too likely a mistake to guess at.
    public static func parseAgo(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
                                         ("w", 604_800_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let v = Double(number) else { continue }
            return Int64(v * scale)
        }
        return nil
    }

    @inline(__always) static func digits(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
        var v = 0
        for i in at..<at + count {
            let c = b[i]
            guard c >= 48 && c <= 57 else { return nil }
            v = v * 10 + Int(c - 48)
        }
        return v
    }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func format(_ millis: Int64) -> String { WallClock.rfc3339(millis: millis) }
}
