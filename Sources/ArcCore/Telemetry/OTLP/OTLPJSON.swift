/// OTLP/HTTP JSON bodies (opentelemetry-proto's ExportTraceServiceRequest and
/// ExportLogsServiceRequest in the protobuf JSON mapping, with the two OTLP exceptions:
/// trace and span ids are hex, not base64, and enums are numbers). 64-bit integers are
/// strings, as the mapping requires.
public enum OTLPJSON {
    public static let scopeName = OTLPContent.scopeName

    /// One request for `spans`, grouped by service (each service is a resource).
    public static func traces(_ spans: [SpanRecord], defaultService: String) -> [UInt8] {
        var b = RecordBuilder(capacity: 256 + spans.count * 400)
        b.begin()
        let groups = OTLPContent.groupedByService(spans, defaultService: defaultService)
        b.objects("resourceSpans", groups) { r, group in
            resource(group.service, into: &r)
            r.objects("scopeSpans", [group.indices]) { s, indices in
                scope(into: &s)
                s.objects("spans", indices) { o, i in
                    let span = spans[i]
                    o.string("traceId", span.traceID)
                    o.string("spanId", span.spanID)
                    if let parent = span.parentSpanID { o.string("parentSpanId", parent) }
                    o.string("name", span.name)
                    o.int("kind", OTLPContent.spanKind)
                    o.string("startTimeUnixNano", String(span.startNanos))
                    o.string("endTimeUnixNano", String(span.endNanos))
                    keyValues("attributes", span.attributes, into: &o)
                    if !span.events.isEmpty {
                        o.objects("events", span.events) { e, event in
                            e.string("timeUnixNano", String(event.timeNanos))
                            e.string("name", event.name)
                            keyValues("attributes", event.attributes, into: &e)
                        }
                    }
                    o.object("status") { st in
                        st.int("code", OTLPContent.statusCode(span.status))
                        if let message = span.statusMessage { st.string("message", message) }
                    }
                }
            }
        }
        b.end()
        return b.bytes
    }

    /// One request for `logs`, all from `service`.
    public static func logs(_ logs: [OTLPLogRecord], service: String) -> [UInt8] {
        var b = RecordBuilder(capacity: 256 + logs.count * 300)
        b.begin()
        b.objects("resourceLogs", [logs]) { r, items in
            resource(service, into: &r)
            r.objects("scopeLogs", [items]) { s, items in
                scope(into: &s)
                s.objects("logRecords", items) { o, log in
                    o.string("timeUnixNano", String(log.timeNanos))
                    o.string("observedTimeUnixNano", String(log.timeNanos))
                    o.int("severityNumber", OTLPContent.severityNumber(log.level))
                    o.string("severityText", OTLPContent.severityText(log.level))
                    o.object("body") { v in v.string("stringValue", log.message) }
                    keyValues("attributes", log.fields, into: &o)
                    if let trace = log.traceID, let span = log.spanID {
                        o.string("traceId", trace)
                        o.string("spanId", span)
                    }
                }
            }
        }
        b.end()
        return b.bytes
    }

    private static func resource(_ service: String, into r: inout RecordBuilder) {
        r.object("resource") { res in
            keyValues("attributes", OTLPContent.resourceAttributes(service), into: &res)
        }
    }

    private static func scope(into s: inout RecordBuilder) {
        s.object("scope") { sc in
            sc.string("name", scopeName)
            sc.string("version", ArcVersion.current)
        }
    }

    static func keyValues(_ key: String, _ values: [(String, LogValue)], into b: inout RecordBuilder) {
        b.objects(key, values) { kv, pair in
            kv.string("key", pair.0)
            kv.object("value") { v in
                switch pair.1 {
                case .string(let s): v.string("stringValue", s)
                case .int(let i): v.string("intValue", String(i))
                case .double(let d): v.double("doubleValue", d)
                case .bool(let x): v.bool("boolValue", x)
                }
            }
        }
    }
}

/// A log line on its way to an OTLP collector.
public struct OTLPLogRecord: Sendable {
    public var timeNanos: Int64
    public var level: LogLevel
    public var message: String
    public var fields: [(String, LogValue)]
    public var traceID: String?
    public var spanID: String?
}
