/// A process's Prometheus metrics: counters, gauges and histograms with labels, kept in
/// memory and written out once at the end (a textfile for node_exporter, a Pushgateway
/// push). Thread-safe; an update is a dictionary lookup under a lock, cheap next to a task.
public final class MetricsRegistry: @unchecked Sendable { // every family is guarded by `lock`
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    struct Family {
        let name: String
        let help: String
        let kind: Kind
        let buckets: [Double]
        /// Label sets in first-seen order, for stable output.
        var order: [Labels] = []
        var values: [Labels: Double] = [:]
        var histograms: [Labels: Histogram] = [:]
    }

    struct Histogram {
        var counts: [Int]
        var sum = 0.0
        var count = 0
    }

    /// Label pairs in the order given.
    public struct Labels: Hashable, Sendable {
        public let pairs: [String]
        /// Values pass through `Secrets.redact`: metrics reach a Pushgateway others read.
        public init(_ pairs: KeyValuePairs<String, String>) {
            self.pairs = pairs.flatMap { [$0.key, Secrets.redact($0.value)] }
        }
        init(flat: [String]) { pairs = flat }
        public static let none = Labels(flat: [])
    }

    private let lock = Lock()
    private var order: [String] = []
    private var families: [String: Family] = [:]

    public init() {}

    /// Declares a metric (the first declaration wins). Names follow Prometheus's rules:
    /// `snake_case`, counters end in `_total`, units as suffixes (`_seconds`, `_bytes`).
    public func declare(_ name: String, _ kind: Kind, help: String,
                        buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]) {
        lock.withLock {
            guard families[name] == nil else { return }
            order.append(name)
            families[name] = Family(name: name, help: help, kind: kind, buckets: buckets)
        }
    }

    public func add(_ name: String, _ value: Double = 1, _ labels: Labels = .none) {
        update(name, labels) { $0 += value }
    }

    public func set(_ name: String, _ value: Double, _ labels: Labels = .none) {
        update(name, labels) { $0 = value }
    }

    public func observe(_ name: String, _ value: Double, _ labels: Labels = .none) {
        lock.withLock {
            guard var family = families[name] else { return }
            if family.histograms[labels] == nil {
                family.order.append(labels)
                family.histograms[labels] = Histogram(counts: Array(repeating: 0, count: family.buckets.count))
            }
            var h = family.histograms[labels]!
            for (i, bound) in family.buckets.enumerated() where value <= bound { h.counts[i] += 1 }
            h.sum += value
            h.count += 1
            family.histograms[labels] = h
            families[name] = family
        }
    }

    public func value(_ name: String, _ labels: Labels = .none) -> Double? {
        lock.withLock { families[name]?.values[labels] }
    }

    private func update(_ name: String, _ labels: Labels, _ change: (inout Double) -> Void) {
        lock.withLock {
            guard var family = families[name] else { return }
            if family.values[labels] == nil { family.order.append(labels) }
            change(&family.values[labels, default: 0])
            families[name] = family
        }
    }

    /// The Prometheus text exposition format (version 0.0.4), what `promtool check
    /// metrics` accepts: HELP and TYPE once per family, label values escaped, histograms
    /// as cumulative `_bucket{le=…}` lines with `+Inf`, `_sum` and `_count`.
    public func render() -> String {
        lock.withLock {
            var out = ""
            for name in order {
                let f = families[name]!
                if f.order.isEmpty { continue }
                out += "# HELP \(name) \(PrometheusText.escapeHelp(f.help))\n# TYPE \(name) \(f.kind.rawValue)\n"
                for labels in f.order {
                    if f.kind == .histogram, let h = f.histograms[labels] {
                        for (i, bound) in f.buckets.enumerated() {
                            out += PrometheusText.sample(name + "_bucket", labels.pairs + ["le", PrometheusText.number(bound)],
                                                         Double(h.counts[i]))
                        }
                        out += PrometheusText.sample(name + "_bucket", labels.pairs + ["le", "+Inf"], Double(h.count))
                        out += PrometheusText.sample(name + "_sum", labels.pairs, h.sum)
                        out += PrometheusText.sample(name + "_count", labels.pairs, Double(h.count))
                    } else if let v = f.values[labels] {
                        out += PrometheusText.sample(name, labels.pairs, v)
                    }
                }
            }
            return out
        }
    }
}

/// The pieces of the Prometheus text format.
public enum PrometheusText {
    public static func sample(_ name: String, _ flatLabels: [String], _ value: Double) -> String {
        var line = name
        if !flatLabels.isEmpty {
            line += "{"
            for i in stride(from: 0, to: flatLabels.count, by: 2) {
                if i > 0 { line += "," }
                line += flatLabels[i] + "=\"" + escapeLabel(flatLabels[i + 1]) + "\""
            }
            line += "}"
        }
        return line + " " + number(value) + "\n"
    }

    /// Integers without a fraction, so counters read naturally; Inf and NaN as Prometheus spells them.
    public static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    public static func escapeLabel(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 92 || $0 == 34 || $0 == 10 }) else { return s }
        return s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }

    public static func escapeHelp(_ s: String) -> String {
        s.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    /// A label name: [a-zA-Z_][a-zA-Z0-9_]*, so `error.code` becomes `error_code`.
    public static func labelName(_ field: String) -> String {
        var out = ""
        for u in field.unicodeScalars {
            let ok = (u >= "a" && u <= "z") || (u >= "A" && u <= "Z") || u == "_" || (u >= "0" && u <= "9")
            out.unicodeScalars.append(ok ? u : "_")
        }
        if out.isEmpty || out.first!.isNumber { out = "_" + out }
        // Names starting with __ are reserved for Prometheus itself.
        while out.hasPrefix("__") { out.removeFirst() }
        return out
    }

    /// A metric name part from a tool name: `arc-collect` -> `arc_collect`.
    public static func metricName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }
}
