import ArcCore

/// RFC 3339 with microseconds (`2024-03-01T00:00:00.000000Z`): check records name the
/// exact instants silver stores. Built on the core's millisecond formatter.
enum MicrosecondTime {
    static func rfc3339(_ micros: Int64) -> String {
        let millis = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        let rest = Int(micros - millis * 1000)
        return String(WallClock.rfc3339(millis: millis).dropLast()) + zeroPadded(rest, 3) + "Z"
    }

    /// A duration in words for messages: `1h`, `2h30m`, `45s`, `1d`.
    static func duration(_ micros: Int64) -> String {
        var seconds = micros / 1_000_000
        if seconds <= 0 { return "\(micros)µs" }
        var text = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where seconds >= size {
            text += "\(seconds / size)\(unit)"
            seconds %= size
        }
        return text
    }
}
