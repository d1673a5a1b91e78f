/// OTLP/HTTP protobuf bodies: opentelemetry-proto's ExportTraceServiceRequest and
/// ExportLogsServiceRequest, saying what OTLPJSON says (OTLPContent decides it for both).
/// Fields go in field-number order with proto3 defaults left out, as the reference
/// serializer writes them. The numbers are opentelemetry-proto's (trace/v1/trace.proto,
/// logs/v1/logs.proto, common/v1/common.proto, resource/v1/resource.proto).
public enum OTLPProtobuf {
    /// One request for `spans`, grouped by service (each service is a resource).
    public static func traces(_ spans: [SpanRecord], defaultService: String) -> [UInt8] {
        var w = ProtobufWriter(capacity: 256 + spans.count * 256)
        for group in OTLPContent.groupedByService(spans, defaultService: defaultService) {
            let resourceSpans = w.beginMessage(1)             // ExportTraceServiceRequest.resource_spans
            resource(group.service, into: &w)                 // ResourceSpans.resource = 1
            let scopeSpans = w.beginMessage(2)                // ResourceSpans.scope_spans
            scope(into: &w)                                   // ScopeSpans.scope = 1
            for i in group.indices { span(spans[i], into: &w) } // ScopeSpans.spans = 2
            w.endMessage(scopeSpans)
            w.endMessage(resourceSpans)
        }
        return w.bytes
    }

    /// One request for `logs`, all from `service`.
    public static func logs(_ logs: [OTLPLogRecord], service: String) -> [UInt8] {
        var w = ProtobufWriter(capacity: 256 + logs.count * 200)
        let resourceLogs = w.beginMessage(1)                  // ExportLogsServiceRequest.resource_logs
        resource(service, into: &w)                           // ResourceLogs.resource = 1
        let scopeLogs = w.beginMessage(2)                     // ResourceLogs.scope_logs
        scope(into: &w)                                       // ScopeLogs.scope = 1
        for log in logs {
            let record = w.beginMessage(2)                    // ScopeLogs.log_records
            w.fixed64(1, UInt64(bitPattern: log.timeNanos))   // time_unix_nano
            w.int64(2, Int64(OTLPContent.severityNumber(log.level))) // severity_number
            w.string(3, OTLPContent.severityText(log.level))  // severity_text
            w.message(5) { $0.string(1, log.message, always: true) } // body: AnyValue.string_value
            keyValues(6, log.fields, into: &w)                // attributes
            if let trace = log.traceID, let span = log.spanID {
                w.hexBytes(9, trace)                          // trace_id
                w.hexBytes(10, span)                          // span_id
            }
            w.fixed64(11, UInt64(bitPattern: log.timeNanos))  // observed_time_unix_nano
            w.endMessage(record)
        }
        w.endMessage(scopeLogs)
        w.endMessage(resourceLogs)
        return w.bytes
    }

    /// A Span, as field 2 of ScopeSpans.
    private static func span(_ span: SpanRecord, into w: inout ProtobufWriter) {
        let start = w.beginMessage(2)
        w.hexBytes(1, span.traceID)                           // trace_id
        w.hexBytes(2, span.spanID)                            // span_id
        if let parent = span.parentSpanID { w.hexBytes(4, parent) } // parent_span_id
        w.string(5, span.name)                                // name
        w.int64(6, Int64(OTLPContent.spanKind))               // kind
        w.fixed64(7, UInt64(bitPattern: span.startNanos))     // start_time_unix_nano
        w.fixed64(8, UInt64(bitPattern: span.endNanos))       // end_time_unix_nano
        keyValues(9, span.attributes, into: &w)               // attributes
        for event in span.events {
            let e = w.beginMessage(11)                        // events
            w.fixed64(1, UInt64(bitPattern: event.timeNanos)) // time_unix_nano
            w.string(2, event.name)                           // name
            keyValues(3, event.attributes, into: &w)          // attributes
            w.endMessage(e)
        }
        // status, always there as in the JSON: message = 2, code = 3.
        let status = w.beginMessage(15)
        if let message = span.statusMessage { w.string(2, message) }
        w.int64(3, Int64(OTLPContent.statusCode(span.status)))
        w.endMessage(status)
        w.endMessage(start)
    }

    /// Resource { attributes = 1 } as field 1 of ResourceSpans / ResourceLogs.
    private static func resource(_ service: String, into w: inout ProtobufWriter) {
        let start = w.beginMessage(1)
        keyValues(1, OTLPContent.resourceAttributes(service), into: &w)
        w.endMessage(start)
    }

    /// InstrumentationScope { name = 1, version = 2 } as field 1 of ScopeSpans / ScopeLogs.
    private static func scope(into w: inout ProtobufWriter) {
        let start = w.beginMessage(1)
        w.string(1, OTLPContent.scopeName)
        w.string(2, ArcVersion.current)
        w.endMessage(start)
    }

    /// Repeated KeyValue { key = 1, value = 2 (AnyValue) } as `field`. AnyValue's members
    /// are a oneof: written even when zero, false or empty, or the value would be lost.
    private static func keyValues(_ field: Int, _ values: [(String, LogValue)], into w: inout ProtobufWriter) {
        for (key, value) in values {
            let kv = w.beginMessage(field)
            w.string(1, key)
            let any = w.beginMessage(2)
            switch value {
            case .string(let s): w.string(1, s, always: true)  // string_value
            case .bool(let b): w.bool(2, b, always: true)      // bool_value
            case .int(let i): w.int64(3, i, always: true)      // int_value
            case .double(let d): w.double(4, d, always: true)  // double_value
            }
            w.endMessage(any)
            w.endMessage(kv)
        }
    }
}
