import ArcCore

/// Counts as Prometheus' text exposition format (version 0.0.4), e.g.
/// `arc_log_lines_total{tool="arc-collect",level="error"} 12`, for node_exporter's
/// textfile collector or a push gateway. `promtool check metrics` accepts it.
public enum LogMetrics {
    public static let metric = "arc_log_lines_total"

    /// One counter, a sample per distinct combination of the label fields.
    public static func render(_ counter: LogCounter, name: String = metric) -> String {
        let labels = counter.by.map { PrometheusText.labelName($0.text) }
        let what = labels.isEmpty ? "" : ", by " + labels.joined(separator: " and ")
        var out = "# HELP \(name) Log lines read by telem-log\(what).\n# TYPE \(name) counter\n"
        var samples: [(String, Int)] = []
        for (key, count) in counter.counts {
            let pairs = zip(labels, key.values).map { label, value in
                "\(label)=\"\(PrometheusText.escapeLabel(LogCounter.plain(value).replacingDash(value)))\""
            }
            samples.append((pairs.isEmpty ? "" : "{" + pairs.joined(separator: ",") + "}", count))
        }
        // Sorted: the same input gives the same text (diffs, tests).
        for (labelSet, count) in samples.sorted(by: { $0.0 < $1.0 }) {
            out += "\(name)\(labelSet) \(count)\n"
        }
        return out
    }
}

private extension String {
    /// An absent field is an empty label value (Prometheus' "no label"), not a dash.
    func replacingDash(_ original: String?) -> String { original == nil ? "" : self }
}
