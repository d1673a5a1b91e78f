import ArcCore

/// The protobuf encoding: opentelemetry/proto/collector/logs/v1/logs_service.proto and
/// logs/v1/logs.proto, read as the trace decoder reads its protobuf.
extension OTLPLogDecoder {
    public static func decodeProtobuf(_ body: [UInt8], receivedNanos: Int64) throws -> Result {
        var result = Result()
        do {
            try OTLPProtobufValues.forEachItem(in: body, names: ("resource_logs", "scope_logs", "log_records")) { record, service in
                result.add(try fields(&record), service: service, receivedNanos: receivedNanos)
            }
        } catch let e as ProtobufError {
            throw OTLPTraceDecoder.DecodeError(description: e.description)
        }
        return result
    }

    /// LogRecord (logs.proto).
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
