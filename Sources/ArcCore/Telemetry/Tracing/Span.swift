/// A span in progress. Its wall-clock start is read once; its end is the start plus
/// monotonic time, so a clock step in the middle cannot make a span negative.
/// Not for sharing between threads while open: one owner sets attributes and ends it.
public final class Span: @unchecked Sendable { // one owner changes it; others read only `context`
    public let context: TraceContext
    public let parentSpanID: String?
    /// Settable until the span ends (`telem-trace exec --name` names the run's own span).
    public var name: String
    public let startNanos: Int64
    private let startMonotonic: UInt64
    private weak var tracer: Tracer?
    private var attributes: [(String, LogValue)]
    private var events: [SpanEvent] = []
    private var ended = false

    init(tracer: Tracer?, name: String, context: TraceContext, parentSpanID: String?,
         attributes: [(String, LogValue)]) {
        self.tracer = tracer
        self.name = name
        self.context = context
        self.parentSpanID = parentSpanID
        self.attributes = attributes
        startNanos = WallClock.nowNanos()
        startMonotonic = MonotonicClock.nanos()
    }

    /// Sets (or replaces) an attribute.
    public func set(_ key: String, _ value: LogValue) {
        if let i = attributes.firstIndex(where: { $0.0 == key }) { attributes[i].1 = value } else { attributes.append((key, value)) }
    }

    public func addEvent(_ name: String, _ attributes: [(String, LogValue)] = []) {
        events.append(SpanEvent(name: name, timeNanos: WallClock.nowNanos(), attributes: attributes))
    }

    /// Ends the span and hands it to the exporters; a second call does nothing.
    public func end(_ status: SpanStatus = .ok, message: String? = nil) {
        guard !ended else { return }
        ended = true
        guard let tracer, tracer.isRecording else { return }
        let end = startNanos + Int64(MonotonicClock.nanos() - startMonotonic)
        tracer.export(SpanRecord(traceID: context.traceID, spanID: context.spanID, parentSpanID: parentSpanID,
                                 name: name, service: tracer.service, startNanos: startNanos, endNanos: end,
                                 status: status, statusMessage: message, attributes: attributes, events: events))
    }
}
