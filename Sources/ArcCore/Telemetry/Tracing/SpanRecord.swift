/// How a span ended, as OpenTelemetry has it: `unset` when nobody said.
public enum SpanStatus: String, Sendable, CaseIterable {
    case ok, error, unset
}

/// Something that happened at a moment inside a span (a retry, a resumption).
public struct SpanEvent: Sendable {
    public var name: String
    public var timeNanos: Int64
    public var attributes: [(String, LogValue)]

    public init(name: String, timeNanos: Int64, attributes: [(String, LogValue)] = []) {
        self.name = name
        self.timeNanos = timeNanos
        self.attributes = attributes
    }
}

/// A finished span: what `--trace FILE` appends as one NDJSON line, what OTLP carries,
/// and what telem-trace stores. Times are Unix nanoseconds.
///
///     {"trace_id":"…32 hex…","span_id":"…16 hex…","parent_span_id":"…","name":"collect.task",
///      "service":"arc-collect","start":"2026-11-25T03:00:00.123456Z","end":"…","duration_ms":12,
///      "status":"ok","status_message":"…","attributes":{"url":"…","bytes":123},
///      "events":[{"name":"retry","time":"…","attributes":{…}}]}
public struct SpanRecord: Sendable {
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String?
    public var name: String
    public var service: String?
    public var startNanos: Int64
    public var endNanos: Int64
    public var status: SpanStatus
    public var statusMessage: String?
    public var attributes: [(String, LogValue)]
    public var events: [SpanEvent]

    public init(traceID: String, spanID: String, parentSpanID: String?, name: String, service: String?,
                startNanos: Int64, endNanos: Int64, status: SpanStatus = .unset, statusMessage: String? = nil,
                attributes: [(String, LogValue)] = [], events: [SpanEvent] = []) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.service = service
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.status = status
        self.statusMessage = statusMessage
        self.attributes = attributes
        self.events = events
    }

    public var durationNanos: Int64 { max(0, endNanos - startNanos) }

    /// The span with credentials masked in its name, status message, attributes and events'
    /// attributes (`Secrets.redact`): what a tool's own spans are exported as, since span
    /// files and collectors are read by others. A command line or a URL is often in them.
    public var redacted: SpanRecord {
        var copy = self
        copy.name = Secrets.redact(name)
        copy.statusMessage = statusMessage.map(Secrets.redact)
        copy.attributes = attributes.map { ($0.0, $0.1.redacted) }
        copy.events = events.map { e in
            SpanEvent(name: e.name, timeNanos: e.timeNanos, attributes: e.attributes.map { ($0.0, $0.1.redacted) })
        }
        return copy
    }

    public func attribute(_ key: String) -> LogValue? { attributes.first { $0.0 == key }?.1 }

    /// Appends the record as one NDJSON line (newline included).
    public func write(into b: inout RecordBuilder) {
        Self.writeHeader(into: &b, traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, name: name,
                         service: service, startNanos: startNanos, endNanos: endNanos, status: status,
                         statusMessage: statusMessage)
        b.object("attributes") { o in Self.writeAttributes(attributes, into: &o) }
        if !events.isEmpty { Self.writeEvents(events, key: "events", into: &b) }
        b.end()
    }

    /// Begins a span record line and writes its fields from `trace_id` to `status_message`.
    /// `StoredSpan` writes the same line from stored values, so both go through here and
    /// their lines cannot drift apart; the caller adds attributes and events and ends it.
    public static func writeHeader(into b: inout RecordBuilder, traceID: String, spanID: String, parentSpanID: String?,
                            name: String, service: String?, startNanos: Int64, endNanos: Int64,
                            status: SpanStatus, statusMessage: String?) {
        b.begin()
        b.string("trace_id", traceID)
        b.string("span_id", spanID)
        b.optionalString("parent_span_id", parentSpanID)
        b.string("name", name)
        b.optionalString("service", service)
        b.string("start", WallClock.rfc3339(nanos: startNanos))
        b.string("end", WallClock.rfc3339(nanos: endNanos))
        b.int("duration_ms", max(0, endNanos - startNanos) / 1_000_000)
        b.string("status", status.rawValue)
        b.optionalString("status_message", statusMessage)
    }

    /// `key` as an array of `{name, time, attributes?}` objects, the attributes left out
    /// when an event has none. `SpanJSON` stores events in this same form.
    public static func writeEvents(_ events: [SpanEvent], key: String, into b: inout RecordBuilder) {
        b.objects(key, events) { o, event in
            o.string("name", event.name)
            o.string("time", WallClock.rfc3339(nanos: event.timeNanos))
            if !event.attributes.isEmpty {
                o.object("attributes") { a in Self.writeAttributes(event.attributes, into: &a) }
            }
        }
    }

    public static func writeAttributes(_ attributes: [(String, LogValue)], into b: inout RecordBuilder) {
        for (key, value) in attributes {
            switch value {
            case .string(let s): b.string(key, s)
            case .int(let i): b.int(key, i)
            case .double(let d): b.double(key, d)
            case .bool(let v): b.bool(key, v)
            }
        }
    }
}
