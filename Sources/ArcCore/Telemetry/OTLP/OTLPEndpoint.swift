/// Where OTLP/HTTP goes, from the standard OpenTelemetry environment:
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL; `/v1/traces` and `/v1/logs` are appended),
/// the per-signal `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `..._LOGS_ENDPOINT` (used as
/// given), `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, values URL-encoded) and
/// `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`, `OTEL_LOGS_EXPORTER=none`, and
/// `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds, default 10,000 as the spec has it).
public struct OTLPEndpoint: Sendable {
    public var tracesURL: String?
    public var logsURL: String?
    public var headers: [String]
    /// Seconds one export request may take; also how long a tool waits at exit for the
    /// last batches. A collector that refuses connections costs nothing either way.
    public var timeout: Double

    public init(tracesURL: String?, logsURL: String?, headers: [String] = [], timeout: Double = 10) {
        self.tracesURL = tracesURL
        self.logsURL = logsURL
        self.headers = headers
        self.timeout = timeout
    }

    public static func fromEnvironment(_ get: (String) -> String? = FileSystem.environment) -> OTLPEndpoint? {
        func value(_ name: String) -> String? { get(name).flatMap { $0.isEmpty ? nil : $0 } }
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" { return nil }
        let base = value("OTEL_EXPORTER_OTLP_ENDPOINT").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        var traces = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? base.map { $0 + "/v1/traces" }
        var logs = value("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") ?? base.map { $0 + "/v1/logs" }
        if value("OTEL_TRACES_EXPORTER")?.lowercased() == "none" { traces = nil }
        if value("OTEL_LOGS_EXPORTER")?.lowercased() == "none" { logs = nil }
        if traces == nil && logs == nil { return nil }
        let headers = (value("OTEL_EXPORTER_OTLP_HEADERS") ?? "").split(separator: ",").compactMap { pair -> String? in
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard halves.count == 2 else { return nil }
            let name = String(halves[0]).trimmed()
            let v = String(halves[1]).trimmed()
            guard !name.isEmpty else { return nil }
            // Header values are how collectors authenticate (tokens, API keys): never written.
            let decoded = URLEncoding.decode(v)
            Secrets.register(decoded)
            if let space = decoded.firstIndex(of: " ") { Secrets.register(String(decoded[decoded.index(after: space)...])) }
            return name + ": " + decoded
        }
        let millis = value("OTEL_EXPORTER_OTLP_TIMEOUT").flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 10_000
        return OTLPEndpoint(tracesURL: traces, logsURL: logs, headers: headers, timeout: millis / 1000)
    }
}
