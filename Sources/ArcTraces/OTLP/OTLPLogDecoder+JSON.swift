import ArcCore

/// The JSON encoding of ExportLogsServiceRequest (the http/json protocol), read as the
/// trace decoder reads its JSON (OTLPJSONValues).
extension OTLPLogDecoder {
    public static func decode(_ body: [UInt8], receivedNanos: Int64) throws -> Result {
        let request = try OTLPJSONValues.requestObject(body, "ExportLogsServiceRequest")
        var result = Result()
        for rl in request["resourceLogs"]?.arrayValue ?? [] {
            guard case .object = rl else { throw OTLPTraceDecoder.DecodeError(description: "resourceLogs: expected objects") }
            let service = OTLPAttributes.serviceName(OTLPAttributes.flatten(OTLPJSONValues.keyValues(rl["resource"]?["attributes"])))
            for scope in rl["scopeLogs"]?.arrayValue ?? [] {
                for record in scope["logRecords"]?.arrayValue ?? [] {
                    guard case .object = record else {
                        throw OTLPTraceDecoder.DecodeError(description: "logRecords: expected objects")
                    }
                    result.add(fields(record), service: service, receivedNanos: receivedNanos)
                }
            }
        }
        return result
    }

    static func fields(_ r: JSONValue) -> OTLPLogFields {
        var f = OTLPLogFields()
        f.timeNanos = time(r["timeUnixNano"])
        f.observedNanos = time(r["observedTimeUnixNano"])
        switch r["severityNumber"] {
        case .number(let text)?: f.severityNumber = Int(text) ?? 0
        case .string(let name)?:
            // SEVERITY_NUMBER_WARN2 and the like: the name's level, its first number.
            let levels = ["TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21]
            let bare = name.hasPrefix("SEVERITY_NUMBER_") ? String(name.dropFirst(16)) : name
            f.severityNumber = levels.first(where: { bare.hasPrefix($0.key) })?.value ?? 0
        default: break
        }
        f.severityText = r["severityText"]?.stringValue
        if let body = r["body"], case .object = body { f.body = OTLPJSONValues.anyValue(body) }
        f.attributes = OTLPJSONValues.keyValues(r["attributes"])
        f.traceID = OTLPJSONValues.id(r["traceId"], bytes: 16, zeroIsAbsent: true)
        f.spanID = OTLPJSONValues.id(r["spanId"], bytes: 8, zeroIsAbsent: true)
        return f
    }

    /// A time as a string or number; absent is 0 (unset), a negative one is no time.
    private static func time(_ raw: JSONValue?) -> Int64? {
        guard let raw, raw != .null else { return 0 }
        guard let n = raw.int64Value, n >= 0 else { return nil }
        return n
    }
}
