/// Durations for people, from nanoseconds, in integer arithmetic (the same text on every
/// machine, so a rendering can be compared byte for byte): `850µs`, `1.25ms`, `12.5ms`,
/// `123ms`, `1.20s`, `12.3s`, `2m05s`, `1h02m`.
public enum DurationText {
    public static func format(_ nanos: Int64) -> String {
        let n = max(0, nanos)
        if n < 1_000 { return "\(n)ns" }
        if n < 1_000_000 { return "\(n / 1_000)µs" }
        if n < 10_000_000 { return decimal(n / 10_000, 2) + "ms" }
        if n < 100_000_000 { return decimal(n / 100_000, 1) + "ms" }
        if n < 1_000_000_000 { return "\(n / 1_000_000)ms" }
        if n < 10_000_000_000 { return decimal(n / 10_000_000, 2) + "s" }
        if n < 60_000_000_000 { return decimal(n / 100_000_000, 1) + "s" }
        let s = n / 1_000_000_000
        if s < 3600 { return "\(s / 60)m" + zeroPadded(Int(s % 60), 2) + "s" }
        return "\(s / 3600)h" + zeroPadded(Int(s / 60 % 60), 2) + "m"
    }

    /// `value` with its last `digits` digits after a decimal point: (125, 2) -> "1.25".
    private static func decimal(_ value: Int64, _ digits: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        return "\(value / scale)." + zeroPadded(Int(value % scale), digits)
    }
}
