import ArcCore

/// Decodes an OTLP/HTTP JSON ExportTraceServiceRequest (what OpenTelemetry SDKs send to
/// /v1/traces with the http/json protocol) into stored spans. Off the hot path, so the
/// body is read as a `JSONValue` tree; what is done here is the protobuf JSON mapping:
/// ids in hex (OTLP's rule) or base64 (the generic mapping), 64-bit integers as strings
/// or numbers, enums as numbers or names, and every AnyValue kind.
public enum OTLPTraceDecoder {
    public struct Result {
        public var spans: [StoredSpan] = []
        /// Spans left out (bad ids or times), with the first reason.
        public var rejected = 0
        public var firstProblem: String?
    }

    public struct DecodeError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func decode(_ body: [UInt8]) throws -> Result {
        let request: JSONValue
        do { request = try JSONValue(parsing: body) } catch {
            throw DecodeError(description: "the body is not JSON")
        }
        guard case .object = request else {
            throw DecodeError(description: "the body is not a JSON object (an ExportTraceServiceRequest)")
        }
        var result = Result()
        for rs in request["resourceSpans"]?.arrayValue ?? [] {
            guard case .object = rs else { throw DecodeError(description: "resourceSpans: expected objects") }
            let resource = attributes(rs["resource"]?["attributes"])
            var service: String?
            if case .scalar(.string(let name))? = resource.first(where: { $0.0 == "service.name" })?.1 { service = name }
            // scopeSpans; instrumentationLibrarySpans in OTLP before 0.15.
            let scopes = (rs["scopeSpans"] ?? rs["instrumentationLibrarySpans"])?.arrayValue ?? []
            for scope in scopes {
                for span in scope["spans"]?.arrayValue ?? [] {
                    guard case .object = span else { throw DecodeError(description: "spans: expected objects") }
                    do {
                        result.spans.append(try decodeSpan(span, service: service))
                    } catch let e as DecodeError {
                        result.rejected += 1
                        if result.firstProblem == nil { result.firstProblem = e.description }
                    }
                }
            }
        }
        return result
    }

    static func decodeSpan(_ s: JSONValue, service: String?) throws -> StoredSpan {
        guard let traceID = id(s["traceId"], bytes: 16) else { throw DecodeError(description: "span with a bad traceId") }
        guard let spanID = id(s["spanId"], bytes: 8) else { throw DecodeError(description: "span with a bad spanId") }
        var parent: String?
        if let raw = s["parentSpanId"], raw != .null, raw != .string("") {
            guard let p = id(raw, bytes: 8) else { throw DecodeError(description: "span with a bad parentSpanId") }
            parent = p
        }
        // Span records need a name (ingest refuses one without), so `show --json | ingest` keeps every span.
        guard let name = s["name"]?.stringValue, !name.isEmpty else { throw DecodeError(description: "span without a name") }
        guard let start = s["startTimeUnixNano"]?.int64Value, let end = s["endTimeUnixNano"]?.int64Value else {
            throw DecodeError(description: "span without startTimeUnixNano or endTimeUnixNano")
        }
        // The times are fixed64 in OTLP: a negative one is not a time (and would overflow durations).
        guard start >= 0, end >= 0 else { throw DecodeError(description: "span with a negative time") }
        let status = s["status"]
        let code: SpanStatus
        switch status?["code"] {
        case .number(let text)?: code = text == "1" ? .ok : text == "2" ? .error : .unset
        case .string(let text)?: code = text == "STATUS_CODE_OK" ? .ok : text == "STATUS_CODE_ERROR" ? .error : .unset
        default: code = .unset
        }
        var attrs = attributes(s["attributes"])
        if let kind = kindName(s["kind"]) { attrs.insert(("span.kind", .scalar(.string(kind))), at: 0) }
        var events: [String] = []
        for e in s["events"]?.arrayValue ?? [] {
            guard let time = e["timeUnixNano"]?.int64Value, time >= 0 else { continue }
            var b = RecordBuilder(capacity: 128)
            b.begin()
            b.string("name", e["name"]?.stringValue ?? "")
            b.string("time", WallClock.rfc3339(nanos: time))
            let eventAttributes = attributes(e["attributes"])
            if !eventAttributes.isEmpty { b.raw("attributes", AttributeValue.object(eventAttributes)) }
            b.end()
            events.append(String(decoding: b.bytes.dropLast(), as: UTF8.self))
        }
        let message = status?["message"]?.stringValue.nonEmpty
        return StoredSpan(traceID: traceID, spanID: spanID, parentSpanID: parent, name: name,
                          service: service, startNanos: start, endNanos: max(end, start), status: code,
                          statusMessage: message,
                          attributesJSON: attrs.isEmpty ? nil : String(decoding: AttributeValue.object(attrs), as: UTF8.self),
                          eventsJSON: events.isEmpty ? nil : "[" + events.joined(separator: ",") + "]")
    }

    /// SPAN_KIND_INTERNAL (1) and unspecified (0) say nothing worth keeping.
    static func kindName(_ raw: JSONValue?) -> String? {
        let names = [2: "server", 3: "client", 4: "producer", 5: "consumer"]
        switch raw {
        case .number(let text)?: return Int(text).flatMap { names[$0] }
        case .string(let text)?:
            let name = text.hasPrefix("SPAN_KIND_") ? String(text.dropFirst(10)).lowercased() : text.lowercased()
            return ["server", "client", "producer", "consumer"].contains(name) ? name : nil
        default: return nil
        }
    }

    /// A trace or span id: `bytes` bytes, in hex (OTLP/JSON) or base64 (the protobuf JSON
    /// mapping); lowercase hex out, nil when malformed or all zero.
    static func id(_ raw: JSONValue?, bytes: Int) -> String? {
        guard let text = raw?.stringValue else { return nil }
        var hex: String?
        if Hex.isHex(Substring(text), count: bytes * 2) {
            hex = text.lowercased()
        } else if let decoded = Base64.decode(text), decoded.count == bytes {
            hex = Hex.encode(decoded)
        }
        guard let hex, TraceIDs.isValid(hex, length: bytes * 2) else { return nil }
        return hex
    }

    /// `[{key, value: AnyValue}]` -> flat (name, value) pairs: a kvlist's members become
    /// `key.member`, so `{"http": {"status": 200}}` is stored as `http.status: 200`.
    static func attributes(_ raw: JSONValue?, prefix: String = "") -> [(String, AttributeValue)] {
        var out: [(String, AttributeValue)] = []
        for kv in raw?.arrayValue ?? [] {
            guard let key = kv["key"]?.stringValue, let value = kv["value"], case .object = value else { continue }
            let name = prefix + key
            if let list = value["kvlistValue"] {
                out += attributes(list["values"], prefix: name + ".")
            } else if let v = anyValue(value) {
                out.append((name, v))
            }
        }
        return out
    }

    /// One AnyValue; nil when empty (an unset value).
    static func anyValue(_ v: JSONValue) -> AttributeValue? {
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
        if let list = v["kvlistValue"] {
            return .object(attributes(list["values"]))
        }
        return nil
    }
}
