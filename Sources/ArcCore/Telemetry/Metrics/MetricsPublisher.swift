import Glibc

/// Where a run's metrics go when it ends: a textfile for node_exporter's textfile
/// collector, and a Pushgateway.
public enum MetricsPublisher {
    /// Writes `text` to `path` whole: a temporary name in the same directory, fsync, rename,
    /// so the collector never scrapes half a file.
    public static func writeFile(_ path: String, _ text: String) throws {
        try FileSystem.writeAtomically(path, Array(text.utf8))
    }

    /// The value of the sample `name` (no labels) in a metrics file written before, if any:
    /// a failed run keeps the last success time of the run before it.
    public static func previousValue(_ name: String, inFile path: String) -> Double? {
        guard let bytes = try? FileSystem.read(path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).split(separator: " ").first ?? "")
        }
        return nil
    }

    /// POSTs `text` to the Pushgateway at `base` under the grouping key job/instance.
    /// POST replaces only the metrics named in the push, so a failed run that leaves out
    /// `..._last_success_timestamp_seconds` keeps the one pushed by the last success.
    /// A URL that already has a `/metrics/job/...` path is used as given.
    public static func push(_ text: String, to base: String, job: String, instance: String) throws {
        let url = base.contains("/metrics/job/") ? base
            : (base.hasSuffix("/") ? String(base.dropLast()) : base)
                + "/metrics/job/" + groupingValue(job) + "/instance/" + groupingValue(instance)
        let response = try SimpleHTTP.request(url, method: "POST", headers: ["Content-Type: text/plain; version=0.0.4"],
                                              body: Array(text.utf8), timeout: 10, connectTimeout: 3)
        guard (200..<300).contains(response.status) else {
            throw UnavailableError("pushgateway \(url)", "HTTP \(response.status): " + String(response.text.prefix(200)))
        }
    }

    /// A grouping-key value as a path segment: plain when safe, else the Pushgateway's
    /// `@base64` form (URL-safe base64), which also carries `/` and empty values.
    static func groupingValue(_ v: String) -> String {
        let safe = !v.isEmpty && v.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 95
        }
        if safe { return v }
        let encoded = Base64.encode(Array(v.utf8)).replacing("+", with: "-").replacing("/", with: "_")
        return (encoded.isEmpty ? "=" : encoded) + "@base64"
    }
}
