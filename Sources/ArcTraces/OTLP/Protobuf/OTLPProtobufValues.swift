import ArcCore

/// The protobuf messages both the trace and the log decoder read: Resource, KeyValue,
/// AnyValue (opentelemetry/proto/common/v1/common.proto, resource/v1/resource.proto).
enum OTLPProtobufValues {
    /// The walk both requests share: Export{Trace,Logs}ServiceRequest { repeated
    /// Resource{Spans,Logs} = 1; }, each { Resource resource = 1; repeated Scope{Spans,Logs}
    /// = 2; }, each { repeated Span / LogRecord = 2; }. Calls `item` with each span or log
    /// record and its resource's service.name; errors name the path with `names`.
    static func forEachItem(in body: [UInt8], names: (resource: String, scope: String, item: String),
                            _ item: (inout ProtobufReader, _ service: String?) throws -> Void) throws {
        var request = ProtobufReader(body)
        try request.forEachMessage(1, named: names.resource) { group in
            // The resource may come after the items, so it is looked for first.
            var service: String?
            var first = group
            try first.forEachMessage(1, named: "resource", indexed: false) { service = try serviceName(&$0) }
            try group.forEachMessage(2, named: names.scope) { scope in
                try scope.forEachMessage(2, named: names.item) { try item(&$0, service) }
            }
        }
    }

    /// Resource { repeated KeyValue attributes = 1; } -> its service.name.
    static func serviceName(_ resource: inout ProtobufReader) throws -> String? {
        var attributes: [(String, AttributeValue)] = []
        try resource.forEachMessage(1, named: "attributes") { kv in
            if let pair = try keyValue(&kv) { attributes.append(pair) }
        }
        return OTLPAttributes.serviceName(OTLPAttributes.flatten(attributes))
    }

    /// One `repeated KeyValue` element, read into `out` (unset values left out).
    static func appendKeyValue(_ reader: inout ProtobufReader, wire: ProtobufReader.WireType, index: Int,
                               name: String, to out: inout [(String, AttributeValue)]) throws {
        try ProtobufError.at("\(name)[\(index)]") {
            try reader.expect(.lengthDelimited, wire, field: name)
            var kv = try reader.message()
            if let pair = try keyValue(&kv) { out.append(pair) }
        }
    }

    /// KeyValue { string key = 1; AnyValue value = 2; }: nil when the value is unset.
    static func keyValue(_ kv: inout ProtobufReader) throws -> (String, AttributeValue)? {
        var key = ""
        var value: AttributeValue?
        while let (number, wire) = try kv.nextField() {
            switch number {
            case 1:
                try ProtobufError.at("key") {
                    try kv.expect(.lengthDelimited, wire, field: "key")
                    key = try kv.string()
                }
            case 2:
                value = try ProtobufError.at("value") {
                    try kv.expect(.lengthDelimited, wire, field: "value")
                    var any = try kv.message()
                    return try anyValue(&any)
                }
            default: try kv.skip(wire)
            }
        }
        guard let value else { return nil }
        return (key, value)
    }

    /// AnyValue, a oneof (the last member given wins, as protobuf's rule is): nil when
    /// none is. Bytes are kept as base64 text, as the JSON encoding carries them.
    static func anyValue(_ any: inout ProtobufReader) throws -> AttributeValue? {
        var value: AttributeValue?
        while let (number, wire) = try any.nextField() {
            switch number {
            case 1:
                try any.expect(.lengthDelimited, wire, field: "string_value")
                value = .scalar(.string(try ProtobufError.at("string_value") { try any.string() }))
            case 2:
                try any.expect(.varint, wire, field: "bool_value")
                value = .scalar(.bool(try ProtobufError.at("bool_value") { try any.varint() } != 0))
            case 3:
                try any.expect(.varint, wire, field: "int_value")
                value = .scalar(.int(Int64(bitPattern: try ProtobufError.at("int_value") { try any.varint() })))
            case 4:
                try any.expect(.fixed64, wire, field: "double_value")
                value = .scalar(.double(Double(bitPattern: try ProtobufError.at("double_value") { try any.fixed64() })))
            case 5:
                try any.expect(.lengthDelimited, wire, field: "array_value")
                value = .array(try ProtobufError.at("array_value") {
                    var array = try any.message()
                    return try arrayValues(&array)
                })
            case 6:
                try any.expect(.lengthDelimited, wire, field: "kvlist_value")
                value = .object(try ProtobufError.at("kvlist_value") {
                    // KeyValueList { repeated KeyValue values = 1; }
                    var list = try any.message()
                    var members: [(String, AttributeValue)] = []
                    try list.forEachMessage(1, named: "values") { kv in
                        if let pair = try keyValue(&kv) { members.append(pair) }
                    }
                    return members
                })
            case 7:
                try any.expect(.lengthDelimited, wire, field: "bytes_value")
                value = .scalar(.string(Base64.encode(Array(try ProtobufError.at("bytes_value") { try any.byteSlice() }))))
            default:
                try any.skip(wire)
            }
        }
        return value
    }

    /// ArrayValue { repeated AnyValue values = 1; }, unset members left out.
    private static func arrayValues(_ array: inout ProtobufReader) throws -> [AttributeValue] {
        var items: [AttributeValue] = []
        try array.forEachMessage(1, named: "values") { any in
            if let v = try anyValue(&any) { items.append(v) }
        }
        return items
    }

    /// A fixed64 time in Unix nanoseconds; nil past Int64 (2262), which is not a time we keep.
    static func time(_ reader: inout ProtobufReader, wire: ProtobufReader.WireType, field: String) throws -> Int64? {
        try ProtobufError.at(field) {
            try reader.expect(.fixed64, wire, field: field)
            let raw = try reader.fixed64()
            return raw > UInt64(Int64.max) ? nil : Int64(raw)
        }
    }

    /// A varint enum or int32; values past Int32 (a hostile body) are kept as 0, unknown.
    static func enumValue(_ reader: inout ProtobufReader, wire: ProtobufReader.WireType, field: String) throws -> Int {
        try ProtobufError.at(field) {
            try reader.expect(.varint, wire, field: field)
            let raw = Int64(bitPattern: try reader.varint())
            return raw >= Int64(Int32.min) && raw <= Int64(Int32.max) ? Int(raw) : 0
        }
    }
}
