import ArcCore
import ArcHTTPServer
import Foundation

/// Decodes an OTLP/HTTP JSON ExportTraceServiceRequest (what OpenTelemetry SDKs send to
/// /v1/traces with the http/json protocol) into stored spans. Off the hot path, so
/// Foundation's JSON parser does the parsing; what is done here is the protobuf JSON
/// mapping: ids in hex (OTLP's rule) or base64 (the generic mapping), 64-bit integers as
/// strings or numbers, enums as numbers or names, and every AnyValue kind.
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
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(body), options: []) } catch {
            throw DecodeError(description: "the body is not JSON")
        }
        guard let request = object as? [String: Any] else {
            throw DecodeError(description: "the body is not a JSON object (an ExportTraceServiceRequest)")
        }
        var result = Result()
        for resourceSpans in request["resourceSpans"] as? [Any] ?? [] {
            guard let rs = resourceSpans as? [String: Any] else { throw DecodeError(description: "resourceSpans: expected objects") }
            let resource = attributes((rs["resource"] as? [String: Any])?["attributes"])
            var service: String?
            if case .scalar(.string(let name))? = resource.first(where: { $0.0 == "service.name" })?.1 { service = name }
            // scopeSpans; instrumentationLibrarySpans in OTLP before 0.15.
            let scopes = (rs["scopeSpans"] ?? rs["instrumentationLibrarySpans"]) as? [Any] ?? []
            for scope in scopes {
                let spans = (scope as? [String: Any])?["spans"] as? [Any] ?? []
                for raw in spans {
                    guard let span = raw as? [String: Any] else { throw DecodeError(description: "spans: expected objects") }
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

    static func decodeSpan(_ s: [String: Any], service: String?) throws -> StoredSpan {
        guard let traceID = id(s["traceId"], bytes: 16) else { throw DecodeError(description: "span with a bad traceId") }
        guard let spanID = id(s["spanId"], bytes: 8) else { throw DecodeError(description: "span with a bad spanId") }
        var parent: String?
        if let raw = s["parentSpanId"], !((raw as? String)?.isEmpty ?? false) {
            guard let p = id(raw, bytes: 8) else { throw DecodeError(description: "span with a bad parentSpanId") }
            parent = p
        }
        guard let start = int64(s["startTimeUnixNano"]), let end = int64(s["endTimeUnixNano"]) else {
            throw DecodeError(description: "span without startTimeUnixNano or endTimeUnixNano")
        }
        let status = s["status"] as? [String: Any]
        let code: SpanStatus
        switch status?["code"] {
        case let n as NSNumber: code = n.intValue == 1 ? .ok : n.intValue == 2 ? .error : .unset
        case let text as String: code = text == "STATUS_CODE_OK" ? .ok : text == "STATUS_CODE_ERROR" ? .error : .unset
        default: code = .unset
        }
        var attrs = attributes(s["attributes"])
        if let kind = kindName(s["kind"]) { attrs.insert(("span.kind", .scalar(.string(kind))), at: 0) }
        var events: [String] = []
        for raw in s["events"] as? [Any] ?? [] {
            guard let e = raw as? [String: Any], let time = int64(e["timeUnixNano"]) else { continue }
            var b = RecordBuilder(capacity: 128)
            b.begin()
            b.string("name", e["name"] as? String ?? "")
            b.string("time", WallClock.rfc3339(nanos: time))
            let eventAttributes = attributes(e["attributes"])
            if !eventAttributes.isEmpty { b.raw("attributes", AttributeValue.object(eventAttributes)) }
            b.end()
            events.append(String(decoding: b.bytes.dropLast(), as: UTF8.self))
        }
        let message = (status?["message"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return StoredSpan(traceID: traceID, spanID: spanID, parentSpanID: parent, name: s["name"] as? String ?? "",
                          service: service, startNanos: start, endNanos: max(end, start), status: code,
                          statusMessage: message,
                          attributesJSON: attrs.isEmpty ? nil : String(decoding: AttributeValue.object(attrs), as: UTF8.self),
                          eventsJSON: events.isEmpty ? nil : "[" + events.joined(separator: ",") + "]")
    }

    /// SPAN_KIND_INTERNAL (1) and unspecified (0) say nothing worth keeping.
    static func kindName(_ raw: Any?) -> String? {
        let names = [2: "server", 3: "client", 4: "producer", 5: "consumer"]
        switch raw {
        case let n as NSNumber: return names[n.intValue]
        case let text as String:
            let name = text.hasPrefix("SPAN_KIND_") ? String(text.dropFirst(10)).lowercased() : text.lowercased()
            return ["server", "client", "producer", "consumer"].contains(name) ? name : nil
        default: return nil
        }
    }

    /// A trace or span id: `bytes` bytes, in hex (OTLP/JSON) or base64 (the protobuf JSON
    /// mapping); lowercase hex out, nil when malformed or all zero.
    static func id(_ raw: Any?, bytes: Int) -> String? {
        guard let text = raw as? String else { return nil }
        var hex: String?
        if text.utf8.count == bytes * 2, text.utf8.allSatisfy({ isHexDigit($0) }) {
            hex = text.lowercased()
        } else if let data = Data(base64Encoded: text), data.count == bytes {
            hex = Hex.encode(data)
        }
        guard let hex, TraceIDs.isValid(hex, length: bytes * 2) else { return nil }
        return hex
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    }

    /// A 64-bit integer written as a string (the mapping's rule) or a number.
    static func int64(_ raw: Any?) -> Int64? {
        switch raw {
        case let text as String: return Int64(text)
        case let n as NSNumber: return n.int64Value
        default: return nil
        }
    }

    /// `[{key, value: AnyValue}]` -> flat (name, value) pairs: a kvlist's members become
    /// `key.member`, so `{"http": {"status": 200}}` is stored as `http.status: 200`.
    static func attributes(_ raw: Any?, prefix: String = "") -> [(String, AttributeValue)] {
        var out: [(String, AttributeValue)] = []
        for item in raw as? [Any] ?? [] {
            guard let kv = item as? [String: Any], let key = kv["key"] as? String else { continue }
            let name = prefix + key
            guard let value = kv["value"] as? [String: Any] else { continue }
            if let list = value["kvlistValue"] as? [String: Any] {
                out += attributes(list["values"], prefix: name + ".")
            } else if let v = anyValue(value) {
                out.append((name, v))
            }
        }
        return out
    }

    /// One AnyValue; nil when empty (an unset value).
    static func anyValue(_ v: [String: Any]) -> AttributeValue? {
        if let s = v["stringValue"] as? String { return .scalar(.string(s)) }
        if let b = v["boolValue"] { return .scalar(.bool((b as? NSNumber)?.boolValue ?? (b as? String == "true"))) }
        if let i = v["intValue"], let n = int64(i) { return .scalar(.int(n)) }
        if let d = v["doubleValue"] {
            if let n = d as? NSNumber { return .scalar(.double(n.doubleValue)) }
            if let text = d as? String, let n = Double(text) { return .scalar(.double(n)) }
        }
        if let bytes = v["bytesValue"] as? String { return .scalar(.string(bytes)) } // base64, as sent
        if let array = v["arrayValue"] as? [String: Any] {
            return .array((array["values"] as? [Any] ?? []).compactMap { ($0 as? [String: Any]).flatMap(anyValue) })
        }
        if let list = v["kvlistValue"] as? [String: Any] {
            return .object(attributes(list["values"]))
        }
        return nil
    }
}
