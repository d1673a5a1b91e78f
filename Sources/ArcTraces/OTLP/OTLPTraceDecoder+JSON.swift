import ArcCore

/// The JSON encoding (the http/json protocol). Off the hot path, so the body is read as
/// a `JSONValue` tree; what is done here is the protobuf JSON mapping: ids in hex
/// (OTLP's rule) or base64 (the generic mapping), 64-bit integers as strings or numbers,
/// enums as numbers or names, and every AnyValue kind (OTLPJSONValues).
extension OTLPTraceDecoder {
    public static func decode(_ body: [UInt8]) throws -> Result {
        let request = try OTLPJSONValues.requestObject(body, "ExportTraceServiceRequest")
        var result = Result()
        for rs in request["resourceSpans"]?.arrayValue ?? [] {
            guard case .object = rs else { throw DecodeError(description: "resourceSpans: expected objects") }
            let service = OTLPAttributes.serviceName(OTLPAttributes.flatten(OTLPJSONValues.keyValues(rs["resource"]?["attributes"])))
            // scopeSpans; instrumentationLibrarySpans in OTLP before 0.15.
            let scopes = (rs["scopeSpans"] ?? rs["instrumentationLibrarySpans"])?.arrayValue ?? []
            for scope in scopes {
                for span in scope["spans"]?.arrayValue ?? [] {
                    guard case .object = span else { throw DecodeError(description: "spans: expected objects") }
                    result.add(spanFields(span), service: service)
                }
            }
        }
        return result
    }

    static func spanFields(_ s: JSONValue) -> OTLPSpanFields {
        var f = OTLPSpanFields()
        f.traceID = OTLPJSONValues.id(s["traceId"], bytes: 16)
        f.spanID = OTLPJSONValues.id(s["spanId"], bytes: 8)
        f.parentSpanID = OTLPJSONValues.id(s["parentSpanId"], bytes: 8)
        f.name = s["name"]?.stringValue
        f.startNanos = s["startTimeUnixNano"]?.int64Value
        f.endNanos = s["endTimeUnixNano"]?.int64Value
        f.kind = kindNumber(s["kind"])
        let status = s["status"]
        switch status?["code"] {
        case .number(let text)?: f.statusCode = Int(text) ?? 0
        case .string(let text)?: f.statusCode = text == "STATUS_CODE_OK" ? 1 : text == "STATUS_CODE_ERROR" ? 2 : 0
        default: break
        }
        f.statusMessage = status?["message"]?.stringValue
        f.attributes = OTLPJSONValues.keyValues(s["attributes"])
        for e in s["events"]?.arrayValue ?? [] {
            f.events.append(OTLPSpanFields.Event(name: e["name"]?.stringValue ?? "", timeNanos: e["timeUnixNano"]?.int64Value,
                                                 attributes: OTLPJSONValues.keyValues(e["attributes"])))
        }
        return f
    }

    /// A SpanKind as a number or its name (`SPAN_KIND_SERVER`, or `server`).
    static func kindNumber(_ raw: JSONValue?) -> Int {
        switch raw {
        case .number(let text)?: return Int(text) ?? 0
        case .string(let text)?:
            let name = text.hasPrefix("SPAN_KIND_") ? String(text.dropFirst(10)).lowercased() : text.lowercased()
            return OTLPSpanFields.kindNames.first(where: { $0.value == name })?.key ?? 0
        default: return 0
        }
    }
}

/// The JSON forms both the trace and the log decoder read: ids, KeyValue lists, AnyValue.
enum OTLPJSONValues {
    static func requestObject(_ body: [UInt8], _ message: String) throws -> JSONValue {
        let request: JSONValue
        do { request = try JSONValue(parsing: body) } catch {
            throw OTLPTraceDecoder.DecodeError(description: "the body is not JSON")
        }
        guard case .object = request else {
            throw OTLPTraceDecoder.DecodeError(description: "the body is not a JSON object (an \(message))")
        }
        return request
    }

    /// A trace or span id: `bytes` bytes, in hex (OTLP/JSON) or base64 (the protobuf JSON
    /// mapping); lowercase hex out; absent when missing, null or empty.
    static func id(_ raw: JSONValue?, bytes: Int, zeroIsAbsent: Bool = false) -> OTLPSpanFields.ID {
        guard let raw, raw != .null, raw != .string("") else { return .absent }
        guard let text = raw.stringValue else { return .bad }
        var hex: String?
        if Hex.isHex(Substring(text), count: bytes * 2) {
            hex = text.lowercased()
        } else if let decoded = Base64.decode(text), decoded.count == bytes {
            hex = Hex.encode(decoded)
        }
        if zeroIsAbsent, let hex, hex.utf8.allSatisfy({ $0 == UInt8(ascii: "0") }) { return .absent }
        guard let hex, TraceIDs.isValid(hex, length: bytes * 2) else { return .bad }
        return .hex(hex)
    }

    /// `[{key, value: AnyValue}]` -> (key, value) pairs, kvlists nested as objects; unset
    /// values left out.
    static func keyValues(_ raw: JSONValue?) -> [(String, AttributeValue)] {
        var out: [(String, AttributeValue)] = []
        for kv in raw?.arrayValue ?? [] {
            guard let key = kv["key"]?.stringValue, let value = kv["value"], case .object = value,
                  let v = anyValue(value) else { continue }
            out.append((key, v))
        }
        return out
    }

    /// One AnyValue; nil when empty (an unset value).
    static func anyValue(_ v: JSONValue) -> AttributeValue? {
        if let list = v["kvlistValue"] { return .object(keyValues(list["values"])) }
        if let s = v["stringValue"]?.stringValue { return .scalar(.string(s)) }
        if let b = v["boolValue"] { return .scalar(.bool(b.boolValue ?? (b.stringValue == "true"))) }
        if let n = v["intValue"]?.int64Value { return .scalar(.int(n)) }
        if let n = v["doubleValue"]?.doubleValue { return .scalar(.double(n)) }
        if let bytes = v["bytesValue"]?.stringValue { return .scalar(.string(bytes)) } // base64, as sent
        if let array = v["arrayValue"] {
            return .array((array["values"]?.arrayValue ?? []).compactMap { value in
                guard case .object = value else { return nil }
                return anyValue(value)
            })
        }
        return nil
    }
}
