/// OTLP/HTTP JSON bodies (opentelemetry-proto's ExportTraceServiceRequest and
/// ExportLogsServiceRequest in the protobuf JSON mapping, with the two OTLP exceptions:
/// trace and span ids are hex, not base64, and enums are numbers). 64-bit integers are
/// strings, as the mapping requires.
public enum OTLPJSON {
    public static let scopeName = "arc"

    /// One request for `spans`, grouped by service (each service is a resource).
    public static func traces(_ spans: [SpanRecord], defaultService: String) -> [UInt8] {
        var b = RecordBuilder(capacity: 256 + spans.count * 400)
        b.begin()
        let groups = grouped(spans) { $0.service ?? defaultService }
        b.objects("resourceSpans", groups) { r, group in
            resource(group.key, into: &r)
            r.objects("scopeSpans", [group.items]) { s, items in
                scope(into: &s)
                s.objects("spans", items) { o, span in
                    o.string("traceId", span.traceID)
                    o.string("spanId", span.spanID)
                    if let parent = span.parentSpanID { o.string("parentSpanId", parent) }
                    o.string("name", span.name)
                    o.int("kind", 1) // SPAN_KIND_INTERNAL
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
                        st.int("code", span.status == .ok ? 1 : span.status == .error ? 2 : 0)
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
                    o.int("severityNumber", severityNumber(log.level))
                    o.string("severityText", log.level.name.uppercased())
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

    /// SeverityNumber: DEBUG 5, INFO 9, WARN 13, ERROR 17.
    static func severityNumber(_ level: LogLevel) -> Int {
        switch level {
        case .debug: return 5
        case .info: return 9
        case .warn: return 13
        case .error: return 17
        }
    }

    private static func resource(_ service: String, into r: inout RecordBuilder) {
        r.object("resource") { res in
            keyValues("attributes", [("service.name", .string(service)), ("telemetry.sdk.name", .string("arc")),
                                     ("telemetry.sdk.language", .string("swift")),
                                     ("telemetry.sdk.version", .string(ArcVersion.current))], into: &res)
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

    private static func grouped<T>(_ items: [T], by key: (T) -> String) -> [(key: String, items: [T])] {
        var order: [String] = []
        var groups: [String: [T]] = [:]
        for item in items {
            let k = key(item)
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(item)
        }
        return order.map { ($0, groups[$0]!) }
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
