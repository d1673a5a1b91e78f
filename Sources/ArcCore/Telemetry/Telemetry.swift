import Glibc

/// One process's telemetry: the tracer and its root span (a child of `TRACEPARENT` when
/// the process was started inside a trace), the metrics registry, and where both go.
/// `Tool.main` starts it after parsing the command line and finishes it on every exit.
public final class Telemetry: @unchecked Sendable { // `finished` and `exportTimeout`: set at start, read at exit, on the main thread
    public let tool: String
    public let tracer: Tracer
    /// The span of the whole run; tasks' spans are its children.
    public let root: Span
    public let metrics = MetricsRegistry()
    /// `arc-collect` -> `arc_collect`: the prefix of this tool's metric names.
    public let metricPrefix: String
    private let metricsFile: String?
    private let pushgateway: String?
    private let logs: OTLPBatcher<OTLPLogRecord>?
    private var finished = false
    /// How long the exit may wait for the last OTLP batches (OTEL_EXPORTER_OTLP_TIMEOUT).
    private var exportTimeout = 10.0

    /// The options every tool has for telemetry (in `Tool.commonOptions`).
    public static let options: [OptionSpec] = [
        OptionSpec("trace", valueName: "FILE", help: "append span records (NDJSON) to FILE",
                   environment: "ARC_TRACE_FILE", completion: .file),
        OptionSpec("metrics-file", valueName: "PATH",
                   help: "write Prometheus metrics to PATH when done (for node_exporter's textfile collector)",
                   environment: "ARC_METRICS_FILE", completion: .file),
        OptionSpec("pushgateway", valueName: "URL",
                   help: "push Prometheus metrics to this Pushgateway when done (job = tool, instance = host)",
                   environment: "ARC_PUSHGATEWAY"),
    ]

    public static let environment: [EnvironmentSpec] = [
        EnvironmentSpec("TRACEPARENT", "W3C trace context; the run's span becomes its child, and the tool passes its own to the processes it starts"),
        EnvironmentSpec("ARC_TRACE_FILE", "append span records to this file (--trace)"),
        EnvironmentSpec("OTEL_EXPORTER_OTLP_ENDPOINT", "send spans and logs over OTLP/HTTP to this base URL (/v1/traces, /v1/logs); also OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf, the default, or http/json; OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_LOGS_PROTOCOL for one signal; any other value is warned about and protobuf is sent), OTEL_EXPORTER_OTLP_COMPRESSION (gzip, or none, the default; _TRACES_ or _LOGS_ for one signal), OTEL_EXPORTER_OTLP_HEADERS (k=v,k2=v2, values URL-encoded: Authorization=Bearer%20TOKEN; OTEL_EXPORTER_OTLP_TRACES_HEADERS or OTEL_EXPORTER_OTLP_LOGS_HEADERS for one signal), OTEL_EXPORTER_OTLP_TIMEOUT (ms; also the longest a tool waits at exit for its last batches, default 10000), OTEL_SERVICE_NAME, OTEL_SDK_DISABLED"),
        EnvironmentSpec("ARC_METRICS_FILE", "write Prometheus metrics here (--metrics-file)"),
        EnvironmentSpec("ARC_PUSHGATEWAY", "push Prometheus metrics here (--pushgateway)"),
    ]

    /// Starts telemetry for `tool` from its parsed command line and the environment.
    /// The root span is named `spanName` (`s3x cp`, `arc-collect`).
    /// `traceOption`: the tool's `--trace` is the common `--trace FILE`.
    public static func start(tool: String, spanName: String, parsed: ParsedCommand, traceOption: Bool = true,
                             log: Logger) throws -> Telemetry {
        let service = FileSystem.environment("OTEL_SERVICE_NAME").flatMap { $0.isEmpty ? nil : $0 } ?? tool
        var exporters: [SpanExporter] = []
        // --trace FILE, unless the tool's own --trace means something else (then only ARC_TRACE_FILE).
        let traceFile = traceOption ? parsed.value("trace") : FileSystem.environment("ARC_TRACE_FILE")
        if let path = traceFile, !path.isEmpty { exporters.append(try SpanFileExporter(path: path)) }
        let otlp = OTLPEndpoint.fromEnvironment()
        if let otlp { OTLPProtocol.warnOnce(otlp.warnings, log) }
        if let otlp, let url = otlp.tracesURL {
            exporters.append(OTLPSpanExporter(url: url, headers: otlp.tracesHeaders, service: service, timeout: otlp.timeout,
                                              protocol: otlp.tracesProtocol, compression: otlp.tracesCompression))
        }
        let logs = otlp.flatMap { otlp in
            otlp.logsURL.map { url in
                OTLPBatcher<OTLPLogRecord>(url: url, headers: otlp.logsHeaders, contentType: otlp.logsProtocol.contentType,
                                           compression: otlp.logsCompression, what: "log records",
                                           timeout: otlp.timeout) { [logsProtocol = otlp.logsProtocol] in
                    logsProtocol.logs($0, service: service)
                }
            }
        }
        let parent = FileSystem.environment("TRACEPARENT").flatMap(TraceContext.init(traceparent:))
        if parent == nil, let bad = FileSystem.environment("TRACEPARENT"), !bad.isEmpty {
            log.debug("TRACEPARENT is not a W3C traceparent; starting a new trace", ["traceparent": .string(bad)])
        }
        let telemetry = Telemetry(tool: tool, spanName: spanName, tracer: Tracer(service: service, exporters: exporters),
                         parent: parent, metricsFile: parsed.value("metrics-file").flatMap { $0.isEmpty ? nil : $0 },
                         pushgateway: parsed.value("pushgateway").flatMap { $0.isEmpty ? nil : $0 }, logs: logs, log: log)
        telemetry.exportTimeout = otlp?.timeout ?? 10
        return telemetry
    }

    /// Telemetry that records nothing and publishes nothing (tests, library use).
    public static func off(tool: String, log: Logger) -> Telemetry {
        Telemetry(tool: tool, spanName: tool, tracer: Tracer(service: tool, exporters: []), parent: nil,
                  metricsFile: nil, pushgateway: nil, logs: nil, log: log)
    }

    init(tool: String, spanName: String, tracer: Tracer, parent: TraceContext?, metricsFile: String?,
         pushgateway: String?, logs: OTLPBatcher<OTLPLogRecord>?, log: Logger) {
        self.tool = tool
        self.tracer = tracer
        self.metricsFile = metricsFile
        self.pushgateway = pushgateway
        self.logs = logs
        metricPrefix = PrometheusText.metricName(tool)
        root = tracer.startSpan(spanName, parent: parent, [("process.pid", .int(Int64(getpid())))])
        if tracer.isRecording {
            // Processes this one starts (plugins, wf-run steps) join the trace under our span.
            setenv("TRACEPARENT", root.context.traceparent, 1)
            log.trace = root.context
        } else if let parent {
            // Not recording: log lines still name the trace and span we run inside.
            log.trace = parent
        }
        if let logs {
            log.forward = { level, message, fields, context in
                logs.add(OTLPLogRecord(timeNanos: WallClock.nowNanos(), level: level, message: message, fields: fields,
                                       traceID: context?.traceID, spanID: context?.spanID))
            }
        }
        metrics.declare(metricPrefix + "_duration_seconds", .gauge, help: "wall time of the last run of \(tool)")
        metrics.declare(metricPrefix + "_exit_status", .gauge, help: "exit status of the last run of \(tool)")
        metrics.declare(metricPrefix + "_last_run_timestamp_seconds", .gauge, help: "when the last run of \(tool) ended (Unix time)")
        metrics.declare(metricPrefix + "_last_success_timestamp_seconds", .gauge,
                        help: "when the last run of \(tool) that exited 0 ended (Unix time)")
    }

    /// True when spans go somewhere: worth making spans per task.
    public var isTracing: Bool { tracer.isRecording }

    /// Ends the root span with the exit status, flushes spans and logs, writes and pushes
    /// the metrics. Problems delivering telemetry are warnings: they never change the
    /// exit status of the work.
    public func finish(_ status: Int32, error: String?, log: Logger) {
        guard !finished else { return }
        finished = true
        let now = Double(WallClock.nowNanos()) / 1e9
        root.set("exit_status", .int(Int64(status)))
        root.end(status == 0 ? .ok : .error, message: error ?? (status == 0 ? nil : "exit status \(status)"))
        metrics.set(metricPrefix + "_duration_seconds", now - Double(root.startNanos) / 1e9)
        metrics.set(metricPrefix + "_exit_status", Double(status))
        metrics.set(metricPrefix + "_last_run_timestamp_seconds", now)
        let lastSuccess = metricPrefix + "_last_success_timestamp_seconds"
        if status == 0 {
            metrics.set(lastSuccess, now)
        } else if let metricsFile, let previous = MetricsPublisher.previousValue(lastSuccess, inFile: metricsFile) {
            metrics.set(lastSuccess, previous)
        }
        let text = metrics.render()
        if let metricsFile {
            do { try MetricsPublisher.writeFile(metricsFile, text) } catch {
                log.warn("cannot write metrics: \(error)", ["path": .string(metricsFile)])
            }
        }
        if let pushgateway {
            do {
                try MetricsPublisher.push(text, to: pushgateway, job: tool, instance: ProcessEnvironment.hostName)
            } catch {
                log.warn("cannot push metrics: \(error)", ["url": .string(pushgateway)])
            }
        }
        log.forward = nil
        // One deadline for both signals: a slow collector gets its export timeout to take
        // the last batches, a hung one delays the exit by no more than that.
        let end = MonotonicClock.nanos() + UInt64(exportTimeout * 1e9)
        var reports = tracer.shutdown(deadline: exportTimeout)
        let left = Double(end &- min(end, MonotonicClock.nanos())) / 1e9
        if let logs, let report = logs.shutdown(deadline: max(left, 0.1)) { reports.append(report) }
        for report in reports { log.warn(report) }
    }
}
