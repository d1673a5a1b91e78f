/// Where OTLP/HTTP goes, from the standard OpenTelemetry environment:
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL; `/v1/traces` and `/v1/logs` are appended),
/// the per-signal `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `..._LOGS_ENDPOINT` (used as
/// given), `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, values URL-encoded: how a
/// receiver's `Authorization=Bearer%20TOKEN` is given), replaced for one signal by
/// `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `..._LOGS_HEADERS` as the SDKs do, and
/// `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`, `OTEL_LOGS_EXPORTER=none`, and
/// `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds, default 10,000 as the spec has it), and
/// each signal's encoding (OTLPProtocol) and compression (OTLPCompression).
public struct OTLPEndpoint: Sendable {
    public var tracesURL: String?
    public var logsURL: String?
    public var tracesProtocol: OTLPProtocol
    public var logsProtocol: OTLPProtocol
    public var tracesCompression: OTLPCompression = .none
    public var logsCompression: OTLPCompression = .none
    /// Protocol variables set to what we do not speak: `OTLPProtocol.warnOnce` them.
    public var warnings: [String]
    /// `Name: value` lines for each signal's requests. They may hold secrets: never logged.
    public var tracesHeaders: [String]
    public var logsHeaders: [String]
    /// Seconds one export request may take; also how long a tool waits at exit for the
    /// last batches. A collector that refuses connections costs nothing either way.
    public var timeout: Double

    public init(tracesURL: String?, logsURL: String?, tracesHeaders: [String] = [], logsHeaders: [String] = [],
                timeout: Double = 10, tracesProtocol: OTLPProtocol = .protobuf, logsProtocol: OTLPProtocol = .protobuf,
                warnings: [String] = []) {
        self.tracesURL = tracesURL
        self.logsURL = logsURL
        self.tracesProtocol = tracesProtocol
        self.logsProtocol = logsProtocol
        self.warnings = warnings
        self.tracesHeaders = tracesHeaders
        self.logsHeaders = logsHeaders
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
        let millis = value("OTEL_EXPORTER_OTLP_TIMEOUT").flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 10_000
        // A protocol is only read (and warned about) for a signal that is sent.
        let tracesProtocol = traces == nil ? (.protobuf, nil) : OTLPProtocol.fromEnvironment(signal: "TRACES", get)
        let logsProtocol = logs == nil ? (.protobuf, nil) : OTLPProtocol.fromEnvironment(signal: "LOGS", get)
        let tracesCompression = traces == nil ? (.none, nil) : OTLPCompression.fromEnvironment(signal: "TRACES", get)
        let logsCompression = logs == nil ? (.none, nil) : OTLPCompression.fromEnvironment(signal: "LOGS", get)
        var warnings: [String] = []
        for warning in [tracesProtocol.warning, logsProtocol.warning, tracesCompression.warning, logsCompression.warning]
            .compactMap({ $0 }) where !warnings.contains(warning) {
            warnings.append(warning)
        }
        var endpoint = OTLPEndpoint(tracesURL: traces, logsURL: logs,
                                    tracesHeaders: headers(signal: "TRACES", get), logsHeaders: headers(signal: "LOGS", get),
                                    timeout: millis / 1000, tracesProtocol: tracesProtocol.0, logsProtocol: logsProtocol.0,
                                    warnings: warnings)
        endpoint.tracesCompression = tracesCompression.0
        endpoint.logsCompression = logsCompression.0
        return endpoint
    }

    /// One signal's setting `name` (`PROTOCOL`, `COMPRESSION`): `OTEL_EXPORTER_OTLP_{signal}_{name}`,
    /// else `OTEL_EXPORTER_OTLP_{name}`, with the variable it came from; nil when neither is set.
    static func setting(_ name: String, signal: String, _ get: (String) -> String?) -> (variable: String, value: String)? {
        for variable in ["OTEL_EXPORTER_OTLP_\(signal)_\(name)", "OTEL_EXPORTER_OTLP_\(name)"] {
            if let value = get(variable)?.trimmed(), !value.isEmpty { return (variable, value) }
        }
        return nil
    }

    /// The headers for one signal (`TRACES`, `LOGS`): its own variable when set, else the
    /// common one. Also for a URL given on the command line (`telem-trace export --otlp`).
    public static func headers(signal: String, _ get: (String) -> String? = FileSystem.environment) -> [String] {
        func value(_ name: String) -> String? { get(name).flatMap { $0.isEmpty ? nil : $0 } }
        return headerLines(value("OTEL_EXPORTER_OTLP_\(signal)_HEADERS") ?? value("OTEL_EXPORTER_OTLP_HEADERS"))
    }

    /// `k=v,k2=v2` (values URL-encoded) as `k: v` lines. A pair without `=`, or whose value
    /// decodes to a line break (it would end the header early), is left out.
    static func headerLines(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").compactMap { pair -> String? in
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard halves.count == 2 else { return nil }
            let name = String(halves[0]).trimmed()
            let v = URLEncoding.decode(String(halves[1]).trimmed())
            guard !name.isEmpty, !v.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return nil }
            // Header values are how collectors authenticate (tokens, API keys): never written.
            Secrets.register(v)
            if let space = v.firstIndex(of: " ") { Secrets.register(String(v[v.index(after: space)...])) }
            return name + ": " + v
        }
    }
}
