import ArcCore

/// The protobuf encoding (the http/protobuf protocol, SDKs' default):
/// opentelemetry/proto/collector/trace/v1/trace_service.proto and trace/v1/trace.proto.
/// Field numbers are the .proto's; unknown fields are skipped, a known field with the
/// wrong wire type or anything truncated makes the whole body a DecodeError naming where.
extension OTLPTraceDecoder {
    public static func decodeProtobuf(_ body: [UInt8]) throws -> Result {
        var result = Result()
        do {
            try OTLPProtobufValues.forEachItem(in: body, names: ("resource_spans", "scope_spans", "spans")) { span, service in
                result.add(try spanFields(&span), service: service)
            }
        } catch let e as ProtobufError {
            throw DecodeError(description: e.description)
        }
        return result
    }

    /// Span (trace.proto): ids are bytes, times fixed64, kind an enum, status a message.
    static func spanFields(_ span: inout ProtobufReader) throws -> OTLPSpanFields {
        var f = OTLPSpanFields()
        var attributeIndex = 0, eventIndex = 0
        // proto3: an absent time is 0, so a span always has both (as the JSON path would
        // if they were sent as "0").
        f.startNanos = 0
        f.endNanos = 0
        while let (number, wire) = try span.nextField() {
            switch number {
            case 1: f.traceID = try id(&span, wire, "trace_id", count: 16)
            case 2: f.spanID = try id(&span, wire, "span_id", count: 8)
            case 4: f.parentSpanID = try id(&span, wire, "parent_span_id", count: 8)
            case 5:
                f.name = try ProtobufError.at("name") {
                    try span.expect(.lengthDelimited, wire, field: "name")
                    return try span.string()
                }
            case 6: f.kind = try OTLPProtobufValues.enumValue(&span, wire: wire, field: "kind")
            case 7: f.startNanos = try OTLPProtobufValues.time(&span, wire: wire, field: "start_time_unix_nano") ?? -1
            case 8: f.endNanos = try OTLPProtobufValues.time(&span, wire: wire, field: "end_time_unix_nano") ?? -1
            case 9:
                try OTLPProtobufValues.appendKeyValue(&span, wire: wire, index: attributeIndex, name: "attributes",
                                                      to: &f.attributes)
                attributeIndex += 1
            case 11:
                try ProtobufError.at("events[\(eventIndex)]") {
                    try span.expect(.lengthDelimited, wire, field: "events")
                    var event = try span.message()
                    f.events.append(try self.event(&event))
                }
                eventIndex += 1
            case 15:
                try ProtobufError.at("status") {
                    try span.expect(.lengthDelimited, wire, field: "status")
                    var status = try span.message()
                    // Status { string message = 2; StatusCode code = 3; }
                    while let (n, w) = try status.nextField() {
                        switch n {
                        case 2:
                            try status.expect(.lengthDelimited, w, field: "message")
                            f.statusMessage = try ProtobufError.at("message") { try status.string() }
                        case 3: f.statusCode = try OTLPProtobufValues.enumValue(&status, wire: w, field: "code")
                        default: try status.skip(w)
                        }
                    }
                }
            default: try span.skip(wire)
            }
        }
        return f
    }

    /// Span.Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
    private static func event(_ event: inout ProtobufReader) throws -> OTLPSpanFields.Event {
        var e = OTLPSpanFields.Event(timeNanos: 0)
        var i = 0
        while let (number, wire) = try event.nextField() {
            switch number {
            case 1: e.timeNanos = try OTLPProtobufValues.time(&event, wire: wire, field: "time_unix_nano")
            case 2:
                e.name = try ProtobufError.at("name") {
                    try event.expect(.lengthDelimited, wire, field: "name")
                    return try event.string()
                }
            case 3:
                try OTLPProtobufValues.appendKeyValue(&event, wire: wire, index: i, name: "attributes", to: &e.attributes)
                i += 1
            default: try event.skip(wire)
            }
        }
        return e
    }

    static func id(_ reader: inout ProtobufReader, _ wire: ProtobufReader.WireType, _ field: String,
                   count: Int, zeroIsAbsent: Bool = false) throws -> OTLPSpanFields.ID {
        try ProtobufError.at(field) {
            try reader.expect(.lengthDelimited, wire, field: field)
            return OTLPSpanFields.id(bytes: try reader.byteSlice(), count: count, zeroIsAbsent: zeroIsAbsent)
        }
    }
}
