/// Whether OTLP/HTTP request bodies are compressed: `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION` /
/// `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`; `gzip`, or
/// `none` (the spec's default). Any other value is warned about once and nothing is
/// compressed.
public enum OTLPCompression: String, Sendable, CaseIterable, OTLPSetting {
    case none
    case gzip

    public static func fromEnvironment(signal: String, _ get: (String) -> String? = FileSystem.environment)
        -> (OTLPCompression, warning: String?) {
        guard let (variable, value) = OTLPEndpoint.setting("COMPRESSION", signal: signal, get) else { return (.none, nil) }
        if let known = OTLPCompression(rawValue: value.lowercased()) { return (known, nil) }
        return (.none, "\(variable)=\(value) is not supported (gzip or none): sending uncompressed")
    }

    /// `body` as it travels, with the Content-Encoding header that says so added to `headers`.
    public func apply(to body: inout [UInt8], headers: inout [String]) {
        guard self == .gzip, let compressed = Gzip.compress(body) else { return }
        body = compressed
        headers.append("Content-Encoding: gzip")
    }
}

/// How OTLP/HTTP requests are encoded: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` /
/// `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`; `http/protobuf`
/// (the spec's default) or `http/json`. Any other value (`grpc`) is warned about once and
/// protobuf is sent: a telemetry setting never fails the work.
public enum OTLPProtocol: String, Sendable, CaseIterable, OTLPSetting {
    case protobuf = "http/protobuf"
    case json = "http/json"

    public var contentType: String {
        switch self {
        case .protobuf: return "application/x-protobuf"
        case .json: return "application/json"
        }
    }

    /// One request for `spans` in this encoding (OTLPProtobuf or OTLPJSON).
    public func traces(_ spans: [SpanRecord], defaultService: String) -> [UInt8] {
        switch self {
        case .protobuf: return OTLPProtobuf.traces(spans, defaultService: defaultService)
        case .json: return OTLPJSON.traces(spans, defaultService: defaultService)
        }
    }

    /// One request for `logs` in this encoding.
    public func logs(_ logs: [OTLPLogRecord], service: String) -> [UInt8] {
        switch self {
        case .protobuf: return OTLPProtobuf.logs(logs, service: service)
        case .json: return OTLPJSON.logs(logs, service: service)
        }
    }

    /// The protocol for one signal (`TRACES`, `LOGS`), and the warning to give when the
    /// variable that decided it names one we do not speak.
    public static func fromEnvironment(signal: String, _ get: (String) -> String? = FileSystem.environment)
        -> (OTLPProtocol, warning: String?) {
        guard let (variable, value) = OTLPEndpoint.setting("PROTOCOL", signal: signal, get) else { return (.protobuf, nil) }
        if let known = OTLPProtocol(rawValue: value.lowercased()) { return (known, nil) }
        return (.protobuf, "\(variable)=\(value) is not supported (http/protobuf or http/json): sending http/protobuf")
    }

    /// Warnings already given: the tool's own telemetry and `telem-trace export` read
    /// the same variables, and one line says it.
    private static let warned = Locked<Set<String>>([])

    /// Logs each of `warnings` as a warning, once per process.
    public static func warnOnce(_ warnings: [String], _ log: Logger) {
        for warning in warnings where warned.withLock({ $0.insert(warning).inserted }) {
            log.warn(warning)
        }
    }
}

/// A per-signal exporter setting read from the environment (protocol, compression), with
/// the warning for a value we do not speak.
public protocol OTLPSetting: RawRepresentable<String> {
    static func fromEnvironment(signal: String, _ get: (String) -> String?) -> (Self, warning: String?)
}
