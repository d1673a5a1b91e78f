import ArcCore

/// `telem-trace show`: a trace as a tree of spans, each with a bar placed and sized on
/// the trace's time line, its duration, failures marked ✗ (red on a terminal) and the
/// critical path marked `*` (bold on a terminal). Without colour the text depends on
/// nothing but the spans and the width, so tests compare it byte for byte.
///
///     trace 4bf92f3577b34da6a3ce929d0e0e4736  nightly  2024-01-02T03:04:05.000000Z  1.20s  4 spans  1 failed
///                       0                                   1.20s
///     * nightly        │██████████████████████████████████████│   1.20s
///     *  ├─ arc-plan   │█████████                             │   300ms
///         └─ ✗ collect │         ████████████████             │   600ms
public enum Waterfall {
    /// Columns outside the label and the bar: mark, spaces, the bar's edges, duration.
    static let fixedColumns = 13
    static let durationColumns = 7

    public static func render(_ tree: TraceTree, width requested: Int, color: Bool) -> String {
        guard !tree.spans.isEmpty else { return "" }
        let width = max(requested, 40)
        let critical = tree.criticalPath()
        let rows = tree.flattened()
        let t0 = tree.startNanos
        let total = max(tree.endNanos - t0, 0)
        let labels = rows.map { row -> String in
            let s = tree.spans[row.index]
            return row.prefix + (s.isError ? "✗ " : "") + (s.name + (subject(s).map { " " + $0 } ?? "")).controlCharactersEscaped
        }
        let longest = labels.map(\.count).max() ?? 0
        let labelWidth = min(longest, max(12, (width - fixedColumns) * 2 / 5))
        let barWidth = max(width - labelWidth - fixedColumns, 10)

        var out = header(tree, total: total) + "\n"
        out += String(repeating: " ", count: labelWidth + 4) + axis(total, barWidth) + "\n"
        for (row, label) in zip(rows, labels) {
            let s = tree.spans[row.index]
            let onPath = critical.contains(row.index)
            let from = scaled(s.startNanos - t0, barWidth, total, roundingUp: false)
            var to = scaled(s.endNanos - t0, barWidth, total, roundingUp: true)
            if total == 0 { to = barWidth }
            let start = min(max(from, 0), barWidth - 1)
            let end = min(max(to, start + 1), barWidth)
            let bar = String(repeating: " ", count: start) + String(repeating: "█", count: end - start)
                + String(repeating: " ", count: barWidth - end)
            var name = label.count > labelWidth ? String(label.prefix(labelWidth - 1)) + "…" : label
            name += String(repeating: " ", count: labelWidth - name.count)
            let duration = DurationText.format(s.durationNanos)
            let durationText = String(repeating: " ", count: max(durationColumns - duration.count, 0)) + duration
            let style = color ? (s.isError ? "\u{1B}[31m" : "") + (onPath ? "\u{1B}[1m" : "") : ""
            let reset = style.isEmpty ? "" : "\u{1B}[0m"
            out += (onPath ? "* " : "  ") + style + name + reset + " │" + style + bar + reset + "│ " + durationText + "\n"
        }
        let failed = rows.map { tree.spans[$0.index] }.filter(\.isError)
        if !failed.isEmpty {
            out += "\n"
            for s in failed {
                let line = "✗ " + "\(s.name): \(s.statusMessage ?? "failed")".controlCharactersEscaped
                out += (color ? "\u{1B}[31m" + line + "\u{1B}[0m" : line) + "\n"
            }
        }
        out += "\n* critical path\n"
        return out
    }

    /// `offset * barWidth / total`, rounded down or up, in 128 bits: the product overflows
    /// Int64 once a trace lasts some days at --width 10000 (years at the default width).
    static func scaled(_ offset: Int64, _ barWidth: Int, _ total: Int64, roundingUp: Bool) -> Int {
        let (quotient, remainder) = max(total, 1).dividingFullWidth(offset.multipliedFullWidth(by: Int64(barWidth)))
        return Int(quotient) + (roundingUp && remainder > 0 ? 1 : 0)
    }

    /// What a span is about, so a trace's many `collect.task` rows can be told apart: the
    /// last path segment of its key, destination or url, or the end of its listing prefix.
    static func subject(_ span: StoredSpan) -> String? {
        guard let json = span.attributesJSON else { return nil }
        let attributes = SpanJSON.attributes(json)
        if case .string(let step)? = attributes.first(where: { $0.0 == "step" })?.1 { return step }
        for key in ["key", "destination", "url", "prefix"] {
            guard case .string(let value)? = attributes.first(where: { $0.0 == key })?.1, !value.isEmpty else { continue }
            let parts = value.split(separator: "/")
            // A listing prefix is told apart by its last two folders (BTCUSDT/1m/), a file by its name.
            if key == "prefix" { return parts.suffix(2).joined(separator: "/") + (value.hasSuffix("/") ? "/" : "") }
            return parts.last.map(String.init) ?? value
        }
        return nil
    }

    static func header(_ tree: TraceTree, total: Int64) -> String {
        let root = tree.mainRoot.map { tree.spans[$0] }
        let failed = tree.spans.filter(\.isError).count
        var parts = ["trace \(tree.traceID)"]
        if let root { parts.append(root.name.controlCharactersEscaped) }
        parts.append(WallClock.rfc3339(nanos: tree.startNanos))
        parts.append(DurationText.format(total))
        parts.append(tree.spans.count == 1 ? "1 span" : "\(tree.spans.count) spans")
        if failed > 0 { parts.append("\(failed) failed") }
        return parts.joined(separator: "  ")
    }

    /// `0` under the bars' left edge, the trace's duration ending under their right edge.
    static func axis(_ total: Int64, _ barWidth: Int) -> String {
        let end = DurationText.format(total)
        return "0" + String(repeating: " ", count: max(barWidth - 1 - end.count, 1)) + end
    }
}
