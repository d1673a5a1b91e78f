/// Where finished spans go: a file, an OTLP collector. `export` is called on the thread
/// that ended the span and must not block on I/O; `shutdown` flushes within `deadline`
/// seconds and returns a line worth telling the user (spans dropped), if any.
public protocol SpanExporter: AnyObject, Sendable {
    func export(_ span: SpanRecord)
    func shutdown(deadline: Double) -> String?
}

/// Makes spans for one process (one service) and hands finished ones to its exporters.
/// With no exporter it still hands out contexts (so log lines and child processes can
/// carry them) but records nothing: tracing off costs an id and a clock read.
public final class Tracer: Sendable {
    public let service: String
    private let exporters: [SpanExporter]

    public init(service: String, exporters: [SpanExporter]) {
        self.service = service
        self.exporters = exporters
    }

    public var isRecording: Bool { !exporters.isEmpty }

    /// A span under `parent` (a new trace when nil).
    public func startSpan(_ name: String, parent: TraceContext?, _ attributes: [(String, LogValue)] = []) -> Span {
        let context = parent?.child() ?? TraceContext.newRoot()
        return Span(tracer: self, name: name, context: context, parentSpanID: parent?.spanID, attributes: attributes)
    }

    /// A span already over, made from times its owner measured (a task that moved
    /// between threads keeps its start time, not a Span object).
    public func record(_ name: String, context: TraceContext, parentSpanID: String?, startNanos: Int64,
                       endNanos: Int64, status: SpanStatus, message: String? = nil,
                       attributes: [(String, LogValue)] = [], events: [SpanEvent] = []) {
        guard isRecording else { return }
        export(SpanRecord(traceID: context.traceID, spanID: context.spanID, parentSpanID: parentSpanID, name: name,
                          service: service, startNanos: startNanos, endNanos: endNanos, status: status,
                          statusMessage: message, attributes: attributes, events: events))
    }

    /// Every span a tool makes passes here, masked once for all its exporters.
    func export(_ span: SpanRecord) {
        let span = span.redacted
        for exporter in exporters { exporter.export(span) }
    }

    /// Flushes every exporter; returns their reports (dropped spans) for the log.
    public func shutdown(deadline: Double = 2) -> [String] {
        exporters.compactMap { $0.shutdown(deadline: deadline) }
    }
}
