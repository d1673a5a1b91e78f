import ArcCore

/// A span as telem-trace stores it: ids, times in Unix nanoseconds, and the attributes
/// and events kept as the JSON text they arrived in. Ingesting a million spans then costs
/// a scan and a copy per line, not a decode of every attribute into Swift values.
public struct StoredSpan: Sendable, Equatable {
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String?
    public var name: String
    public var service: String?
    public var startNanos: Int64
    public var endNanos: Int64
    public var status: SpanStatus
    public var statusMessage: String?
    /// A JSON object (`{"url":"…","bytes":12}`), or nil when the span has none.
    public var attributesJSON: String?
    /// A JSON array of `{name, time, attributes?}`, or nil when the span has none.
    public var eventsJSON: String?

    public init(traceID: String, spanID: String, parentSpanID: String?, name: String, service: String?,
                startNanos: Int64, endNanos: Int64, status: SpanStatus, statusMessage: String? = nil,
                attributesJSON: String? = nil, eventsJSON: String? = nil) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.service = service
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.status = status
        self.statusMessage = statusMessage
        self.attributesJSON = attributesJSON
        self.eventsJSON = eventsJSON
    }

    public var durationNanos: Int64 { max(0, endNanos - startNanos) }
    public var isError: Bool { status == .error }

    /// Reads one span record line (what `--trace FILE` writes, see `SpanRecord.write`).
    /// A missing or malformed field throws `FieldError`, which the reader turns into a
    /// bad line with its file and line number.
    public init(record r: Record) throws {
        traceID = try Self.id(r, "trace_id", length: 32)!
        spanID = try Self.id(r, "span_id", length: 16)!
        parentSpanID = try Self.id(r, "parent_span_id", length: 16, optional: true)
        name = try r.requiredString("name")
        service = try r.string("service")
        startNanos = try Self.time(r, "start")
        endNanos = try Self.time(r, "end")
        guard endNanos >= startNanos else { throw FieldError(field: "end", problem: "the span ends before it starts") }
        let statusText = try r.string("status") ?? "unset"
        guard let status = SpanStatus(rawValue: statusText) else {
            throw FieldError(field: "status", problem: "expected ok, error or unset, got '\(statusText)'")
        }
        self.status = status
        statusMessage = try r.string("status_message")
        attributesJSON = try Self.rawJSON(r, "attributes", .object)
        eventsJSON = try Self.rawJSON(r, "events", .array)
        if attributesJSON == "{}" { attributesJSON = nil }
        if eventsJSON == "[]" { eventsJSON = nil }
    }

    private static func id(_ r: Record, _ key: String, length: Int, optional: Bool = false) throws -> String? {
        guard let text = try r.string(key), !(optional && text.isEmpty) else {
            if optional { return nil }
            throw FieldError(field: key, expected: "\(length) hex digits", kind: r.field(key)?.kind)
        }
        guard TraceIDs.isValid(text, length: length) else {
            throw FieldError(field: key, problem: "expected \(length) lowercase hex digits, not all zero, got '\(text)'")
        }
        return text
    }

    /// From 1970 (as OTLP's unsigned times) to 2262 (Int64 nanoseconds): so every
    /// difference of two stored times fits.
    private static func time(_ r: Record, _ key: String) throws -> Int64 {
        let text = try r.requiredString(key)
        guard let nanos = WallClock.parseRFC3339Nanos(text), nanos >= 0 else {
            throw FieldError(field: key, problem: "expected an RFC 3339 time from 1970 to 2262, got '\(text)'")
        }
        return nanos
    }

    private static func rawJSON(_ r: Record, _ key: String, _ kind: JSONKind) throws -> String? {
        guard let f = r.field(key), f.kind != .null else { return nil }
        guard f.kind == kind else {
            throw FieldError(field: key, expected: kind == .object ? "an object" : "an array", kind: f.kind)
        }
        return String(decoding: r.raw(f), as: UTF8.self)
    }

    /// The span record line, as `SpanRecord.write` would write it (attributes and events
    /// copied as stored, so values of any JSON type survive).
    public func write(into b: inout RecordBuilder) {
        SpanRecord.writeHeader(into: &b, traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, name: name,
                               service: service, startNanos: startNanos, endNanos: endNanos, status: status,
                               statusMessage: statusMessage)
        b.raw("attributes", Array((attributesJSON ?? "{}").utf8))
        if let eventsJSON { b.raw("events", Array(eventsJSON.utf8)) }
        b.end()
    }

    /// The span as the telemetry model has it, for the OTLP encoder. Attribute values
    /// that are arrays or objects become their JSON text (a string attribute).
    public func spanRecord() -> SpanRecord {
        SpanRecord(traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, name: name, service: service,
                   startNanos: startNanos, endNanos: endNanos, status: status, statusMessage: statusMessage,
                   attributes: SpanJSON.attributes(attributesJSON), events: SpanJSON.events(eventsJSON))
    }

    /// The stored form of a span the telemetry model made.
    public init(_ s: SpanRecord) {
        self.init(traceID: s.traceID, spanID: s.spanID, parentSpanID: s.parentSpanID, name: s.name, service: s.service,
                  startNanos: s.startNanos, endNanos: s.endNanos, status: s.status, statusMessage: s.statusMessage,
                  attributesJSON: s.attributes.isEmpty ? nil : SpanJSON.object(s.attributes),
                  eventsJSON: s.events.isEmpty ? nil : SpanJSON.events(s.events))
    }
}
