import ArcCore

/// The protobuf encoding: opentelemetry/proto/collector/logs/v1/logs_service.proto and
/// logs/v1/logs.proto, read as the trace decoder reads its protobuf.
extension OTLPLogDecoder {
    public static func decodeProtobuf(_ body: [UInt8], receivedNanos: Int64) throws -> Result {
        var result = Result()
        var request = ProtobufReader(body)
        do {
            var i = 0
            // ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
            while let (number, wire) = try request.nextField() {
                guard number == 1 else { try request.skip(wire); continue }
                try ProtobufError.at("resource_logs[\(i)]") {
                    try request.expect(.lengthDelimited, wire, field: "resource_logs")
                    var rl = try request.message()
                    try resourceLogs(&rl, receivedNanos: receivedNanos, into: &result)
                }
                i += 1
            }
        } catch let e as ProtobufError {
            throw OTLPTraceDecoder.DecodeError(description: e.description)
        }
        return result
    }

    /// ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
    private static func resourceLogs(_ rl: inout ProtobufReader, receivedNanos: Int64, into result: inout Result) throws {
        var service: String?
        var first = rl
        while let (number, wire) = try first.nextField() {
            guard number == 1 else { try first.skip(wire); continue }
            try ProtobufError.at("resource") {
                try first.expect(.lengthDelimited, wire, field: "resource")
                var resource = try first.message()
                service = try OTLPProtobufValues.serviceName(&resource)
            }
        }
        var i = 0
        while let (number, wire) = try rl.nextField() {
            guard number == 2 else { try rl.skip(wire); continue }
            try ProtobufError.at("scope_logs[\(i)]") {
                try rl.expect(.lengthDelimited, wire, field: "scope_logs")
                var scope = try rl.message()
                // ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
                var j = 0
                while let (n, w) = try scope.nextField() {
                    guard n == 2 else { try scope.skip(w); continue }
                    try ProtobufError.at("log_records[\(j)]") {
                        try scope.expect(.lengthDelimited, w, field: "log_records")
                        var record = try scope.message()
                        result.add(try fields(&record), service: service, receivedNanos: receivedNanos)
                    }
                    j += 1
                }
            }
            i += 1
        }
    }

    static func fields(_ r: inout ProtobufReader) throws -> OTLPLogFields {
        var f = OTLPLogFields()
        var attributeIndex = 0
        while let (number, wire) = try r.nextField() {
            switch number {
            case 1: f.timeNanos = try OTLPProtobufValues.time(&r, wire: wire, field: "time_unix_nano")
            case 11: f.observedNanos = try OTLPProtobufValues.time(&r, wire: wire, field: "observed_time_unix_nano")
            case 2: f.severityNumber = try OTLPProtobufValues.enumValue(&r, wire: wire, field: "severity_number")
            case 3:
                f.severityText = try ProtobufError.at("severity_text") {
                    try r.expect(.lengthDelimited, wire, field: "severity_text")
                    return try r.string()
                }
            case 5:
                f.body = try ProtobufError.at("body") {
                    try r.expect(.lengthDelimited, wire, field: "body")
                    var any = try r.message()
                    return try OTLPProtobufValues.anyValue(&any)
                }
            case 6:
                try OTLPProtobufValues.appendKeyValue(&r, wire: wire, index: attributeIndex, name: "attributes",
                                                      to: &f.attributes)
                attributeIndex += 1
            case 9: f.traceID = try OTLPTraceDecoder.id(&r, wire, "trace_id", count: 16, zeroIsAbsent: true)
            case 10: f.spanID = try OTLPTraceDecoder.id(&r, wire, "span_id", count: 8, zeroIsAbsent: true)
            default: try r.skip(wire)
            }
        }
        return f
    }
}
