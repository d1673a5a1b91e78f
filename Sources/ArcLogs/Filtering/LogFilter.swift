import Glibc
import ArcCore

/// What a line must satisfy to be shown, counted or ingested: every filter given (AND).
/// Tests run cheapest first, on the line's bytes.
public struct LogFilter {
    /// `--level`: this severity and above. A line without a level counts as info.
    public var minSeverity: Severity?
    /// `--since` (inclusive) and `--until` (exclusive), in milliseconds. A line with no
    /// time of its own nor inherited from the line before it fails both.
    public var since: Int64?
    public var until: Int64?
    /// `--tool`: any of these (the `tool` field, else `service`).
    public var tools: [[UInt8]] = []
    /// `--trace`: this trace id (`trace_id`, else `traceId`).
    public var trace: [UInt8]?
    public var wheres: [WhereExpression] = []
    /// `--grep`: a regular expression over the whole line as written.
    public var grep: ByteRegex?

    public init() {}

    public var needsTime: Bool { since != nil || until != nil }
    public var isEmpty: Bool {
        minSeverity == nil && !needsTime && tools.isEmpty && trace == nil && wheres.isEmpty && grep == nil
    }

    public func accepts(_ e: LogEntry) -> Bool {
        if let minSeverity, (e.severity ?? .info) < minSeverity { return false }
        if needsTime {
            guard let ts = e.ts else { return false }
            if let since, ts < since { return false }
            if let until, ts >= until { return false }
        }
        if !tools.isEmpty && !matchesAny(e, FieldKey.toolKeys, tools) { return false }
        if let trace, !matchesAny(e, FieldKey.traceKeys, [trace]) { return false }
        for w in wheres where !w.test(e) { return false }
        if let grep, !grep.matches(e.bytes) { return false }
        return true
    }

    /// Whether the first of `keys` present holds one of `values` (strings, compared as text).
    private func matchesAny(_ e: LogEntry, _ keys: [FieldKey], _ values: [[UInt8]]) -> Bool {
        for key in keys {
            guard let f = e.field(key) else { continue }
            guard f.kind == .string else { return false }
            let value = FieldValue(f)
            // In place when the string has no escapes: no closure (its context retained).
            if let text = e.directText(of: value) { return LogFilter.contains(values, text) }
            return e.withText(of: value) { LogFilter.contains(values, $0) }
        }
        return false
    }

    private static func contains(_ values: [[UInt8]], _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in values.indices {
            let n = values[i].count
            if n == text.count && (n == 0 || values[i].withUnsafeBufferPointer { memcmp($0.baseAddress!, text.baseAddress!, n) == 0 }) {
                return true
            }
        }
        return false
    }
}
